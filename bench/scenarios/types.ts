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
  /** The request that got this answer. */
  request: RequestSpec;
}

/** A pass/fail line under a scenario's table. */
export type Goal =
  { kind: 'throughput-ratio'; target: TargetId; versus: TargetId; atLeast: number } | { kind: 'p99-below'; target: TargetId; ms: number };

/**
 * What a scenario sends to one target when every request must carry a credential of its own
 * (a one-time code, a rotating refresh token, an assertion with a new `jti`, an interaction).
 * Credentials are made ahead ("stocked") while nothing is being measured; during a measurement
 * `next()` only takes one from the stock, so making them never counts.
 */
export interface Workload {
  /** The next request, taking one credential from the stock; undefined when the stock is empty. */
  next(): RequestSpec | undefined;
  /** Makes sure at least `count` requests are in stock (unmeasured; may take a while). */
  stock(count: number): Promise<void>;
  /** Requests in stock now. */
  available(): number;
  /**
   * Sees every answer during a run (autocannon's onResponse), for workloads whose answers feed
   * the stock — e.g. a rotated refresh token, itself never presented yet.
   */
  answer?(status: number, body: string): void;
  /** A line for the log about what stocking has cost so far, e.g. "12,000 codes in 8.1 s". */
  describeStocking?(): string | undefined;
}

/** What the runner hands a scenario to set up a target's workload. */
export interface WorkloadContext {
  baseUrl: string;
  connections: number;
}

interface ScenarioBase {
  /** Short, stable id: used in BENCH_SCENARIOS and in the results file. */
  readonly id: string;
  readonly title: string;
  /** The request, in words, for the report. */
  readonly description: string;
  /** Clients, resources, users and trusted issuers the targets must know. */
  readonly fixtures: Fixtures;
  /** Targets it can measure, in the order of the results table (BENCH_TARGETS picks among them). */
  readonly targets: readonly TargetId[];
  /** Those measured when BENCH_TARGETS is not set (default: all of `targets`), to keep a default run short. */
  readonly defaultTargets?: readonly TargetId[];
  /** The status every answer must have; default: any 2xx. */
  readonly expectStatus?: number;
  /**
   * Seconds per measured run when BENCH_DURATION is not set (default 5). For a scenario whose
   * credentials are minted over HTTP beforehand, minting costs about as long again.
   */
  readonly durationSec?: number;
  /** Concurrent connections when BENCH_CONNECTIONS is not set (default 20). */
  readonly connections?: number;
  /** Also report requests per CPU-second of the target's process (read from /proc). */
  readonly perCpuSecond?: boolean;
  /** Checks one answer before the load starts; throws if wrong, else returns a short summary. */
  verify(target: TargetId, res: VerifyInput): string;
  readonly goals: readonly Goal[];
}

/**
 * A scenario: one kind of request measured against several targets. Either every request is the
 * same (`request`), or each needs a fresh credential and the scenario builds a `workload` per
 * target, once the targets are up.
 */
export type Scenario =
  | (ScenarioBase & { request(target: TargetId): RequestSpec; workload?: undefined })
  | (ScenarioBase & { workload(target: TargetId, ctx: WorkloadContext): Workload | Promise<Workload>; request?: undefined });
