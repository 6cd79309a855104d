import type { Fixtures } from '../fixtures.js';
import type { TargetId } from '../targets.js';

/** One HTTP request, sent over and over by autocannon (and once, first, to verify it). */
export interface RequestSpec {
  method: 'GET' | 'POST';
  /** Path on the target's base URL, e.g. "/token". */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface VerifyInput {
  status: number;
  headers: Headers;
  body: string;
}

/** A pass/fail line under a scenario's table. */
export type Goal =
  | { kind: 'throughput-ratio'; target: TargetId; versus: TargetId; atLeast: number }
  | { kind: 'p99-below'; target: TargetId; ms: number };

/**
 * A scenario: one request measured against several targets. Scenarios whose requests change
 * state between calls (refresh rotation, one-time codes) need a fresh credential per request and
 * will want a `requests()` generator instead of a fixed `request()`; add it when the first such
 * scenario arrives.
 */
export interface Scenario {
  /** Short, stable id: used in BENCH_SCENARIOS and in the results file. */
  readonly id: string;
  readonly title: string;
  /** The request, in words, for the report. */
  readonly description: string;
  /** Clients and resources the targets must know. */
  readonly fixtures: Fixtures;
  /** Targets to measure, in the order of the results table. */
  readonly targets: readonly TargetId[];
  request(target: TargetId): RequestSpec;
  /** Checks one answer before the load starts; throws if wrong, else returns a short summary. */
  verify(target: TargetId, res: VerifyInput): string;
  readonly goals: readonly Goal[];
}
