/**
 * `npm run bench`: the token endpoint of Latchkey (on PostgreSQL), node-oidc-provider and a bare
 * Fastify route, measured one after the other with the same autocannon settings.
 *
 * Environment:
 *   BENCH_DURATION       seconds measured per target and scenario (default 10)
 *   BENCH_WARMUP         seconds of discarded warm-up before each measurement (default 3)
 *   BENCH_CONNECTIONS    concurrent connections (default 20)
 *   BENCH_DATABASE_URL   PostgreSQL admin URL; a database latchkey_bench_<random> is created on
 *                        that server and dropped at the end (default postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_SCENARIOS      comma-separated scenario ids (default: all)
 *   BENCH_TARGETS        comma-separated target ids (default: all a scenario lists)
 *   BENCH_STRICT=1       also exit non-zero when a performance goal is missed
 *
 * Exit code: 0 when every request succeeded; 1 when a target failed to start or verify, or any
 * request got a non-2xx answer, an error or a timeout (warm-up included); 2 in strict mode when a
 * goal is missed; 130 on Ctrl-C.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { indent } from './lib/child.js';
import { installSignalHandlers, isInterrupted, onCleanup, runCleanup } from './lib/cleanup.js';
import { describeProblems, hasProblems, runLoad, type Measurement } from './lib/load.js';
import { DEFAULT_ADMIN_URL, redact } from './lib/postgres.js';
import { evaluateGoals, markdownSection, textTable, type ScenarioResult } from './lib/report.js';
import { mergeFixtures } from './fixtures.js';
import { SCENARIOS, type Scenario } from './scenarios/index.js';
import type { RequestSpec } from './scenarios/types.js';
import { TARGETS, type RunningTarget, type TargetId } from './targets.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(benchDir);

function intEnv(name: string, def: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`bench: ${name} must be a whole number from ${min} to ${max} (got "${raw}")\n`);
    process.exit(64);
  }
  return n;
}

function listEnv(name: string, known: readonly string[]): string[] | undefined {
  const raw = process.env[name]?.trim();
  if (!raw) return undefined;
  const ids = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = ids.filter((id) => !known.includes(id));
  if (unknown.length) {
    process.stderr.write(`bench: ${name}: unknown id(s) ${unknown.join(', ')}; known: ${known.join(', ')}\n`);
    process.exit(64);
  }
  return ids;
}

const settings = {
  durationSec: intEnv('BENCH_DURATION', 10, 1, 3600),
  warmupSec: intEnv('BENCH_WARMUP', 3, 0, 600),
  connections: intEnv('BENCH_CONNECTIONS', 20, 1, 10_000),
  adminDatabaseUrl: process.env.BENCH_DATABASE_URL || DEFAULT_ADMIN_URL,
  strict: ['1', 'true', 'yes'].includes(process.env.BENCH_STRICT ?? ''),
};

const log = (s = '') => process.stdout.write(`${s}\n`);
const LOUD = '!'.repeat(78);

async function verifyOnce(scenario: Scenario, id: TargetId, running: RunningTarget, req: RequestSpec): Promise<string> {
  const res = await fetch(running.baseUrl + req.path, {
    method: req.method,
    headers: req.headers,
    ...(req.body !== undefined ? { body: req.body } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  return scenario.verify(id, { status: res.status, headers: res.headers, body: await res.text() });
}

function machineLines(): string[] {
  const cpus = os.cpus();
  const models = [...new Set(cpus.map((c) => c.model.trim()))].join(' / ') || 'unknown CPU';
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return [
    `Machine: ${models}, ${cpus.length} logical CPU(s), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `OS: ${os.type()} ${os.release()} (${os.arch()}); Node ${process.version}; load average at start ${load}`,
  ];
}

async function main(): Promise<number> {
  installSignalHandlers();
  const scenarioIds = listEnv('BENCH_SCENARIOS', SCENARIOS.map((s) => s.id));
  const targetIds = listEnv('BENCH_TARGETS', TARGETS.map((t) => t.id));
  const scenarios = SCENARIOS.filter((s) => !scenarioIds || scenarioIds.includes(s.id));
  const wanted = (id: TargetId) => (!targetIds || targetIds.includes(id)) && scenarios.some((s) => s.targets.includes(id));
  const targets = TARGETS.filter((t) => wanted(t.id));

  const started = new Date();
  const machine = machineLines();
  const settingsLine =
    `Load: autocannon (in the bench process), ${settings.connections} connections, ` +
    `${settings.warmupSec} s warm-up (discarded) + ${settings.durationSec} s measured per target; each target in its own process`;
  log('Latchkey token endpoint benchmark');
  for (const l of machine) log(l);
  log(settingsLine);
  if (targets.some((t) => t.id === 'latchkey')) log(`PostgreSQL admin URL: ${redact(settings.adminDatabaseUrl)}`);
  log();

  const tmpDir = mkdtempSync(join(os.tmpdir(), 'latchkey-bench-'));
  onCleanup('remove temporary directory', () => rmSync(tmpDir, { recursive: true, force: true }));

  const failures: string[] = [];
  const details = new Map<TargetId, string>();
  const results: ScenarioResult[] = scenarios.map((scenario) => ({ scenario, byTarget: new Map() }));
  const fail = (r: ScenarioResult | undefined, id: TargetId, msg: string) => {
    failures.push(msg);
    r?.byTarget.set(id, { failed: msg });
    process.stderr.write(`\n${LOUD}\n${msg}\n${LOUD}\n\n`);
  };

  try {
    const fixtures = mergeFixtures(scenarios.map((s) => s.fixtures));
    for (const target of targets) {
      if (isInterrupted()) break;
      const mine = results.filter((r) => r.scenario.targets.includes(target.id));
      log(`== ${target.label}: starting…`);
      let running: RunningTarget;
      try {
        running = await target.start({ repoRoot, tmpDir, fixtures, adminDatabaseUrl: settings.adminDatabaseUrl });
      } catch (err) {
        for (const r of mine) r.byTarget.set(target.id, { failed: 'did not start' });
        fail(undefined, target.id, `${target.label} failed to start: ${(err as Error).message}`);
        continue;
      }
      details.set(target.id, running.details);
      log(`   ${running.details}; ${running.baseUrl} (pid ${running.child.pid})`);
      try {
        for (const r of mine) {
          if (isInterrupted()) break;
          const req = r.scenario.request(target.id);
          const tag = `${target.label} / ${r.scenario.id}`;
          try {
            log(`   [${r.scenario.id}] verify: ${await verifyOnce(r.scenario, target.id, running, req)}`);
          } catch (err) {
            fail(r, target.id, `${tag}: verification request failed: ${(err as Error).message}`);
            continue;
          }
          if (settings.warmupSec > 0) {
            const w = await runLoad(running.baseUrl, req, { connections: settings.connections, durationSec: settings.warmupSec });
            log(`   [${r.scenario.id}] warm-up: ${Math.round(w.rps)} req/s`);
            if (hasProblems(w)) fail(undefined, target.id, `${tag}: warm-up had ${describeProblems(w)}`);
          }
          const m: Measurement = await runLoad(running.baseUrl, req, { connections: settings.connections, durationSec: settings.durationSec });
          r.byTarget.set(target.id, m);
          log(`   [${r.scenario.id}] measured: ${Math.round(m.rps)} req/s, p50 ${m.p50.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms, ${m.completed} requests`);
          if (hasProblems(m)) fail(undefined, target.id, `${tag}: ${describeProblems(m)} during the measured run`);
          const exit = running.child.exitInfo();
          if (exit) fail(undefined, target.id, `${target.label} ${exit} during the run:\n${indent(running.child.output())}`);
        }
      } finally {
        await running.stop();
      }
      const out = running.child.output();
      if (out) log(`   ${target.label} output (tail):\n${indent(out.slice(-2000))}`);
    }
  } catch (err) {
    fail(undefined, 'latchkey', `bench aborted: ${(err as Error).stack ?? String(err)}`);
  } finally {
    await runCleanup();
  }

  // ---- report
  const header = [
    `## Token endpoint benchmark (\`npm run bench\`)`,
    '',
    `${started.toISOString().replace('T', ' ').slice(0, 16)} UTC. ${machine.join('. ')}.`,
    '',
    `${settingsLine}.`,
    '',
    ...targets.filter((t) => details.has(t.id)).map((t) => `- **${t.label}**: ${details.get(t.id)}`),
  ];
  const md = [...header];
  log();
  for (const r of results) {
    log(`=== ${r.scenario.title}`);
    log(textTable(r));
    log();
    md.push('', markdownSection(r));
  }
  const goalsMissed = results.flatMap((r) => evaluateGoals(r)).filter((g) => g.met === false);
  if (failures.length) {
    md.push('', '**This run had errors; its numbers are not valid:**', '', ...failures.map((f) => `- ${f.split('\n')[0]}`));
  }
  md.push('', 'Numbers from one machine and one run; compare the ratios, not the absolute values.', '');
  const resultsDir = join(benchDir, 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'latest.md'), md.join('\n'));
  log(`Markdown written to ${join('bench', 'results', 'latest.md')}`);

  if (failures.length) {
    process.stderr.write(`\n${LOUD}\nBENCH FAILED: ${failures.length} problem(s); the numbers above are not valid:\n`);
    for (const f of failures) process.stderr.write(`  - ${f.split('\n')[0]}\n`);
    process.stderr.write(`${LOUD}\n`);
    return 1;
  }
  if (goalsMissed.length) {
    log(`Goals missed: ${goalsMissed.map((g) => g.label).join('; ')}${settings.strict ? '' : ' (BENCH_STRICT=1 makes this fail the run)'}`);
    if (settings.strict) return 2;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    await runCleanup();
    process.exit(1);
  },
);
