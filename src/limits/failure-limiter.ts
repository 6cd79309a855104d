import { isIPv6 } from 'node:net';
import type { Clock } from '../clock.js';
import type { Bucket, RateLimitsRepository, Reservation, Reserved } from '../store/repositories/rate-limits.js';

export type { Bucket, Reservation, Reserved };

/**
 * The one failure limiter (sign-in, device-code entry, client authentication): fixed windows of
 * `windowSeconds` counted in PostgreSQL, so every limit holds in total across processes.
 *
 * Two ways to use it, by what a guess costs the server:
 * - `reserve` … `release`: for checks that are expensive or that an attacker can run in
 *   parallel (a password's argon2, a user code). The attempt takes a unit from every bucket
 *   atomically BEFORE the check, so N simultaneous guesses can never all be checked against a
 *   limit read before any of them was counted; a successful attempt gives its unit back.
 * - `retryAfter` + `recordFailure`: for client secrets (an HMAC, ≥ 256 bits), where successful
 *   requests must not write to the database. Each process remembers the keys it has seen reach
 *   their limit, so across N processes a burst gets at most limit + N guesses per window.
 */
export class FailureLimiter {
  /** Keys this process has seen full, and when their window ends (epoch ms). */
  private readonly blocked = new Map<string, number>();

  constructor(
    private readonly repo: RateLimitsRepository,
    private readonly clock: Clock,
    readonly windowSeconds: number,
  ) {}

  /** Takes one attempt from every bucket, all or none; refused: how long to wait. */
  reserve(buckets: readonly Bucket[]): Promise<Reservation> {
    return this.repo.reserve(buckets, this.windowSeconds, new Date(this.clock.now()));
  }

  /** The attempt succeeded: it does not count against the limits. */
  async release(reservation: Reservation): Promise<void> {
    if (reservation.ok) await this.repo.release(reservation.reserved);
  }

  /** Seconds until every bucket may be tried again (0: none is known to be full), from memory only. */
  retryAfter(buckets: readonly Bucket[]): number {
    const now = this.clock.now();
    let wait = 0;
    for (const b of buckets) {
      const until = this.blocked.get(b.key);
      if (until === undefined) continue;
      if (until <= now) this.blocked.delete(b.key);
      else wait = Math.max(wait, Math.ceil((until - now) / 1000));
    }
    return wait;
  }

  /** Counts a failure in every bucket; returns the buckets this failure filled. */
  async recordFailure(buckets: readonly Bucket[]): Promise<Bucket[]> {
    const filled: Bucket[] = [];
    for (const b of buckets) {
      const { count, resetAt } = await this.repo.hit(b.key, this.windowSeconds, new Date(this.clock.now()));
      if (count >= b.limit) {
        // Bounded memory: forgetting only costs one more database round trip per key.
        if (this.blocked.size > 50_000) this.blocked.clear();
        this.blocked.set(b.key, resetAt.getTime());
        if (count === b.limit) filled.push(b);
      }
    }
    return filled;
  }
}

/** The buckets a reservation took the last unit of: they are full now if the attempt fails. */
export function filledBy<B extends Bucket>(reservation: Reservation, buckets: readonly B[]): B[] {
  if (!reservation.ok) return [];
  return buckets.filter((b) => reservation.reserved.some((r) => r.key === b.key && r.count >= b.limit));
}

/**
 * The part of a client address that one party controls: an IPv4 address, or an IPv6 address's
 * /64 (RFC 4291 §2.5.4: one subnet, which ISPs hand out whole, so one attacker can use 2^64
 * addresses of it). IPv4-mapped IPv6 (`::ffff:192.0.2.1`) counts as its IPv4 address.
 */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(ip)) return ip;
  const bare = ip.split('%')[0] ?? ip; // a zone index (fe80::1%eth0) is not part of the address
  const [head = '', tail = ''] = bare.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  let h = groups(head);
  const t = groups(tail);
  // An embedded IPv4 tail (::1.2.3.4 forms) only ever sits in the low 64 bits: drop it.
  if (bare.includes('::')) h = [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  const prefix = h.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16));
  while (prefix.length < 4) prefix.push('0');
  return `${prefix.join(':')}::/64`;
}

/** "3 minutes": for the pages that ask a person to wait. */
export const minutes = (seconds: number) => {
  const m = Math.ceil(seconds / 60);
  return `${m} minute${m === 1 ? '' : 's'}`;
};
