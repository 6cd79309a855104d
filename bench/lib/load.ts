import autocannon from 'autocannon';
import type { RequestSpec } from '../scenarios/types.js';

export interface LoadOptions {
  connections: number;
  durationSec: number;
}

export interface Measurement {
  /** Mean of autocannon's per-second request counts (completed requests). */
  rps: number;
  /** Latency percentiles in ms, from every response's own timing (sub-millisecond precision). */
  p50: number;
  p99: number;
  max: number;
  completed: number;
  status2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

export function hasProblems(m: Measurement): boolean {
  return m.non2xx > 0 || m.errors > 0 || m.timeouts > 0;
}

export function describeProblems(m: Measurement): string {
  const codes = Object.entries(m.statusCodes)
    .filter(([c]) => !c.startsWith('2'))
    .map(([c, n]) => `${n}× HTTP ${c}`);
  return [
    ...(codes.length ? codes : m.non2xx ? [`${m.non2xx} non-2xx`] : []),
    ...(m.errors ? [`${m.errors} connection errors`] : []),
    ...(m.timeouts ? [`${m.timeouts} timeouts`] : []),
  ].join(', ');
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Runs autocannon against `baseUrl + req.path` for the given time, in this process. */
export async function runLoad(baseUrl: string, req: RequestSpec, opts: LoadOptions): Promise<Measurement> {
  const instance = autocannon({
    url: baseUrl + req.path,
    method: req.method,
    headers: req.headers,
    ...(req.body !== undefined ? { body: req.body } : {}),
    connections: opts.connections,
    duration: opts.durationSec,
    timeout: 10,
  });
  // autocannon's own histogram keeps whole milliseconds; keep every timing for finer percentiles.
  let times = new Float64Array(1 << 16);
  let n = 0;
  instance.on('response', (...args: unknown[]) => {
    if (n === times.length) {
      const bigger = new Float64Array(times.length * 2);
      bigger.set(times);
      times = bigger;
    }
    times[n++] = args[3] as number;
  });
  const r = await instance;
  const sorted = times.subarray(0, n).sort();
  const statusCodes: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats)) statusCodes[code] = s.count;
  return {
    rps: r.requests.average,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: n ? sorted[n - 1]! : NaN,
    completed: n,
    status2xx: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
  };
}
