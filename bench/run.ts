/**
 * `npm run bench`: the token endpoint of Latchkey (on PostgreSQL), node-oidc-provider and a bare
 * Fastify route, measured with the same autocannon settings.
 *
 * All targets run at once, each in its own child process. Per scenario, every target is verified
 * with one request and warmed up once; then the targets are measured in interleaved rounds, one
 * after the other within a round, in an order rotated each round (round 1: A B C, round 2: B C A,
 * round 3: C A B), so that load drifting on a shared machine hits every target alike and no target
 * always goes first. Ratios between targets are taken within each round; the report gives their
 * median (the number to compare) and min–max, and per target the median requests/s.
 *
 * Environment:
 *   BENCH_ROUNDS         interleaved rounds per scenario (default 3)
 *   BENCH_DURATION       seconds measured per target in each round (default 5; 10 when BENCH_ROUNDS=1)
 *   BENCH_WARMUP         seconds of discarded warm-up per target and scenario, before round 1 (default 3)
 *   BENCH_CONNECTIONS    concurrent connections (default 20)
 *   BENCH_DATABASE_URL   PostgreSQL admin URL; a database latchkey_bench_<random> is created on
 *                        that server and dropped at the end (default postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_SCENARIOS      comma-separated scenario ids (default: all)
 *   BENCH_TARGETS        comma-separated target ids (default: all a scenario lists)
 *   BENCH_STRICT=1       also exit non-zero when a performance goal is missed (goals use the
 *                        median ratio across rounds and the p99 of the median round)
 *
 * A default run (one scenario, three targets) takes about 1 to 1.5 minutes: start-up, 3 × 3 s of
 * warm-up and 3 rounds × 3 targets × 5 s.
 *
 * Exit code: 0 when every request succeeded; 1 when a target failed to start or verify, died, or
 * any request got a non-2xx answer, an error or a timeout (warm-up included); 2 in strict mode
 * when a goal is missed; 130 on Ctrl-C.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { indent } from './lib/child.js';
import { installSignalHandlers, isInterrupted, onCleanup, runCleanup } from './lib/cleanup.js';
import { describeProblems, hasProblems, runLoad, type Measurement } from './lib/load.js';
import { DEFAULT_ADMIN_URL, redact } from './lib/postgres.js';
import { evaluateGoals, markdownSection, textTable, type ScenarioResult, type TargetRuns } from './lib/report.js';
import { mergeFixtures } from './fixtures.js';
import { SCENARIOS, type Scenario } from './scenarios/index.js';
import type { RequestSpec } from './scenarios/types.js';
import { TARGETS, targetById, type RunningTarget, type TargetId } from './targets.js';

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

const rounds = intEnv('BENCH_ROUNDS', 3, 1, 100);
const settings = {
  rounds,
  durationSec: intEnv('BENCH_DURATION', rounds > 1 ? 5 : 10, 1, 3600),
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

const loadAverage = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

function machineLines(): string[] {
  const cpus = os.cpus();
  const models = [...new Set(cpus.map((c) => c.model.trim()))].join(' / ') || 'unknown CPU';
  return [
    `Machine: ${models}, ${cpus.length} logical CPU(s), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `OS: ${os.type()} ${os.release()} (${os.arch()}); Node ${process.version}; load average at start ${loadAverage()}`,
  ];
}

/** Round `round` measures the targets in this order: the list rotated left by `round`. */
function rotated<T>(list: readonly T[], round: number): T[] {
  if (list.length === 0) return [];
  const k = round % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

const fmtRps = (n: number) => Math.round(n).toLocaleString('en-US');
const measurementLine = (m: Measurement) =>
  `${fmtRps(m.rps)} req/s, p50 ${m.p50.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms, ${fmtRps(m.completed)} requests`;

async function main(): Promise<number> {
  installSignalHandlers();
  const t0 = Date.now();
  const scenarioIds = listEnv('BENCH_SCENARIOS', SCENARIOS.map((s) => s.id));
  const targetIds = listEnv('BENCH_TARGETS', TARGETS.map((t) => t.id));
  const scenarios = SCENARIOS.filter((s) => !scenarioIds || scenarioIds.includes(s.id));
  const wanted = (id: TargetId) => (!targetIds || targetIds.includes(id)) && scenarios.some((s) => s.targets.includes(id));
  const targets = TARGETS.filter((t) => wanted(t.id));

  const started = new Date();
  const machine = machineLines();
  const settingsLine =
    `Load: autocannon (in the bench process), ${settings.connections} connections. All targets run at once, each in its own process; ` +
    `per scenario each target gets ${settings.warmupSec ? `one ${settings.warmupSec} s warm-up (discarded), then ` : ''}` +
    `${settings.rounds} interleaved round(s) of ${settings.durationSec} s, one target at a time, in an order rotated each round`;
  log('Latchkey token endpoint benchmark');
  for (const l of machine) log(l);
  log(settingsLine);
  if (targets.some((t) => t.id === 'latchkey')) log(`PostgreSQL admin URL: ${redact(settings.adminDatabaseUrl)}`);
  log();

  const tmpDir = mkdtempSync(join(os.tmpdir(), 'latchkey-bench-'));
  onCleanup('remove temporary directory', () => rmSync(tmpDir, { recursive: true, force: true }));

  const failures: string[] = [];
  const details = new Map<TargetId, string>();
  const results: ScenarioResult[] = scenarios.map((scenario) => ({
    scenario,
    orders: [],
    byTarget: new Map(scenario.targets.filter((id) => targets.some((t) => t.id === id)).map((id): [TargetId, TargetRuns] => [id, { rounds: [] }])),
  }));
  /** Records a fatal problem; with `runs`, also marks that target as failed (its first failure is kept). */
  const fail = (msg: string, runs?: TargetRuns) => {
    failures.push(msg);
    if (runs) runs.failed ??= msg.split('\n')[0];
    // After Ctrl-C the targets are being stopped under the load generator: those errors are expected.
    if (!isInterrupted()) process.stderr.write(`\n${LOUD}\n${msg}\n${LOUD}\n\n`);
  };

  const running = new Map<TargetId, RunningTarget>();

  /** Verification, one warm-up per target, then the interleaved rounds. */
  async function runScenario(r: ScenarioResult): Promise<void> {
    const sid = r.scenario.id;
    log(`== [${sid}] ${r.scenario.title}`);
    const active: TargetId[] = [];
    for (const [id, runs] of r.byTarget) {
      if (isInterrupted()) return;
      const rt = running.get(id);
      const label = targetById(id).label;
      if (!rt) {
        runs.failed ??= 'did not start';
        continue;
      }
      try {
        log(`   ${label}: verify: ${await verifyOnce(r.scenario, id, rt, r.scenario.request(id))}`);
        active.push(id);
      } catch (err) {
        fail(`${label} / ${sid}: verification request failed: ${(err as Error).message}`, runs);
      }
    }
    if (settings.warmupSec > 0) {
      for (const id of active) {
        if (isInterrupted()) return;
        const label = targetById(id).label;
        const w = await runLoad(running.get(id)!.baseUrl, r.scenario.request(id), { connections: settings.connections, durationSec: settings.warmupSec });
        log(`   ${label}: warm-up: ${fmtRps(w.rps)} req/s`);
        if (hasProblems(w)) fail(`${label} / ${sid}: warm-up had ${describeProblems(w)}`, r.byTarget.get(id));
      }
    }
    const width = Math.max(0, ...active.map((id) => targetById(id).label.length));
    for (let round = 0; round < settings.rounds; round++) {
      if (isInterrupted()) return;
      // A target that died is left out of later rounds; one that merely had bad answers stays in.
      const order = rotated(active, round).filter((id) => !running.get(id)!.child.exitInfo());
      if (order.length === 0) return;
      r.orders.push(order);
      log(`   round ${round + 1}/${settings.rounds}: ${order.join(' → ')}`);
      for (const id of order) {
        if (isInterrupted()) return;
        const rt = running.get(id)!;
        const runs = r.byTarget.get(id)!;
        const label = targetById(id).label;
        const dead = rt.child.exitInfo();
        if (dead) {
          fail(`${label} ${dead} before its turn in round ${round + 1}:\n${indent(rt.child.output())}`, runs);
          continue;
        }
        const m = await runLoad(rt.baseUrl, r.scenario.request(id), { connections: settings.connections, durationSec: settings.durationSec });
        runs.rounds[round] = m;
        log(`     ${label.padEnd(width)}  ${measurementLine(m)}`);
        if (hasProblems(m)) fail(`${label} / ${sid}: ${describeProblems(m)} in measured round ${round + 1}`, runs);
        const exit = rt.child.exitInfo();
        if (exit) fail(`${label} ${exit} during round ${round + 1}:\n${indent(rt.child.output())}`, runs);
      }
    }
  }

  try {
    const fixtures = mergeFixtures(scenarios.map((s) => s.fixtures));
    for (const target of targets) {
      if (isInterrupted()) break;
      log(`== ${target.label}: starting…`);
      try {
        const rt = await target.start({ repoRoot, tmpDir, fixtures, adminDatabaseUrl: settings.adminDatabaseUrl });
        running.set(target.id, rt);
        details.set(target.id, rt.details);
        log(`   ${rt.details}; ${rt.baseUrl} (pid ${rt.child.pid})`);
      } catch (err) {
        const msg = `${target.label} failed to start: ${(err as Error).message}`;
        fail(msg);
        for (const r of results) {
          const runs = r.byTarget.get(target.id);
          if (runs) runs.failed = 'did not start';
        }
      }
    }
    log();
    for (const r of results) {
      if (isInterrupted()) break;
      await runScenario(r);
      log();
    }
  } catch (err) {
    fail(`bench aborted: ${(err as Error).stack ?? String(err)}`);
  } finally {
    for (const [id, rt] of running) {
      const label = targetById(id).label;
      try {
        await rt.stop();
      } catch (err) {
        fail(`stopping ${label} failed: ${(err as Error).message}`);
      }
      const out = rt.child.output();
      if (out) log(`${label} output (tail):\n${indent(out.slice(-2000))}`);
    }
    await runCleanup();
  }

  // ---- report
  const elapsedSec = Math.round((Date.now() - t0) / 1000);
  const loadAtEnd = loadAverage();
  const header = [
    `## Token endpoint benchmark (\`npm run bench\`)`,
    '',
    `${started.toISOString().replace('T', ' ').slice(0, 16)} UTC. ${machine.join('. ')}; at end ${loadAtEnd}.`,
    '',
    `${settingsLine}. Whole run: ${elapsedSec} s.`,
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
  md.push(
    '',
    'Numbers from one machine and one run. The targets take turns in interleaved rounds (order rotated each round), ' +
      'so drifting load on the machine affects them alike; ratios are computed within each round, and the median ' +
      'ratio across rounds is the number to compare (min–max shows how far the rounds disagreed). ' +
      'Absolute requests/s depend on the machine.',
    '',
  );
  const resultsDir = join(benchDir, 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'latest.md'), md.join('\n'));
  log(`Markdown written to ${join('bench', 'results', 'latest.md')}`);
  log(`Whole run: ${elapsedSec} s; load average at end ${loadAtEnd}`);

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
