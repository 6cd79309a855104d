/**
 * `npm run soak`: a mixed load against one Latchkey process on PostgreSQL for a configurable time,
 * then a report of requests, unexpected errors and p50/p99 per endpoint (overall and per minute)
 * and of the server's resident memory, checked against the targets:
 *
 *   - zero unexpected errors (any non-2xx, transport error or wrong 2xx body; the mix expects none)
 *   - resident memory (VmRSS of the server process) grows < 10 % from the end of warm-up to the end
 *   - p99 steady: for every endpoint of the mix, the p99 of the last minute is at most 2× the p99
 *     of the first minute after warm-up
 *
 * The mix (weights by default): client_credentials with client_secret_basic 40, authorization
 * code exchange 15 (codes minted continuously by a background minter, see flows.ts), refresh 15
 * (rotating chains), introspection of issued access tokens 20, JWKS 10.
 *
 * Environment:
 *   SOAK_DURATION       seconds of load (default 300)
 *   SOAK_CONNECTIONS    concurrent keep-alive connections of the mix (default 16)
 *   SOAK_WARMUP         seconds at the start left out of latency percentiles and the memory
 *                       baseline (default: 30 s or 10 % of the duration, whichever is longer,
 *                       but at most half the run)
 *   SOAK_MIX            weights, e.g. "cc=40,code=15,refresh=15,introspect=20,jwks=10"
 *   SOAK_MINTERS        most concurrent requests of the code minter (default connections / 2, at least 4)
 *   SOAK_CHAINS         most refresh chains kept going at once (default 4 × connections)
 *   SOAK_DATABASE_URL   PostgreSQL admin URL; a fresh database is created there and dropped at the
 *                       end (default postgres://postgres@127.0.0.1:5432/postgres)
 *
 * Exit code: 0 when every target is met; 1 when one is missed or the run failed (server did not
 * start or died, setup failed); 64 on a bad setting; 130/143 on SIGINT/SIGTERM (cleanup done).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { indent } from '../bench/lib/child.js';
import { intSetting, SettingError } from '../test/support/env.js';
import { exitOnInterrupt, runScript, type Teardown } from '../test/support/teardown.js';
import { DEFAULT_ADMIN_URL, redact } from '../bench/lib/postgres.js';
import { ChainPool, CodePool, TokenRing, mintCode, signIn, startMinter } from './flows.js';
import { HttpClient } from './http.js';
import { exchangeCode, OP_LABELS, OPERATIONS, operations, parseMix, runWorkers, type MixContext, type OpId } from './load.js';
import { startLatchkey, type RunningServer } from './server.js';
import { EndpointStats, fmtInt, fmtMiB, fmtMs, markdownTable, reportWindows, textTable, type Table, type Window } from './stats.js';

const soakDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(soakDir);

const RSS_GROWTH_LIMIT_PCT = 10;
const P99_RATIO_LIMIT = 2;
const MIN_SAMPLES_FOR_P99 = 100;

/** The SOAK_* settings, all checked before anything starts: a bad one exits 64 with one line. */
function readSettings(env: NodeJS.ProcessEnv) {
  try {
    const durationSec = intSetting(env, 'SOAK_DURATION', 300, 10, 7 * 86400);
    const connections = intSetting(env, 'SOAK_CONNECTIONS', 16, 1, 1000);
    return {
      durationSec,
      connections,
      warmupSec: intSetting(
        env,
        'SOAK_WARMUP',
        Math.min(Math.max(30, Math.round(durationSec / 10)), Math.floor(durationSec / 2)),
        0,
        durationSec - 4,
      ),
      minters: intSetting(env, 'SOAK_MINTERS', Math.max(4, Math.ceil(connections / 2)), 1, 1000),
      chainCap: intSetting(env, 'SOAK_CHAINS', 4 * connections, 1, 100_000),
      adminDatabaseUrl: env.SOAK_DATABASE_URL || DEFAULT_ADMIN_URL,
      mix: parseMix(env.SOAK_MIX),
    };
  } catch (err) {
    if (!(err instanceof SettingError)) throw err;
    process.stderr.write(`soak: ${err.message}\n`);
    process.exit(64);
  }
}

const { durationSec, connections, warmupSec, minters, chainCap, adminDatabaseUrl, mix } = readSettings(process.env);
/** The per-minute windows; shorter when the run leaves fewer than two minutes after warm-up. */
const intervalSec = Math.min(60, (durationSec - warmupSec) / 2);

const log = (s = '') => process.stdout.write(`${s}\n`);
const LOUD = '!'.repeat(78);
const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

// ---- report

interface Section {
  title: string;
  table?: Table;
  lines?: string[];
}

function render(sections: Section[], md: boolean): string {
  return sections
    .map((s) => {
      const body = [...(s.lines ?? []), ...(s.table ? [md ? markdownTable(s.table) : textTable(s.table)] : [])];
      const sep = md ? '\n\n' : '\n';
      return (md ? `### ${s.title}\n\n` : `== ${s.title}\n`) + body.join(sep);
    })
    .join('\n\n');
}

interface RssSample {
  t: number;
  kb: number;
}

async function main(teardown: Teardown): Promise<number> {
  // interrupted() is asked after each await: a signal can arrive at any await, which TypeScript's narrowing cannot know.
  const { interrupted } = exitOnInterrupt('soak', teardown, 'stopping Latchkey and dropping the database');
  const started = new Date();
  const cpus = os.cpus();
  const machine =
    `${[...new Set(cpus.map((c) => c.model.trim()))].join(' / ') || 'unknown CPU'}, ${cpus.length} logical CPU(s), ` +
    `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM; ${os.type()} ${os.release()}; Node ${process.version}`;
  const loadAtStart = loadAverage();
  const mixLine = OPERATIONS.filter((o) => mix[o] > 0)
    .map((o) => `${o} ${mix[o]}`)
    .join(' / ');
  const settingsLine =
    `${durationSec} s of load (warm-up ${warmupSec} s), ${connections} keep-alive connections, mix ${mixLine}; ` +
    `code minter ${minters} loop(s) keeping ${2 * connections} codes ready; at most ${chainCap} refresh chains`;
  log('Latchkey soak');
  log(`Machine: ${machine}; load average at start ${loadAtStart}`);
  log(`Settings: ${settingsLine}`);
  log(`PostgreSQL admin URL: ${redact(adminDatabaseUrl)}`);

  const tmpDir = mkdtempSync(join(os.tmpdir(), 'latchkey-soak-'));
  teardown.add('remove temporary directory', () => rmSync(tmpDir, { recursive: true, force: true }));

  const failures: string[] = [];
  const fail = (msg: string) => {
    failures.push(msg);
    if (!interrupted()) process.stderr.write(`\n${LOUD}\n${msg}\n${LOUD}\n\n`);
  };

  let server: RunningServer;
  try {
    server = await startLatchkey({ repoRoot, tmpDir, adminDatabaseUrl, teardown });
  } catch (err) {
    if (interrupted()) return new Promise(() => {}); // the signal handler exits
    fail(`Latchkey failed to start: ${(err as Error).message}`);
    await teardown.run();
    return 1;
  }
  const pid = server.child.pid!;
  log(`Latchkey pid ${pid} at ${server.baseUrl}; PostgreSQL ${server.serverVersion}, fresh database ${server.databaseName}`);

  const stats = Object.fromEntries(OPERATIONS.map((o) => [o, new EndpointStats(o, OP_LABELS[o])])) as Record<OpId, EndpointStats>;
  const minterStats = new EndpointStats('authorize', OP_LABELS.authorize);
  const client = new HttpClient(server.baseUrl, connections);
  const minterClient = new HttpClient(server.baseUrl, minters);
  teardown.add('close HTTP connections', () => {
    client.close();
    minterClient.close();
  });
  const codes = new CodePool();
  const chains = new ChainPool(chainCap);
  const ring = new TokenRing(2048);
  const ctx: MixContext = { client, creds: server.creds, codes, chains, ring };

  const rss: RssSample[] = [];
  let rssStart: number | undefined;
  let rssWarm: number | undefined;
  let rssEnd: number | undefined;
  let aborted: string | undefined;
  let loadStart = 0;
  let endedAt = 0;
  let dbBytes: number | undefined;

  try {
    // ---- setup (not recorded): sign in once, start the first chains, fill the token ring.
    const { jar, first } = await signIn(minterClient, server.baseUrl, server.creds);
    const seed = async (c: { code: string; verifier: string; mintedAt: number }) => {
      const r = await exchangeCode(ctx, c);
      if (r.outcome.kind !== 'ok') throw new Error(`setup: code exchange failed: ${JSON.stringify(r.outcome).slice(0, 500)}`);
    };
    await seed(first);
    while (chains.live < Math.min(chainCap, connections)) {
      const m = await mintCode(minterClient, jar, server.creds.web.id);
      if (!m.minted) throw new Error(`setup: minting a code failed: ${JSON.stringify(m.outcome).slice(0, 500)}`);
      await seed(m.minted);
    }
    // Codes ready before the clock starts, so the first requests do not wait for the minter.
    await Promise.all(
      Array.from({ length: minters }, async () => {
        while (codes.size < 2 * connections) {
          const m = await mintCode(minterClient, jar, server.creds.web.id);
          if (!m.minted) throw new Error(`setup: minting a code failed: ${JSON.stringify(m.outcome).slice(0, 500)}`);
          codes.put(m.minted);
        }
      }),
    );
    log(`Signed in once; ${chains.live} refresh chains started, ${codes.size} codes ready. Running ${durationSec} s…`);

    // ---- the run
    rssStart = server.rssKb();
    loadStart = performance.now();
    const deadline = loadStart + durationSec * 1000;
    const now = () => Math.min((performance.now() - loadStart) / 1000, durationSec - 1e-6);
    let stopMinter = false;
    const stopped = () => interrupted() || aborted !== undefined;

    const sampler = setInterval(() => {
      const exit = server.child.exitInfo();
      if (exit && !aborted) {
        aborted = `Latchkey ${exit} during the run:\n${indent(server.child.output().slice(-3000))}`;
        codes.close();
        chains.close();
        return;
      }
      const kb = server.rssKb();
      if (kb !== undefined) rss.push({ t: (performance.now() - loadStart) / 1000, kb });
    }, 1000);
    const warmTimer = setTimeout(() => (rssWarm = server.rssKb()), warmupSec * 1000);
    let lastTotal = 0;
    const progress = setInterval(() => {
      const t = (performance.now() - loadStart) / 1000;
      const total = OPERATIONS.reduce((s, o) => s + stats[o].requests, 0);
      const errs = OPERATIONS.reduce((s, o) => s + stats[o].unexpected, 0) + minterStats.unexpected;
      const kb = rss.at(-1)?.kb;
      log(
        `  ${Math.round(t)} s: ${fmtInt(total - lastTotal)} requests in the last 10 s, ${fmtInt(total)} in all, ${errs} unexpected error(s), RSS ${fmtMiB(kb)}, load average ${loadAverage()}`,
      );
      lastTotal = total;
    }, 10_000);

    const minter = startMinter({
      client: minterClient,
      jar,
      clientId: server.creds.web.id,
      pool: codes,
      target: 2 * connections,
      concurrency: minters,
      stats: minterStats,
      now,
      stopped: () => stopMinter || stopped(),
    });
    const endTimer = setTimeout(() => {
      rssEnd = server.rssKb();
      endedAt = performance.now();
      // Release workers waiting for a code or a chain: the run is over.
      codes.close();
      chains.close();
    }, durationSec * 1000);
    await runWorkers({ connections, mix, ops: operations(ctx), stats, deadline, now, stopped });
    stopMinter = true;
    await minter;
    clearInterval(sampler);
    clearInterval(progress);
    clearTimeout(warmTimer);
    clearTimeout(endTimer);
    if (!endedAt) endedAt = performance.now();
    rssEnd ??= server.rssKb();
    if (interrupted()) return await new Promise(() => {}); // the signal handler cleans up and exits
    if (aborted) fail(aborted);
    else dbBytes = await server.databaseBytes().catch(() => undefined);
  } catch (err) {
    if (interrupted()) return await new Promise(() => {});
    fail(`soak aborted: ${(err as Error).stack ?? String(err)}`);
  } finally {
    if (!interrupted()) {
      try {
        await server.stop();
      } catch (err) {
        fail(`stopping Latchkey failed: ${(err as Error).message}`);
      }
      const out = server.child.output();
      if (out) log(`Latchkey output (tail):\n${indent(out.slice(-2000))}`);
      await teardown.run();
    }
  }
  if (interrupted()) return new Promise(() => {});

  // ---- report
  const loadAtEnd = loadAverage();
  const ranSec = endedAt && loadStart ? (endedAt - loadStart) / 1000 : 0;
  const { rows: windows, first, last } = reportWindows(durationSec, warmupSec, intervalSec);
  const all: EndpointStats[] = [...OPERATIONS.filter((o) => mix[o] > 0).map((o) => stats[o]), minterStats];
  const mixTotal = OPERATIONS.reduce((s, o) => s + stats[o].requests, 0);
  const unexpected = all.reduce((s, e) => s + e.unexpected, 0);
  const sections: Section[] = [];

  const endpointRows = all.map((e) => {
    const l = e.latency(warmupSec, Infinity);
    const share = e.id === 'authorize' ? '(extra)' : mixTotal ? `${((100 * e.requests) / mixTotal).toFixed(1)} %` : '–';
    return [
      e.label,
      fmtInt(e.requests),
      share,
      ranSec ? fmtInt(e.requests / ranSec) : '–',
      e.unexpected ? `${fmtInt(e.unexpected)} (${e.describeUnexpected()})` : '0',
      fmtMs(l.p50),
      fmtMs(l.p99),
      fmtMs(l.max),
    ];
  });
  endpointRows.push([
    'mix total',
    fmtInt(mixTotal),
    '100 %',
    ranSec ? fmtInt(mixTotal / ranSec) : '–',
    fmtInt(unexpected - minterStats.unexpected),
    '',
    '',
    '',
  ]);
  sections.push({
    title: 'Requests and latency per endpoint',
    lines: [
      `Requests and unexpected errors: the whole run. Latency (ms, from sending to the last byte of the answer): after warm-up (${warmupSec}–${durationSec} s).`,
    ],
    table: { header: ['Endpoint', 'Requests', 'Share', 'req/s', 'Unexpected errors', 'p50 ms', 'p99 ms', 'max ms'], rows: endpointRows },
  });

  const rssAt = (t: number) => rss.filter((s) => s.t <= t + 0.5).at(-1)?.kb;
  const shortName: Record<string, string> = {
    client_credentials: 'client_cred.',
    authorization_code: 'code exch.',
    refresh_token: 'refresh',
    introspect: 'introspect',
    jwks: 'jwks',
    authorize: 'minter',
  };
  const windowRow = (w: Window) => {
    const n = all.filter((e) => e.id !== 'authorize').reduce((s, e) => s + e.countIn(w.from, w.to), 0);
    return [
      w.label,
      fmtInt(n / (w.to - w.from)),
      ...all.map((e) => {
        const l = e.latency(w.from, w.to);
        return l.count ? `${fmtMs(l.p50)} / ${fmtMs(l.p99)}` : '–';
      }),
      fmtMiB(rssAt(w.to)),
    ];
  };
  sections.push({
    title: `p50 / p99 latency (ms) per ${intervalSec === 60 ? 'minute' : `${intervalSec} s window`}`,
    lines: intervalSec === 60 ? [] : [`(windows of ${intervalSec} s: the run leaves less than two minutes after warm-up)`],
    table: { header: ['Window', 'mix req/s', ...all.map((e) => shortName[e.id]!), 'RSS at end'], rows: windows.map(windowRow) },
  });

  const peak =
    Math.max(0, ...rss.map((s) => s.kb), ...[rssStart, rssWarm, rssEnd].filter((x): x is number => x !== undefined)) || undefined;
  const medianRss = (w: Window) => {
    const xs = rss
      .filter((s) => s.t >= w.from && s.t < w.to + 0.5)
      .map((s) => s.kb)
      .sort((a, b) => a - b);
    return xs.length ? xs[(xs.length - 1) >> 1] : undefined;
  };
  const growthPct = rssWarm && rssEnd ? ((rssEnd - rssWarm) / rssWarm) * 100 : undefined;
  const fmtPct = (p: number | undefined) => (p === undefined ? 'n/a' : `${p >= 0 ? '+' : ''}${p.toFixed(1)} %`);
  sections.push({
    title: `Server memory (VmRSS of pid ${pid}, /proc/${pid}/status)`,
    table: {
      header: ['At', 'RSS'],
      rows: [
        ['start (ready, before load)', fmtMiB(rssStart)],
        [`after warm-up (${warmupSec} s)`, fmtMiB(rssWarm)],
        [`end (${durationSec} s)`, fmtMiB(rssEnd)],
        ['peak (1 s samples)', fmtMiB(peak)],
        ['growth after warm-up (end vs after warm-up)', fmtPct(growthPct)],
        [`for comparison: median of the 1 s samples, ${first.label}`, fmtMiB(medianRss(first))],
        [`for comparison: median of the 1 s samples, ${last.label}`, fmtMiB(medianRss(last))],
      ],
    },
  });

  sections.push({
    title: 'Credentials',
    lines: [
      `Codes: ${fmtInt(minterStats.ok)} minted by the minter; ${fmtInt(stats.authorization_code.ok)} exchanged; ${fmtInt(codes.discardedStale)} discarded as older than 30 s; ` +
        `${fmtInt(codes.waits)} time(s) a worker waited for a code (${(codes.waitedMs / 1000).toFixed(1)} s in all, not counted as latency).`,
      `Refresh chains: ${fmtInt(chains.started)} started (cap ${chainCap}), ${fmtInt(chains.lost)} broken by a failed refresh, longest chain ${fmtInt(chains.maxRefreshes)} rotations; ` +
        `${fmtInt(chains.dropped)} further refresh tokens from code exchanges left unused; ${fmtInt(chains.waits)} wait(s) for an idle chain.`,
      `Access tokens: ${fmtInt(ring.added)} issued into the introspection ring (the 2,048 most recent are introspected at random; each must be active).`,
      ...(dbBytes !== undefined ? [`Database size at the end: ${(dbBytes / 2 ** 20).toFixed(1)} MiB.`] : []),
    ],
  });

  // ---- targets
  type Verdict = { label: string; measured: string; met: boolean };
  const verdicts: Verdict[] = [];
  verdicts.push({ label: 'zero unexpected errors', measured: fmtInt(unexpected), met: unexpected === 0 });
  verdicts.push({
    label: `RSS growth after warm-up < ${RSS_GROWTH_LIMIT_PCT} %`,
    measured: growthPct === undefined ? 'n/a' : `${fmtMiB(rssWarm)} → ${fmtMiB(rssEnd)} (${fmtPct(growthPct)})`,
    met: growthPct !== undefined && growthPct < RSS_GROWTH_LIMIT_PCT,
  });
  for (const o of OPERATIONS.filter((x) => mix[x] > 0)) {
    const a = stats[o].latency(first.from, first.to);
    const b = stats[o].latency(last.from, last.to);
    const enough = a.count >= MIN_SAMPLES_FOR_P99 && b.count >= MIN_SAMPLES_FOR_P99;
    const ratio = b.p99 / a.p99;
    verdicts.push({
      label: `p99 steady, ${OP_LABELS[o]}: last ${intervalSec} s ≤ ${P99_RATIO_LIMIT}× first ${intervalSec} s after warm-up`,
      measured: enough
        ? `${fmtMs(a.p99)} → ${fmtMs(b.p99)} ms (${ratio.toFixed(2)}×)`
        : `too few requests (${a.count}, ${b.count}; need ${MIN_SAMPLES_FOR_P99})`,
      met: enough && ratio <= P99_RATIO_LIMIT,
    });
  }
  if (failures.length)
    verdicts.push({
      label: 'the run completed (server up, setup worked)',
      measured: failures.map((f) => f.split('\n')[0]).join('; '),
      met: false,
    });
  const passed = verdicts.every((v) => v.met);
  sections.push({
    title: 'Targets',
    table: {
      header: ['Target', 'Measured', 'Met'],
      rows: verdicts.map((v) => [v.label, v.measured, v.met ? 'yes' : 'NO']),
      align: ['l', 'r', 'l'],
    },
  });

  const samples = all.filter((e) => e.samples.length);
  if (samples.length) {
    sections.push({
      title: 'First unexpected answers',
      lines: samples.flatMap((e) => e.samples.map((s) => `- ${e.label}: ${s.replace(/\s+/g, ' ')}`)),
    });
  }

  const when = started.toISOString().replace('T', ' ').slice(0, 16);
  const preamble = [
    `${when} UTC. ${machine}. Load average (1/5/15 min) at start ${loadAtStart}, at end ${loadAtEnd}.`,
    `One Latchkey process (\`node --enable-source-maps dist/main.js\`, LOG_LEVEL=warn) on PostgreSQL ${server.serverVersion}, fresh database; ` +
      `the load generator runs in the soak process on the same machine. ${settingsLine}.`,
  ];
  const verdictLine = `RESULT: ${passed ? 'PASS' : 'FAIL'} (${verdicts.filter((v) => !v.met).length} of ${verdicts.length} targets missed)`;

  log();
  log(preamble.join('\n'));
  log();
  log(render(sections, false));
  log();
  log(verdictLine);

  const md = [
    `## Soak (\`npm run soak\`)`,
    '',
    ...preamble.flatMap((p) => [p, '']),
    render(sections, true),
    '',
    `**${verdictLine}**`,
    '',
  ].join('\n');
  const resultsDir = join(soakDir, 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'latest.md'), md);
  log(`Markdown written to soak/results/latest.md`);
  if (!passed)
    process.stderr.write(
      `\nSOAK FAILED: ${verdicts
        .filter((v) => !v.met)
        .map((v) => v.label)
        .join('; ')}\n`,
    );
  return passed ? 0 : 1;
}

runScript('soak', main);
