import type { Clock } from '../clock.js';
import type { RateLimitsRepository } from '../store/repositories/rate-limits.js';

/**
 * Limits failed client authentications per client and IP (SECURITY.md item 18).
 *
 * The counter lives in PostgreSQL, so the limit holds in total across processes. Successful
 * requests never touch the table: each process remembers which keys are blocked, learning it from
 * the count returned when it records a failure. A process that has not yet seen a failure for a
 * key lets at most one extra guess through before it learns, so across N processes an attacker
 * gets at most limit + N guesses per window — and a secret has ≥ 256 bits anyway.
 */
export class FailureLimiter {
  private blocked = new Map<string, number>();

  constructor(
    private readonly repo: RateLimitsRepository,
    private readonly clock: Clock,
    private readonly limit: number,
    private readonly windowSeconds: number,
  ) {}

  private key(clientId: string, ip: string): string {
    return `client_auth:${clientId}:${ip}`;
  }

  /** Seconds until the key may try again, or 0 when it is not blocked. */
  retryAfter(clientId: string, ip: string): number {
    const until = this.blocked.get(this.key(clientId, ip));
    if (until === undefined) return 0;
    const left = until - this.clock.now();
    if (left <= 0) {
      this.blocked.delete(this.key(clientId, ip));
      return 0;
    }
    return Math.ceil(left / 1000);
  }

  async recordFailure(clientId: string, ip: string): Promise<void> {
    const key = this.key(clientId, ip);
    const { count, resetAt } = await this.repo.hit(key, this.windowSeconds, new Date(this.clock.now()));
    if (count >= this.limit) {
      if (this.blocked.size > 50_000) this.blocked.clear();
      this.blocked.set(key, resetAt.getTime());
    }
  }
}
