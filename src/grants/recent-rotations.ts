/**
 * A mark of this process's monotonic clock (`performance.now()`, milliseconds): the token
 * endpoint takes one for the moment the request arrived (when the server began routing it, before
 * its body was read), and this module one when a change it made to a token has committed (its
 * statement returned). Marks of one process are ordered; they are never compared across processes.
 */
export type ArrivalMark = number;

export const arrivalMark = (): ArrivalMark => performance.now();

/**
 * Keeps a mark from longer ago than any request can take to get from its arrival to reading its
 * token (body, client authentication and a statement, each bounded by REQUEST_TIMEOUT and
 * DB_STATEMENT_TIMEOUT_MS): a request older than this is treated as arriving after the rotation.
 */
const RETENTION_MS = 120_000;

/**
 * The rotations this process committed, with the mark taken once each had committed: which
 * requests arrived before them. This is the exact half of "did the request arrive before the
 * rotation committed?" that the database cannot answer. On one connection (PGlite, or a request
 * that waited for a pooled connection) requests reach the store one after another, so a request
 * that arrived at the server while another was rotating its token only reaches the store after
 * the commit; the process saw both events, in order, on one clock. Requests that reached the
 * store before the commit are told apart by the store itself (RefreshTokensRepository.rotate's
 * snapshot), in whichever process they run.
 *
 * Memory: one entry per token rotated in the last RETENTION_MS by this process.
 */
export class RecentRotations {
  private readonly committed = new Map<string, ArrivalMark>();
  /** Per token, the marks at which this process's attempts to change it began, while in flight. */
  private readonly inFlight = new Map<string, ArrivalMark[]>();

  constructor(private readonly now: () => ArrivalMark = arrivalMark) {}

  /**
   * Call before a statement that may change the token (rotate it, give it a new successor); call
   * the function it returns once the statement has finished, saying whether it changed the token.
   */
  begin(tokenHash: string): (changed: boolean) => void {
    const began = this.now();
    this.inFlight.set(tokenHash, [...(this.inFlight.get(tokenHash) ?? []), began]);
    let ended = false;
    return (changed) => {
      if (ended) return;
      ended = true;
      const list = this.inFlight.get(tokenHash) ?? [];
      const i = list.indexOf(began);
      const rest = i < 0 ? list : [...list.slice(0, i), ...list.slice(i + 1)];
      if (rest.length) this.inFlight.set(tokenHash, rest);
      else this.inFlight.delete(tokenHash);
      if (changed) this.record(tokenHash);
    };
  }

  private record(tokenHash: string): void {
    const mark = this.now();
    // Re-inserted so the map stays ordered by mark, oldest first, for pruning.
    this.committed.delete(tokenHash);
    this.committed.set(tokenHash, mark);
    for (const [hash, at] of this.committed) {
      if (mark - at <= RETENTION_MS) break;
      this.committed.delete(hash);
    }
  }

  /**
   * True if this process committed a change to the token after `arrival`, or began one before
   * `arrival` that is still in flight (its commit, if it makes one, cannot precede a request that
   * arrived while it ran, and its successor has not been handed to anyone). An attempt that began
   * after the request arrived does not count: of replays overlapping each other, the first to
   * arrive is never excused by the others, so sending many at once cannot hide a reuse. (The
   * caller has ended its own attempt first.)
   */
  changedAfter(tokenHash: string, arrival: ArrivalMark): boolean {
    if (this.inFlight.get(tokenHash)?.some((began) => began < arrival)) return true;
    const at = this.committed.get(tokenHash);
    return at !== undefined && at > arrival;
  }

  /** Tokens remembered (for tests of the pruning). */
  get size(): number {
    return this.committed.size;
  }
}
