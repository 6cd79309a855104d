import { readdirSync, readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type { RequestSpec, Workload } from '../scenarios/types.js';

export interface LoadOptions {
  connections: number;
  /** Seconds to run; ignored when `amount` is set. */
  durationSec: number;
  /** Send exactly this many requests, then stop (used to warm up on a limited stock). */
  amount?: number;
  /** The status every answer must have; default: any 2xx. */
  expectStatus?: number | undefined;
  /** The target's process id, to read its CPU time before and after (Linux /proc). */
  pid?: number | undefined;
}

export interface Measurement {
  /**
   * Requests per second: for a timed run, the mean of autocannon's per-second counts of completed
   * requests; for a run of a fixed `amount`, completed requests over the time to the last answer.
   */
  rps: number;
  /** Latency percentiles in ms, from every response's own timing (sub-millisecond precision). */
  p50: number;
  p99: number;
  max: number;
  completed: number;
  /** Answers with the expected status ("2xx" or a number such as 303). */
  expected: string;
  /** Answers with any other status. */
  unexpected: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** CPU seconds (user + system) the target's process used during the run, when readable. */
  cpuSec?: number;
  /**
   * CPU seconds all PostgreSQL server processes on this machine used during the run (backends,
   * WAL writer, …), when readable: the database's share of the target's cost, on the same cores.
   */
  dbCpuSec?: number;
  /** CPU seconds the bench process itself (autocannon, the load generator) used during the run. */
  loadCpuSec?: number;
  /** Requests that found the workload's stock empty (each was sent with an invalid credential). */
  starved?: number;
}

export function hasProblems(m: Measurement): boolean {
  return m.unexpected > 0 || m.errors > 0 || m.timeouts > 0 || (m.starved ?? 0) > 0;
}

const isExpected = (expected: string, code: string) => (expected === '2xx' ? code.startsWith('2') : code === expected);

export function describeProblems(m: Measurement): string {
  const codes = Object.entries(m.statusCodes)
    .filter(([c]) => !isExpected(m.expected, c))
    .map(([c, n]) => `${n}× HTTP ${c}`);
  return [
    ...(m.starved ? [`${m.starved} requests found no pre-minted credential left (stock too small)`] : []),
    ...(codes.length ? codes : m.unexpected ? [`${m.unexpected} answers other than ${m.expected}`] : []),
    ...(m.errors ? [`${m.errors} connection errors`] : []),
    ...(m.timeouts ? [`${m.timeouts} timeouts`] : []),
  ].join(', ');
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** user + system CPU seconds of a process, from /proc/PID/stat; undefined where unavailable. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which is in parentheses and may contain spaces).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return (utime + stime) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
/**
 * user + system CPU seconds of every process named `postgres` (the server and its backends), from
 * /proc; undefined where unavailable. A backend that exits during a run takes its time with it, so
 * this can only under-count; the pool keeps its connections open through a run.
 */
export function postgresCpuSeconds(): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  let total = 0;
  let found = false;
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue;
    }
    if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    found = true;
  }
  return found ? total : undefined;
}

/** USER_HZ: 100 on every mainstream Linux build (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS = 100;

/** A request that can never succeed, sent when a workload's stock runs out mid-run. */
const STARVED: RequestSpec = { method: 'GET', path: '/bench-stock-exhausted', headers: {} };

/**
 * Runs autocannon against the target, in this process: either the same request every time, or
 * one request per credential taken from a workload's stock (autocannon's setupRequest hook,
 * called once per request sent).
 */
export async function runLoad(baseUrl: string, load: RequestSpec | Workload, opts: LoadOptions): Promise<Measurement> {
  let starved = 0;
  const fixed = 'path' in load ? load : undefined;
  const workload = fixed ? undefined : (load as Workload);
  const first = fixed ?? STARVED;
  const cpuBefore = processCpuSeconds(opts.pid);
  const dbBefore = postgresCpuSeconds();
  const loadBefore = process.cpuUsage();
  const started = performance.now();
  const instance = autocannon({
    url: baseUrl + first.path,
    method: first.method,
    headers: first.headers,
    ...(first.body !== undefined ? { body: first.body } : {}),
    ...(workload
      ? {
          requests: [
            {
              setupRequest: () => {
                const r = workload.next();
                if (!r) starved++;
                const req = r ?? STARVED;
                return { method: req.method, path: req.path, headers: req.headers, body: req.body ?? '' };
              },
              ...(workload.answer ? { onResponse: (status: number, body: string) => workload.answer!(status, body) } : {}),
            },
          ],
        }
      : {}),
    connections: opts.connections,
    // A fixed amount ends at autocannon's next sample tick: sample often so no second is wasted.
    ...(opts.amount !== undefined ? { amount: opts.amount, sampleInt: 100 } : { duration: opts.durationSec }),
    timeout: 10,
  });
  // autocannon's own histogram keeps whole milliseconds; keep every timing for finer percentiles.
  let times = new Float64Array(1 << 16);
  let n = 0;
  let lastAnswer = started;
  instance.on('response', (...args: unknown[]) => {
    if (n === times.length) {
      const bigger = new Float64Array(times.length * 2);
      bigger.set(times);
      times = bigger;
    }
    times[n++] = args[3] as number;
    lastAnswer = performance.now();
  });
  const r = await instance;
  const cpuAfter = processCpuSeconds(opts.pid);
  const dbAfter = postgresCpuSeconds();
  const loadUsage = process.cpuUsage(loadBefore);
  const sorted = times.subarray(0, n).sort();
  const statusCodes: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats)) statusCodes[code] = s.count;
  const expected = opts.expectStatus !== undefined ? String(opts.expectStatus) : '2xx';
  const unexpected = Object.entries(statusCodes).reduce((acc, [code, k]) => acc + (isExpected(expected, code) ? 0 : k), 0);
  return {
    // A fixed amount ends part-way through autocannon's last one-second sample: use the clock.
    rps: opts.amount !== undefined ? (n / Math.max(1, lastAnswer - started)) * 1000 : r.requests.average,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: n ? sorted[n - 1]! : NaN,
    completed: n,
    expected,
    unexpected,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
    ...(cpuBefore !== undefined && cpuAfter !== undefined ? { cpuSec: cpuAfter - cpuBefore } : {}),
    ...(dbBefore !== undefined && dbAfter !== undefined ? { dbCpuSec: dbAfter - dbBefore } : {}),
    loadCpuSec: (loadUsage.user + loadUsage.system) / 1e6,
    ...(starved ? { starved } : {}),
  };
}
