import { plainTable } from '../bench/lib/report.js';
/**
 * What the soak records: per endpoint, every response's end time and latency (so any time window's
 * percentiles can be computed afterwards), and every unexpected outcome by kind.
 */

class Growable {
  private a = new Float64Array(1 << 14);
  length = 0;
  push(x: number): void {
    if (this.length === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length++] = x;
  }
  get(i: number): number {
    return this.a[i]!;
  }
}

export type Outcome =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; body: string }
  | { kind: 'transport'; code: string }
  | { kind: 'invalid'; reason: string };

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

const MAX_SAMPLES = 5;

export class EndpointStats {
  requests = 0;
  ok = 0;
  readonly statuses = new Map<number, number>();
  readonly transport = new Map<string, number>();
  invalid = 0;
  /** The first few unexpected answers, for the report. */
  readonly samples: string[] = [];
  /** Seconds since the load started, at the end of each response (any outcome). */
  private readonly ends = new Growable();
  private readonly lats = new Growable();

  constructor(
    readonly id: string,
    readonly label: string,
  ) {}

  record(endSec: number, ms: number, outcome: Outcome): void {
    this.requests++;
    this.ends.push(endSec);
    this.lats.push(ms);
    switch (outcome.kind) {
      case 'ok':
        this.ok++;
        return;
      case 'status':
        this.statuses.set(outcome.status, (this.statuses.get(outcome.status) ?? 0) + 1);
        this.sample(`HTTP ${outcome.status}: ${outcome.body.slice(0, 300)}`);
        return;
      case 'transport':
        this.transport.set(outcome.code, (this.transport.get(outcome.code) ?? 0) + 1);
        this.sample(`transport error ${outcome.code}`);
        return;
      case 'invalid':
        this.invalid++;
        this.sample(`unexpected 2xx answer: ${outcome.reason.slice(0, 300)}`);
    }
  }

  private sample(s: string): void {
    if (this.samples.length < MAX_SAMPLES) this.samples.push(s);
  }

  get unexpected(): number {
    let n = this.invalid;
    for (const v of this.statuses.values()) n += v;
    for (const v of this.transport.values()) n += v;
    return n;
  }

  /** "3× HTTP 400, 1× ECONNRESET, 2× invalid body", or "none". */
  describeUnexpected(): string {
    const parts = [
      ...[...this.statuses].map(([s, n]) => `${n}× HTTP ${s}`),
      ...[...this.transport].map(([c, n]) => `${n}× ${c}`),
      ...(this.invalid ? [`${this.invalid}× invalid 2xx body`] : []),
    ];
    return parts.length ? parts.join(', ') : 'none';
  }

  /** Requests that ended within [fromSec, toSec). */
  countIn(fromSec: number, toSec: number): number {
    let n = 0;
    for (let i = 0; i < this.ends.length; i++) {
      const t = this.ends.get(i);
      if (t >= fromSec && t < toSec) n++;
    }
    return n;
  }

  /** Latency percentiles of the requests that ended within [fromSec, toSec). */
  latency(fromSec = -Infinity, toSec = Infinity): LatencySummary {
    const xs: number[] = [];
    for (let i = 0; i < this.ends.length; i++) {
      const t = this.ends.get(i);
      if (t >= fromSec && t < toSec) xs.push(this.lats.get(i));
    }
    const sorted = Float64Array.from(xs).sort();
    return {
      count: sorted.length,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.length ? sorted[sorted.length - 1]! : NaN,
    };
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface Window {
  label: string;
  from: number;
  to: number;
}

/**
 * The report's time windows: the warm-up, then windows of `intervalSec` from the end of the
 * warm-up (the last one may be shorter), and — when it is not already a row — the last
 * `intervalSec` of the run, which the steadiness check compares with the first post-warm-up one.
 */
export function reportWindows(
  durationSec: number,
  warmupSec: number,
  intervalSec: number,
): { rows: Window[]; first: Window; last: Window } {
  const fmt = (s: number) => (Number.isInteger(s) ? String(s) : s.toFixed(1));
  const rows: Window[] = [];
  if (warmupSec > 0) rows.push({ label: `warm-up ${fmt(0)}–${fmt(warmupSec)} s`, from: 0, to: warmupSec });
  let k = 0;
  for (let t = warmupSec; t < durationSec - 1e-9; t += intervalSec, k++) {
    const to = Math.min(durationSec, t + intervalSec);
    rows.push({ label: `${fmt(t)}–${fmt(to)} s${to - t < intervalSec - 1e-9 ? ' (partial)' : ''}`, from: t, to });
  }
  const first: Window = {
    ...rows[warmupSec > 0 ? 1 : 0]!,
    label: `first after warm-up (${fmt(warmupSec)}–${fmt(warmupSec + intervalSec)} s)`,
  };
  const last: Window = {
    label: `last ${fmt(intervalSec)} s (${fmt(durationSec - intervalSec)}–${fmt(durationSec)} s)`,
    from: durationSec - intervalSec,
    to: durationSec,
  };
  const lastRow = rows[rows.length - 1]!;
  if (Math.abs(lastRow.from - last.from) > 1e-9 || lastRow.to !== last.to) rows.push(last);
  return { rows, first, last };
}

// ---- tables

export interface Table {
  header: string[];
  rows: string[][];
  /** Per column; default: first column left, the others right. */
  align?: ('l' | 'r')[];
}

/** Same layout as the bench's tables. */
export const textTable = (t: Table): string => plainTable(t);

export function markdownTable(t: Table): string {
  const md = (row: string[]) => `| ${row.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  const sep = t.header.map((_, i) => ((t.align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? '---' : '--:'));
  return [md(t.header), md(sep), ...t.rows.map(md)].join('\n');
}

export const fmtMs = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '–');
export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
export const fmtMiB = (kB: number | undefined) => (kB === undefined ? '–' : `${(kB / 1024).toFixed(1)} MiB`);
