/**
 * Turns the rounds of a scenario into the tables `npm run bench` prints and writes.
 *
 * Per target: the median requests/s across rounds (and the min–max), p50/p99 from that target's
 * median round (the round whose requests/s is the median; the lower of the two middle rounds when
 * the number of rounds is even), and requests, non-2xx and errors summed over all measured rounds.
 *
 * Ratios between targets are computed per round (both measured in the same round, a few seconds
 * apart) and summarised by their median and min–max: the median ratio is the number to compare.
 */
import type { Scenario } from '../scenarios/types.js';
import type { Goal } from '../scenarios/types.js';
import { targetById, type TargetId } from '../targets.js';
import { hasProblems, type Measurement } from './load.js';

/** One target's part of a scenario. */
export interface TargetRuns {
  /** Index = round (0-based); a hole where the target was not measured in that round. */
  rounds: (Measurement | undefined)[];
  /** Set when the target failed (did not start, failed verification, died); it may still have some rounds. */
  failed?: string;
}

export interface ScenarioResult {
  scenario: Scenario;
  /** The measurement order of each round that was started. */
  orders: TargetId[][];
  /** Concurrent connections of every run (for the p99 goal's label). */
  connections?: number;
  /** Per target of the scenario that this run includes. */
  byTarget: Map<TargetId, TargetRuns>;
}

export interface GoalOutcome {
  label: string;
  measured: string;
  met: boolean | undefined; // undefined: could not be evaluated
}

export interface TargetSummary {
  rounds: number;
  rpsMedian: number;
  rpsMin: number;
  rpsMax: number;
  /** The measurement whose requests/s is the (lower) median: the source of the latency columns. */
  medianRound: Measurement;
  medianRoundIndex: number;
  completed: number;
  /** Answers other than the scenario's expected status. */
  unexpected: number;
  errors: number;
  /** Requests per CPU-second of the target's process, over all rounds; undefined when unreadable. */
  perCpuSecond: number | undefined;
  /**
   * CPU microseconds per completed request over all rounds: the target's process tree, every
   * PostgreSQL process on the machine, the load generator; undefined when unreadable.
   */
  cpuUs: { server: number | undefined; postgres: number | undefined; load: number | undefined };
  timeouts: number;
  problems: boolean;
}

export interface RatioSummary {
  a: TargetId;
  b: TargetId;
  /** Index = round; undefined when either target lacks a measurement in that round. */
  perRound: (number | undefined)[];
  rounds: number;
  median: number;
  min: number;
  max: number;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const measured = (runs: TargetRuns | undefined): { m: Measurement; round: number }[] =>
  (runs?.rounds ?? []).flatMap((m, round) => (m ? [{ m, round }] : []));

export function summarize(runs: TargetRuns | undefined): TargetSummary | undefined {
  const list = measured(runs);
  if (list.length === 0) return undefined;
  const byRps = [...list].sort((x, y) => x.m.rps - y.m.rps);
  const mid = byRps[(byRps.length - 1) >> 1]!;
  const sum = (f: (m: Measurement) => number) => list.reduce((acc, x) => acc + f(x.m), 0);
  const completed = sum((m) => m.completed);
  const perRequestUs = (f: (m: Measurement) => number | undefined) =>
    completed > 0 && list.every((x) => f(x.m) !== undefined) ? (sum((m) => f(m) ?? 0) / completed) * 1e6 : undefined;
  return {
    cpuUs: { server: perRequestUs((m) => m.cpuSec), postgres: perRequestUs((m) => m.dbCpuSec), load: perRequestUs((m) => m.loadCpuSec) },
    rounds: list.length,
    rpsMedian: median(list.map((x) => x.m.rps)),
    rpsMin: byRps[0]!.m.rps,
    rpsMax: byRps[byRps.length - 1]!.m.rps,
    medianRound: mid.m,
    medianRoundIndex: mid.round,
    completed: sum((m) => m.completed),
    unexpected: sum((m) => m.unexpected),
    perCpuSecond:
      list.every((x) => x.m.cpuSec !== undefined) && sum((m) => m.cpuSec ?? 0) > 0
        ? sum((m) => m.completed) / sum((m) => m.cpuSec ?? 0)
        : undefined,
    errors: sum((m) => m.errors),
    timeouts: sum((m) => m.timeouts),
    problems: list.some((x) => hasProblems(x.m)),
  };
}

/** `a` requests/s divided by `b` requests/s, round by round. */
export function ratio(r: ScenarioResult, a: TargetId, b: TargetId): RatioSummary | undefined {
  const ra = r.byTarget.get(a)?.rounds ?? [];
  const rb = r.byTarget.get(b)?.rounds ?? [];
  const perRound = r.orders.map((_, i) => {
    const x = ra[i];
    const y = rb[i];
    return x && y && y.rps > 0 ? x.rps / y.rps : undefined;
  });
  const values = perRound.filter((v): v is number => v !== undefined);
  if (values.length === 0) return undefined;
  return { a, b, perRound, rounds: values.length, median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** The ratios worth showing: every 'subject' target against each other target but variants, then any a goal names. */
export function ratioPairs(r: ScenarioResult): [TargetId, TargetId][] {
  const ids = r.scenario.targets.filter((id) => r.byTarget.has(id));
  const pairs: [TargetId, TargetId][] = [];
  const add = (a: TargetId, b: TargetId) => {
    if (a !== b && ids.includes(a) && ids.includes(b) && !pairs.some(([x, y]) => x === a && y === b)) pairs.push([a, b]);
  };
  // A variant (Latchkey configured otherwise) is compared only where a goal says.
  for (const a of ids) if (targetById(a).role === 'subject') for (const b of ids) if (targetById(b).role !== 'variant') add(a, b);
  for (const g of r.scenario.goals) if (g.kind === 'throughput-ratio') add(g.target, g.versus);
  return pairs;
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
/** Requests/s: whole numbers, except below 100 (logins) where a decimal matters. */
export const fmtRate = (n: number) => (n < 100 ? n.toFixed(1) : fmtInt(n));
const fmtMs = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const fmtX = (n: number) => n.toFixed(2);
const fmtUs = (n: number | undefined) => (n === undefined ? 'n/a' : fmtInt(n));
const ratioLabel = (a: TargetId, b: TargetId) => `${targetById(a).label} / ${targetById(b).label}`;

export function evaluateGoals(r: ScenarioResult): GoalOutcome[] {
  return r.scenario.goals.map((g: Goal): GoalOutcome => {
    if (g.kind === 'throughput-ratio') {
      const label = `${targetById(g.target).label} ≥ ${g.atLeast}× ${targetById(g.versus).label} throughput (median ratio)`;
      const s = ratio(r, g.target, g.versus);
      if (!s) return { label, measured: 'n/a', met: undefined };
      return { label, measured: `${fmtX(s.median)}× (${fmtX(s.min)}–${fmtX(s.max)})`, met: s.median >= g.atLeast };
    }
    const at = r.connections !== undefined ? ` at ${r.connections} connections` : '';
    const label = `${targetById(g.target).label} p99 < ${g.ms} ms${at} (median round)`;
    const s = summarize(r.byTarget.get(g.target));
    if (!s) return { label, measured: 'n/a', met: undefined };
    return { label, measured: `${fmtMs(s.medianRound.p99)} ms`, met: s.medianRound.p99 < g.ms };
  });
}

export type Table = { header: string[]; rows: string[][]; align?: ('l' | 'r' | 'c')[] };

function summaryTable(r: ScenarioResult): Table {
  const n = r.orders.length;
  const cpu = r.scenario.perCpuSecond === true;
  const expected = r.scenario.expectStatus !== undefined ? String(r.scenario.expectStatus) : '2xx';
  const header = [
    'Target',
    `Requests/s (median of ${n})`,
    'min–max',
    ...(cpu ? ['Per CPU-second'] : []),
    'p50 ms',
    'p99 ms',
    'CPU µs/req: server',
    'PostgreSQL',
    'load gen.',
    'Requests',
    `Non-${expected}`,
    'Errors',
  ];
  const rows = r.scenario.targets
    .filter((id) => r.byTarget.has(id))
    .map((id) => {
      const runs = r.byTarget.get(id)!;
      const s = summarize(runs);
      const label = targetById(id).label;
      if (!s) return [label, 'FAILED', ...header.slice(2).map(() => '–')];
      const errors = fmtInt(s.errors) + (s.timeouts ? ` (+${fmtInt(s.timeouts)} timeouts)` : '');
      const partial = s.rounds < n ? ` [${s.rounds}/${n} rounds]` : '';
      return [
        label + (s.problems || runs.failed ? ' ⚠' : '') + partial,
        fmtRate(s.rpsMedian),
        `${fmtRate(s.rpsMin)}–${fmtRate(s.rpsMax)}`,
        ...(cpu ? [s.perCpuSecond !== undefined ? s.perCpuSecond.toFixed(1) : 'n/a'] : []),
        fmtMs(s.medianRound.p50),
        fmtMs(s.medianRound.p99),
        fmtUs(s.cpuUs.server),
        targetById(id).postgres ? fmtUs(s.cpuUs.postgres) : '–',
        fmtUs(s.cpuUs.load),
        fmtInt(s.completed),
        fmtInt(s.unexpected),
        errors,
      ];
    });
  return { header, rows };
}

function ratioTable(r: ScenarioResult): Table | undefined {
  const rows = ratioPairs(r).flatMap(([a, b]) => {
    const s = ratio(r, a, b);
    if (!s) return [[ratioLabel(a, b), 'n/a', '–', '–']];
    const bad = (i: number) =>
      [a, b].some((id) => {
        const m = r.byTarget.get(id)?.rounds[i];
        return m !== undefined && hasProblems(m);
      });
    const per = s.perRound.map((v, i) => (v === undefined ? '–' : fmtX(v) + (bad(i) ? ' ⚠' : ''))).join(', ');
    return [[ratioLabel(a, b), `${fmtX(s.median)}×`, `${fmtX(s.min)}–${fmtX(s.max)}×`, per]];
  });
  if (rows.length === 0) return undefined;
  return { header: ['Ratio of requests/s', 'Median', 'min–max', 'Per round'], rows };
}

function roundsTable(r: ScenarioResult): Table {
  const ids = r.scenario.targets.filter((id) => r.byTarget.has(id));
  const header = ['Round', 'Order', ...ids.map((id) => targetById(id).label)];
  const rows = r.orders.map((order, i) => [
    String(i + 1),
    order.join(' → '),
    ...ids.map((id) => {
      const m = r.byTarget.get(id)!.rounds[i];
      return m ? fmtRate(m.rps) + (hasProblems(m) ? ' ⚠' : '') : '–';
    }),
  ]);
  return { header, rows, align: ['r', 'l'] };
}

function goalsTable(r: ScenarioResult): Table | undefined {
  const goals = evaluateGoals(r);
  if (goals.length === 0) return undefined;
  return { header: ['Goal', 'Measured', 'Met'], rows: goals.map((g) => [g.label, g.measured, verdict(g.met)]), align: ['l', 'r', 'c'] };
}

const verdict = (met: boolean | undefined) => (met === undefined ? 'n/a' : met ? 'yes' : 'NO');

function note(r: ScenarioResult): string {
  const n = r.orders.length;
  return (
    (r.scenario.workload
      ? 'Each request spends its own credential, made before the round (not measured); each round sends a fixed number of ' +
        "requests (the target's last rate × the round length) and its requests/s is that number over the time to the last answer. "
      : '') +
    `Requests/s: median over ${n} interleaved round(s) (min–max across rounds). p50/p99: from each target's ` +
    `median round${n % 2 ? '' : ' (the lower middle one)'}, not pooled. Requests, non-${r.scenario.expectStatus ?? '2xx'}, errors: summed over all rounds. ` +
    "CPU µs/req: CPU time (user + system, from /proc) over all rounds divided by the requests completed, for the target's " +
    'process and its children (cluster workers), for every PostgreSQL process on the machine (shown for targets on ' +
    'PostgreSQL only; it includes whatever else uses that server), and for the load generator. ' +
    (r.scenario.perCpuSecond
      ? "Per CPU-second: requests completed over the user + system CPU time of the target's process during the rounds (/proc), i.e. per core. "
      : '') +
    `Ratios: computed within each round, then the median and min–max across rounds.`
  );
}

function wrap(s: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of s.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n');
}

/** A plain-text table: columns padded, a dashed rule under the header (also used by soak/). */
export function plainTable(t: Table): string {
  const all = [t.header, ...t.rows];
  const widths = t.header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const align = (i: number) => t.align?.[i] ?? (i === 0 ? 'l' : 'r');
  const line = (row: string[]) =>
    row
      .map((c, i) => (align(i) === 'l' ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(t.header), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)].join('\n');
}

function markdown(t: Table): string {
  const md = (row: string[]) => `| ${row.join(' | ')} |`;
  const sep = t.header.map((_, i) => {
    const a = t.align?.[i] ?? (i === 0 ? 'l' : 'r');
    return a === 'l' ? '---' : a === 'c' ? ':-:' : '--:';
  });
  return [md(t.header), md(sep), ...t.rows.map(md)].join('\n');
}

function sections(r: ScenarioResult): { title?: string; table: Table }[] {
  const out: { title?: string; table: Table }[] = [{ table: summaryTable(r) }];
  const ratios = ratioTable(r);
  if (ratios) out.push({ table: ratios });
  out.push({ title: 'Requests/s per round (order rotated each round)', table: roundsTable(r) });
  const goals = goalsTable(r);
  if (goals) out.push({ table: goals });
  return out;
}

export function textTable(r: ScenarioResult): string {
  const parts = sections(r).map((s) => (s.title ? `${s.title}:\n` : '') + plainTable(s.table));
  parts.splice(1, 0, wrap(note(r), 100));
  return parts.join('\n\n');
}

export function markdownSection(r: ScenarioResult): string {
  const out = [`### ${r.scenario.title}`, '', r.scenario.description];
  sections(r).forEach((s, i) => {
    out.push('', ...(s.title ? [`${s.title}:`, ''] : []), markdown(s.table));
    if (i === 0) out.push('', note(r));
  });
  return out.join('\n');
}

/** Every scenario's goals in one table: the figures the targets name, each met or missed. */
export function goalsSummaryTable(results: readonly ScenarioResult[]): Table | undefined {
  const rows = results.flatMap((r) => evaluateGoals(r).map((g) => [r.scenario.id, g.label, g.measured, verdict(g.met)]));
  if (rows.length === 0) return undefined;
  return { header: ['Scenario', 'Goal', 'Measured', 'Met'], rows, align: ['l', 'l', 'r', 'c'] };
}

export const goalsSummaryText = (t: Table) => plainTable(t);
export const goalsSummaryMarkdown = (t: Table) => markdown(t);
