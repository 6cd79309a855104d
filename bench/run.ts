/**
 * `npm run bench`: the token endpoint (and the sign-in POST) of Latchkey (on PostgreSQL, one
 * process and WORKERS=2), node-oidc-provider (in memory and on PostgreSQL), the signing ceiling (a
 * bare Fastify route that signs one ES256 JWT with crypto.sign) and a bare Fastify route, measured
 * with the same autocannon settings. The targets are described in bench/targets.ts.
 *
 * All targets run at once, each in its own child process. Per scenario, every target is verified
 * with one request and warmed up once; then the targets are measured in interleaved rounds, one
 * after the other within a round, in an order rotated each round (round 1: A B C, round 2: B C A,
 * round 3: C A B), so that load drifting on a shared machine hits every target alike and no target
 * always goes first. Ratios between targets are taken within each round; the report gives their
 * median (the number to compare) and min–max, and per target the median requests/s.
 *
 * Scenarios (bench/scenarios/, in report order): client_credentials; authorization_code (a fresh
 * code per request); refresh_token (a fresh refresh token per request, rotation on); jwt_bearer
 * (a fresh assertion per request); login (the argon2-bound sign-in POST, Latchkey only).
 *
 * Scenarios whose requests each spend a credential (codes, refresh tokens, assertions, pending
 * sign-ins) make them ahead ("stock" them: over HTTP for codes and sign-ins, in the bench process
 * for assertions) before the warm-up and before each measured run, never during one. Such a run
 * sends a fixed number of requests — the target's last measured rate × the round length — so it
 * cannot run out; requests/s is then the count over the time to the last answer. The stocking
 * time is logged and is not part of any number.
 *
 * Environment:
 *   BENCH_ROUNDS         interleaved rounds per scenario (default 3)
 *   BENCH_DURATION       seconds measured per target in each round (default: 5, or the
 *                        scenario's own — authorization_code 3; doubled when BENCH_ROUNDS=1)
 *   BENCH_WARMUP         seconds of discarded warm-up per target and scenario, before round 1 (default 3)
 *   BENCH_CONNECTIONS    concurrent connections (default 20; login 4)
 *   BENCH_DATABASE_URL   PostgreSQL admin URL; a database latchkey_bench_<random> is created on
 *                        that server and dropped at the end (default postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_SCENARIOS      comma-separated scenario ids (default: all)
 *   BENCH_TARGETS        comma-separated target ids: each scenario measures those of them it can
 *                        (default: each scenario's default subset; see the README's Benchmarks)
 *   BENCH_LOAD_NICE      niceness of the load generator's own process, used for the scenarios that
 *                        send one fixed request (client_credentials); 0–19, default 10
 *   BENCH_STRICT=1       also exit non-zero when a performance goal is missed (goals use the
 *                        median ratio across rounds and the p99 of the median round)
 *   BENCH_REFRESH_SINGLE_USE=1  refresh_token: one code-flow refresh token per request instead of
 *                        rotation chains (see scenarios/refresh-token.ts; minting then takes minutes)
 *   BENCH_LATCHKEY_NODE_ARGS  extra node flags for the Latchkey child, space-separated (e.g.
 *                        "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it under load)
 *
 * Each measured run also reports the CPU seconds of the target's process and its children (cluster
 * workers), of every PostgreSQL process on the machine (the databases work on the same cores) and
 * of the load generator; the tables give them as CPU µs per request. A table of every scenario's
 * goals, met or missed, comes first in the Markdown (bench/results/latest.md).
 *
 * Latchkey runs with AUTHORIZATION_CODE_TTL=600 (default 60 s), so that codes minted before a round
 * are still valid when it runs; node-oidc-provider likewise with 600 s codes.
 *
 * A default run (five scenarios, 13 scenario-target pairs) takes about 5 minutes on an idle 2-CPU
 * machine: start-up, and per scenario and target a 3 s warm-up and 3 rounds of 3–5 s, plus minting
 * codes (about as long again as exchanging them) for authorization_code and 1,000 seed refresh
 * tokens per target.
 * On a busy machine everything, minting included, slows down alike.
 *
 * Exit code: 0 when every request succeeded; 1 when a target failed to start or verify, died, or
 * any request got an answer other than the scenario's expected status (2xx; 303 for login), an
 * error or a timeout (warm-up included), or minting failed; 2 in strict mode when a goal is
 * missed; 130 on Ctrl-C.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { indent } from './lib/child.js';
import { flagSetting, intSetting, listSetting, optionalIntSetting, SettingError } from '../test/support/env.js';
import { exitOnInterrupt, runScript, type Teardown } from '../test/support/teardown.js';
import pg from 'pg';
import { describeProblems, hasProblems, runLoad, type Measurement } from './lib/load.js';
import { startLoadProcess, type LoadProcess } from './lib/load-process.js';
import { DEFAULT_ADMIN_URL, redact } from './lib/postgres.js';
import {
  evaluateGoals,
  fmtRate,
  goalsSummaryMarkdown,
  goalsSummaryTable,
  goalsSummaryText,
  markdownSection,
  textTable,
  type ScenarioResult,
  type TargetRuns,
} from './lib/report.js';
import { mergeFixtures } from './fixtures.js';
import { SCENARIOS, type Scenario } from './scenarios/index.js';
import type { RequestSpec, Workload } from './scenarios/types.js';
import { TARGETS, targetById, type RunningTarget, type TargetId } from './targets.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(benchDir);

/** The BENCH_* settings, all checked before anything starts: a bad one exits 64 with one line. */
function readSettings(env: NodeJS.ProcessEnv) {
  try {
    return {
      rounds: intSetting(env, 'BENCH_ROUNDS', 3, 1, 100),
      /** Set: every scenario uses it; unset: each scenario's own default (5 s unless it says; doubled for one round). */
      durationSec: optionalIntSetting(env, 'BENCH_DURATION', 1, 3600),
      warmupSec: intSetting(env, 'BENCH_WARMUP', 3, 0, 600),
      /** Set: every scenario uses it; unset: each scenario's own default (20 unless it says). */
      connections: optionalIntSetting(env, 'BENCH_CONNECTIONS', 1, 10_000),
      adminDatabaseUrl: env.BENCH_DATABASE_URL || DEFAULT_ADMIN_URL,
      strict: flagSetting(env, 'BENCH_STRICT'),
      refreshSingleUse: flagSetting(env, 'BENCH_REFRESH_SINGLE_USE'), // read by the refresh_token scenario
      scenarioIds: listSetting(
        env,
        'BENCH_SCENARIOS',
        SCENARIOS.map((s) => s.id),
      ),
      targetIds: listSetting(
        env,
        'BENCH_TARGETS',
        TARGETS.map((t) => t.id),
      ),
      /** Niceness of the load generator's own process (fixed-request scenarios); 0 leaves it as is. */
      loadNice: intSetting(env, 'BENCH_LOAD_NICE', 10, 0, 19),
    };
  } catch (err) {
    if (!(err instanceof SettingError)) throw err;
    process.stderr.write(`bench: ${err.message}\n`);
    process.exit(64);
  }
}

const settings = readSettings(process.env);

const log = (s = '') => process.stdout.write(`${s}\n`);
const LOUD = '!'.repeat(78);

async function verifyOnce(scenario: Scenario, id: TargetId, running: RunningTarget, req: RequestSpec): Promise<string> {
  const res = await fetch(running.baseUrl + req.path, {
    method: req.method,
    headers: req.headers,
    ...(req.body !== undefined ? { body: req.body } : {}),
    redirect: 'manual',
    signal: AbortSignal.timeout(10_000),
  });
  return scenario.verify(id, { status: res.status, headers: res.headers, body: await res.text(), request: req });
}

/**
 * A pooled workload (a fresh credential per request) is measured on a fixed number of requests
 * rather than a fixed time, so that it can never run out mid-run: its latest rate × the round's
 * length, made just before the run. The round then lasts about that long; requests/s is the
 * count over the time to the last answer.
 */
const pooledAmount = (rate: number, connections: number, durationSec: number) => Math.max(connections * 3, Math.ceil(rate * durationSec));

const connectionsFor = (scenario: Scenario) => settings.connections ?? scenario.connections ?? 20;
const durationFor = (scenario: Scenario) => settings.durationSec ?? (scenario.durationSec ?? 5) * (settings.rounds > 1 ? 1 : 2);

const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function machineLines(postgres: string | undefined): string[] {
  const cpus = os.cpus();
  const models = [...new Set(cpus.map((c) => c.model.trim()))].join(' / ') || 'unknown CPU';
  return [
    `Machine: ${models}, ${cpus.length} logical CPU(s), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `OS: ${os.type()} ${os.release()} (${os.arch()}); Node ${process.version}${postgres ? `; PostgreSQL ${postgres}` : ''}; load average at start ${loadAverage()}`,
  ];
}

/** The server version behind the admin URL, or why it could not be read (the targets then fail to start, saying so). */
async function postgresVersion(adminUrl: string): Promise<string> {
  const c = new pg.Client({ connectionString: adminUrl });
  try {
    await c.connect();
    return (await c.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  } catch (err) {
    return `unknown (${(err as Error).message})`;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Round `round` measures the targets in this order: the list rotated left by `round`. */
function rotated<T>(list: readonly T[], round: number): T[] {
  if (list.length === 0) return [];
  const k = round % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

const fmtRps = (n: number) => Math.round(n).toLocaleString('en-US');
const measurementLine = (m: Measurement) =>
  `${fmtRate(m.rps)} req/s, p50 ${m.p50.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms, ${fmtRps(m.completed)} requests` +
  (m.cpuSec !== undefined ? `, ${m.cpuSec.toFixed(1)} CPU-s` : '') +
  (m.dbCpuSec !== undefined && m.dbCpuSec >= 0.05 ? ` (+ PostgreSQL ${m.dbCpuSec.toFixed(1)})` : '') +
  (m.loadCpuSec !== undefined ? `; load generator ${m.loadCpuSec.toFixed(1)} CPU-s` : '');

async function main(teardown: Teardown): Promise<number> {
  const { interrupted: isInterrupted } = exitOnInterrupt('bench', teardown, 'stopping targets and dropping the database');
  const t0 = Date.now();
  const { scenarioIds, targetIds } = settings;
  const scenarios = SCENARIOS.filter((s) => !scenarioIds || scenarioIds.includes(s.id));
  /** A scenario measures the targets BENCH_TARGETS names among those it can, else its default subset. */
  const targetsOf = (s: Scenario) => (targetIds ? s.targets.filter((id) => targetIds.includes(id)) : (s.defaultTargets ?? s.targets));
  const targets = TARGETS.filter((t) => scenarios.some((s) => targetsOf(s).includes(t.id)));
  const usesPostgres = targets.some((t) => t.postgres === true);
  const fixedLoad = scenarios.some((s) => s.workload === undefined && targetsOf(s).length > 0);

  const started = new Date();
  const machine = machineLines(usesPostgres ? await postgresVersion(settings.adminDatabaseUrl) : undefined);
  const span = (xs: number[]) => {
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    return lo === hi ? String(lo) : `${lo}–${hi}`;
  };
  let generator: LoadProcess | undefined;
  if (fixedLoad) {
    generator = await startLoadProcess(settings.loadNice);
    const g = generator;
    teardown.add('stop the load generator', () => g.stop());
  }
  const where =
    (generator
      ? `in its own process at nice ${generator.niceness}${generator.niceness !== settings.loadNice ? ` (asked for ${settings.loadNice}: refused)` : ''} for ${scenarios
          .filter((s) => s.workload === undefined)
          .map((s) => s.id)
          .join(', ')}`
      : '') +
    (scenarios.some((s) => s.workload !== undefined)
      ? `${generator ? '; ' : ''}in the bench process, next to the pre-made credentials, for ${scenarios
          .filter((s) => s.workload !== undefined)
          .map((s) => s.id)
          .join(', ')}`
      : '');
  const settingsLine =
    `Load: autocannon (${where}), ${span(scenarios.map(connectionsFor))} connections (per scenario). All targets run at once, each in its own process; ` +
    `per scenario each target gets ${settings.warmupSec ? `one ${settings.warmupSec} s warm-up (discarded), then ` : ''}` +
    `${settings.rounds} interleaved round(s) of ${span(scenarios.map(durationFor))} s (per scenario), one target at a time, in an order rotated each round`;
  log('Latchkey token endpoint benchmark');
  for (const l of machine) log(l);
  log(settingsLine);
  if (usesPostgres) log(`PostgreSQL admin URL: ${redact(settings.adminDatabaseUrl)}`);
  log();

  const tmpDir = mkdtempSync(join(os.tmpdir(), 'latchkey-bench-'));
  teardown.add('remove temporary directory', () => rmSync(tmpDir, { recursive: true, force: true }));

  const failures: string[] = [];
  const details = new Map<TargetId, string>();
  const results: ScenarioResult[] = scenarios.map((scenario) => ({
    scenario,
    orders: [],
    connections: connectionsFor(scenario),
    byTarget: new Map(targetsOf(scenario).map((id): [TargetId, TargetRuns] => [id, { rounds: [] }])),
  }));
  /** Records a fatal problem; with `runs`, also marks that target as failed (its first failure is kept). */
  const fail = (msg: string, runs?: TargetRuns) => {
    failures.push(msg);
    if (runs) runs.failed ??= msg.split('\n')[0] ?? msg;
    // After Ctrl-C the targets are being stopped under the load generator: those errors are expected.
    if (!isInterrupted()) process.stderr.write(`\n${LOUD}\n${msg}\n${LOUD}\n\n`);
  };

  const running = new Map<TargetId, RunningTarget>();

  /**
   * Verification, one warm-up per target, then the interleaved rounds. A pooled workload (fresh
   * credential per request) is stocked before its warm-up and before each of its measured runs,
   * never during one.
   */
  async function runScenario(r: ScenarioResult): Promise<void> {
    const sid = r.scenario.id;
    const scenario = r.scenario;
    const connections = connectionsFor(scenario);
    const durationSec = durationFor(scenario);
    const loadOpts = (id: TargetId) => ({ connections, expectStatus: scenario.expectStatus, pid: running.get(id)?.child.pid, generator });
    const pooled = scenario.workload !== undefined;
    log(`== [${sid}] ${scenario.title}`);
    log(
      `   ${connections} connections; rounds of ${pooled ? `about ${durationSec} s (a fixed number of requests: the last rate × ${durationSec} s)` : `${durationSec} s`}`,
    );
    const active: TargetId[] = [];
    const loads = new Map<TargetId, RequestSpec | Workload>();
    /** Latest requests/s of each pooled target: sizes its next run. */
    const rate = new Map<TargetId, number>();

    /** Tops up a pooled workload; false (and the target marked failed) when minting failed. */
    async function stock(id: TargetId, w: Workload, count: number, when: string): Promise<boolean> {
      const label = targetById(id).label;
      const t = performance.now();
      const before = w.available();
      try {
        await w.stock(count);
      } catch (err) {
        fail(`${label} / ${sid}: making credentials ${when} failed: ${(err as Error).message}`, r.byTarget.get(id));
        return false;
      }
      const ms = performance.now() - t;
      if (ms > 1000)
        log(`     ${label}: stocked ${fmtRps(w.available() - before)} more ${when} in ${(ms / 1000).toFixed(1)} s (unmeasured)`);
      return true;
    }

    for (const [id, runs] of r.byTarget) {
      if (isInterrupted()) return;
      const rt = running.get(id);
      const label = targetById(id).label;
      if (!rt) {
        runs.failed ??= 'did not start';
        continue;
      }
      try {
        let req: RequestSpec | undefined;
        if (scenario.workload) {
          const w = await scenario.workload(id, { baseUrl: rt.baseUrl, connections });
          await w.stock(1);
          req = w.next();
          if (!req) throw new Error('the workload made no request');
          loads.set(id, w);
        } else {
          req = scenario.request(id);
          loads.set(id, req);
        }
        log(`   ${label}: verify: ${await verifyOnce(scenario, id, rt, req)}`);
        active.push(id);
      } catch (err) {
        fail(`${label} / ${sid}: verification failed: ${(err as Error).message}`, runs);
      }
    }

    for (const id of [...active]) {
      if (isInterrupted()) return;
      const label = targetById(id).label;
      const load = loads.get(id)!;
      const baseUrl = running.get(id)!.baseUrl;
      if ('path' in load) {
        if (settings.warmupSec === 0) continue;
        const w = await runLoad(baseUrl, load, { ...loadOpts(id), durationSec: settings.warmupSec });
        log(`   ${label}: warm-up: ${fmtRps(w.rps)} req/s`);
        if (hasProblems(w)) fail(`${label} / ${sid}: warm-up had ${describeProblems(w)}`, r.byTarget.get(id));
        continue;
      }
      // The rate is not known yet: warm up on fixed amounts, each sized from the last one's rate,
      // until the warm-up time is spent (at least one amount, to learn the rate).
      let spentMs = 0;
      let amount = connections * 2;
      let completed = 0;
      let ok = true;
      for (let pass = 0; pass === 0 || (spentMs < settings.warmupSec * 1000 && pass < 8); pass++) {
        if (!(await stock(id, load, amount, 'for the warm-up'))) {
          ok = false;
          break;
        }
        const w = await runLoad(baseUrl, load, { ...loadOpts(id), durationSec: 0, amount });
        completed += w.completed;
        spentMs += (w.completed / Math.max(w.rps, 1e-9)) * 1000;
        rate.set(id, w.rps);
        if (hasProblems(w)) {
          fail(`${label} / ${sid}: warm-up had ${describeProblems(w)}`, r.byTarget.get(id));
          break;
        }
        amount = Math.max(connections * 2, Math.ceil(w.rps * Math.max(0.5, settings.warmupSec - spentMs / 1000)));
      }
      if (!ok) {
        active.splice(active.indexOf(id), 1);
        continue;
      }
      log(`   ${label}: warm-up: ${fmtRate(rate.get(id) ?? 0)} req/s (${fmtRps(completed)} requests in ${(spentMs / 1000).toFixed(1)} s)`);
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
        const load = loads.get(id)!;
        let m: Measurement;
        if ('path' in load) {
          m = await runLoad(rt.baseUrl, load, { ...loadOpts(id), durationSec });
        } else {
          const amount = pooledAmount(rate.get(id) ?? 0, connections, durationSec);
          if (!(await stock(id, load, amount, `for round ${round + 1}`))) continue;
          m = await runLoad(rt.baseUrl, load, { ...loadOpts(id), durationSec: 0, amount });
          if (!hasProblems(m)) rate.set(id, m.rps);
        }
        runs.rounds[round] = m;
        log(`     ${label.padEnd(width)}  ${measurementLine(m)}`);
        if (hasProblems(m)) fail(`${label} / ${sid}: ${describeProblems(m)} in measured round ${round + 1}`, runs);
        const exit = rt.child.exitInfo();
        if (exit) fail(`${label} ${exit} during round ${round + 1}:\n${indent(rt.child.output())}`, runs);
      }
    }
    for (const id of active) {
      const load = loads.get(id)!;
      const line = 'path' in load ? undefined : load.describeStocking?.();
      if (line) log(`   ${targetById(id).label}: ${line}`);
    }
  }

  try {
    const fixtures = mergeFixtures(scenarios.map((s) => s.fixtures));
    for (const target of targets) {
      if (isInterrupted()) break;
      log(`== ${target.label}: starting…`);
      try {
        const rt = await target.start({ repoRoot, tmpDir, fixtures, adminDatabaseUrl: settings.adminDatabaseUrl, teardown });
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
    await teardown.run();
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
  const summary = goalsSummaryTable(results);
  if (summary) {
    md.push('', '### Goals', '', goalsSummaryMarkdown(summary));
  }
  log();
  for (const r of results) {
    log(`=== ${r.scenario.title}`);
    log(textTable(r));
    log();
    md.push('', markdownSection(r));
  }
  const goalsMissed = results.flatMap((r) =>
    evaluateGoals(r)
      .filter((g) => g.met === false)
      .map((g) => ({ ...g, label: `${r.scenario.id}: ${g.label}` })),
  );
  if (summary) {
    log('=== Goals (median ratios across rounds; p99 of the median round)');
    log(goalsSummaryText(summary));
    log();
  }
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

runScript('bench', main);
