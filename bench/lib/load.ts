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
  /** The target's process id, to read its CPU time (and its descendants') before and after (Linux /proc). */
  pid?: number | undefined;
  /** Runs fixed-request loads in a separate (lower-priority) process; default: in this process. */
  generator?: LoadGenerator | undefined;
}

/** A load generator in another process (load-process.ts). */
export interface LoadGenerator {
  run(baseUrl: string, request: RequestSpec, opts: DriveOptions): Promise<Driven>;
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
  /** CPU seconds (user + system) the target's process and its descendants used during the run, when readable. */
  cpuSec?: number;
  /**
   * CPU seconds all PostgreSQL server processes on this machine used during the run (backends,
   * WAL writer, …), when readable: the database's share of the target's cost, on the same cores.
   */
  dbCpuSec?: number;
  /** CPU seconds the load generator's process (autocannon: the bench process or its load child) used during the run. */
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

/** One pass over /proc: every process's parent, name and user + system CPU seconds. */
function readProcesses(): Map<number, { ppid: number; name: string; cpu: number }> | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const out = new Map<number, { ppid: number; name: string; cpu: number }>();
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the command name (which is in parentheses and may contain spaces).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    if (!Number.isFinite(cpu)) continue;
    out.set(Number(e), { ppid: Number(fields[1]), name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), cpu });
  }
  return out;
}

/** The process `pid` and all its descendants (e.g. node:cluster workers), from one /proc pass. */
function tree(procs: Map<number, { ppid: number }>, pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const [p, { ppid }] of procs) children.set(ppid, [...(children.get(ppid) ?? []), p]);
  const out: number[] = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    if (!procs.has(p)) continue;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

export interface CpuSnapshot {
  /** user + system CPU seconds of the target's process and its descendants (cluster workers). */
  target: number | undefined;
  /**
   * user + system CPU seconds of every process named `postgres` (the server and its backends): the
   * database's share of the target's cost, on the same cores. A backend that exits during a run
   * takes its time with it, so this can only under-count; the pools keep their connections open.
   */
  postgres: number | undefined;
}

/** CPU seconds so far of the target's process tree and of PostgreSQL; undefined where /proc is unreadable. */
export function cpuSnapshot(pid: number | undefined): CpuSnapshot {
  const procs = readProcesses();
  if (!procs) return { target: undefined, postgres: undefined };
  let postgres: number | undefined;
  for (const p of procs.values()) if (p.name === 'postgres') postgres = (postgres ?? 0) + p.cpu;
  const members = pid ? tree(procs, pid) : [];
  return { target: members.length ? members.reduce((acc, p) => acc + procs.get(p)!.cpu, 0) : undefined, postgres };
}

/** How many processes `pid` has, itself included (a node:cluster primary and its workers). */
export function processCount(pid: number | undefined): number {
  const procs = readProcesses();
  return procs && pid ? tree(procs, pid).length : 0;
}

/** USER_HZ: 100 on every mainstream Linux build (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS = 100;

/** A request that can never succeed, sent when a workload's stock runs out mid-run. */
const STARVED: RequestSpec = { method: 'GET', path: '/bench-stock-exhausted', headers: {} };

/** What one autocannon run measured, wherever it ran: the load generator's side of a Measurement. */
export type Driven = Omit<Measurement, 'cpuSec' | 'dbCpuSec'>;

/** The settings a run needs, without the target's pid: what the load child is sent. */
export type DriveOptions = Omit<LoadOptions, 'pid' | 'generator'>;

/**
 * Runs autocannon against the target in the calling process: either the same request every time,
 * or one request per credential taken from a workload's stock (autocannon's setupRequest hook,
 * called once per request sent). `loadCpuSec` is this process's CPU time during the run.
 */
export async function drive(baseUrl: string, load: RequestSpec | Workload, opts: DriveOptions): Promise<Driven> {
  let starved = 0;
  const fixed = 'path' in load ? load : undefined;
  const workload = fixed ? undefined : (load as Workload);
  const first = fixed ?? STARVED;
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
    loadCpuSec: (loadUsage.user + loadUsage.system) / 1e6,
    ...(starved ? { starved } : {}),
  };
}

/**
 * Measures one run: autocannon in this process, or — for a fixed request when `opts.generator` is
 * given — in the load generator's own process (see load-process.ts); around it, the CPU time of
 * the target's process tree and of PostgreSQL.
 */
export async function runLoad(baseUrl: string, load: RequestSpec | Workload, opts: LoadOptions): Promise<Measurement> {
  const before = cpuSnapshot(opts.pid);
  const { pid: _pid, generator, ...driveOpts } = opts;
  const d = generator && 'path' in load ? await generator.run(baseUrl, load, driveOpts) : await drive(baseUrl, load, driveOpts);
  const after = cpuSnapshot(opts.pid);
  return {
    ...d,
    ...(before.target !== undefined && after.target !== undefined ? { cpuSec: after.target - before.target } : {}),
    ...(before.postgres !== undefined && after.postgres !== undefined ? { dbCpuSec: after.postgres - before.postgres } : {}),
  };
}
