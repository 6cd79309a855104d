import type { Scenario } from '../scenarios/types.js';
import type { Goal } from '../scenarios/types.js';
import { targetById, type TargetId } from '../targets.js';
import { hasProblems, type Measurement } from './load.js';

export interface ScenarioResult {
  scenario: Scenario;
  /** Per target: a measurement, or why there is none. */
  byTarget: Map<TargetId, Measurement | { failed: string }>;
}

export interface GoalOutcome {
  label: string;
  measured: string;
  met: boolean | undefined; // undefined: could not be evaluated
}

const isMeasurement = (x: Measurement | { failed: string } | undefined): x is Measurement =>
  x !== undefined && !('failed' in x);

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtMs = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');

export function evaluateGoals(r: ScenarioResult): GoalOutcome[] {
  return r.scenario.goals.map((g: Goal): GoalOutcome => {
    if (g.kind === 'throughput-ratio') {
      const label = `${targetById(g.target).label} ≥ ${g.atLeast}× ${targetById(g.versus).label} throughput`;
      const a = r.byTarget.get(g.target);
      const b = r.byTarget.get(g.versus);
      if (!isMeasurement(a) || !isMeasurement(b) || b.rps === 0) return { label, measured: 'n/a', met: undefined };
      const ratio = a.rps / b.rps;
      return { label, measured: `${ratio.toFixed(2)}×`, met: ratio >= g.atLeast };
    }
    const label = `${targetById(g.target).label} p99 < ${g.ms} ms`;
    const a = r.byTarget.get(g.target);
    if (!isMeasurement(a)) return { label, measured: 'n/a', met: undefined };
    return { label, measured: `${fmtMs(a.p99)} ms`, met: a.p99 < g.ms };
  });
}

const HEADER = ['Target', 'Requests/s (mean)', 'p50 ms', 'p99 ms', 'Requests', 'Non-2xx', 'Errors'];

function rows(r: ScenarioResult): string[][] {
  return r.scenario.targets.filter((id) => r.byTarget.has(id)).map((id) => {
    const m = r.byTarget.get(id);
    const label = targetById(id).label;
    if (!isMeasurement(m)) return [label, 'FAILED', '–', '–', '–', '–', '–'];
    const errors = m.errors + (m.timeouts ? ` (+${m.timeouts} timeouts)` : '');
    return [label + (hasProblems(m) ? ' ⚠' : ''), fmtInt(m.rps), fmtMs(m.p50), fmtMs(m.p99), fmtInt(m.completed), fmtInt(m.non2xx), errors];
  });
}

const verdict = (met: boolean | undefined) => (met === undefined ? 'n/a' : met ? 'yes' : 'NO');

export function textTable(r: ScenarioResult): string {
  const all = [HEADER, ...rows(r)];
  const widths = HEADER.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...rows(r).map(line)];
  const goals = evaluateGoals(r);
  if (goals.length) {
    out.push('');
    const w = Math.max(...goals.map((g) => g.label.length));
    for (const g of goals) out.push(`${g.label.padEnd(w)}  ${g.measured.padStart(9)}  ${verdict(g.met)}`);
  }
  return out.join('\n');
}

export function markdownSection(r: ScenarioResult): string {
  const md = (row: string[]) => `| ${row.join(' | ')} |`;
  const out = [
    `### ${r.scenario.title}`,
    '',
    r.scenario.description,
    '',
    md(HEADER),
    md(HEADER.map((_, i) => (i === 0 ? '---' : '--:'))),
    ...rows(r).map(md),
  ];
  const goals = evaluateGoals(r);
  if (goals.length) {
    out.push('', md(['Goal', 'Measured', 'Met']), md(['---', '--:', ':-:']), ...goals.map((g) => md([g.label, g.measured, verdict(g.met)])));
  }
  return out.join('\n');
}
