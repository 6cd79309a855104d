/**
 * What the primary does when a worker dies on its own (not at shutdown): restart it, waiting
 * longer each time it dies again soon after starting, and give up — stopping the service with
 * the worker's error — once it keeps dying within seconds, as a worker that cannot start does
 * (a bad setting, an unreachable database). A worker that ran for a while starts afresh at once.
 */
export interface RestartPolicy {
  /** A worker that dies within this many ms of being forked died "soon". */
  soonMs: number;
  /** Consecutive soon deaths of one slot tolerated; one more and the primary gives up. */
  maxSoonDeaths: number;
  /** The wait before the first restart after a soon death; it doubles with each further one. */
  firstDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { soonMs: 10_000, maxSoonDeaths: 3, firstDelayMs: 500, maxDelayMs: 30_000 };

/** Per worker slot: its consecutive soon deaths. */
export interface SlotHistory {
  soonDeaths: number;
}

export type RestartDecision = { action: 'restart'; delayMs: number; history: SlotHistory } | { action: 'give-up'; history: SlotHistory };

/** A pure decision from how long the worker lived and the slot's history. */
export function afterWorkerDeath(history: SlotHistory, livedMs: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): RestartDecision {
  if (livedMs >= policy.soonMs) return { action: 'restart', delayMs: 0, history: { soonDeaths: 0 } };
  const soonDeaths = history.soonDeaths + 1;
  if (soonDeaths > policy.maxSoonDeaths) return { action: 'give-up', history: { soonDeaths } };
  const delayMs = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (soonDeaths - 1));
  return { action: 'restart', delayMs, history: { soonDeaths } };
}
