import type { Clock } from '../clock.js';
import type { TrustedIssuersRepository } from '../store/repositories/trusted-issuers.js';
import type { TrustedIssuer } from './schema.js';
import type { TrustedIssuerLookup } from './types.js';
import { TtlCache } from '../platform/ttl-cache.js';

/**
 * Trusted issuers cached in memory for a short TTL (docs/architecture.md: caches only for what can be
 * re-read), like client records: a change made through another process (`latchkey trust …`) is
 * seen within CLIENT_CACHE_TTL seconds. Unknown issuers are cached too, in a bounded map, so a
 * flood of made-up `iss` values does not reach the database.
 */
export class TrustedIssuerCache implements TrustedIssuerLookup {
  private readonly entries: TtlCache<string, TrustedIssuer | undefined>;

  constructor(
    private readonly repo: Pick<TrustedIssuersRepository, 'find'>,
    clock: Clock,
    ttlSeconds: number,
  ) {
    this.entries = new TtlCache(clock, { ttlMs: ttlSeconds * 1000, maxEntries: 10_000 });
  }

  get(issuer: string): Promise<TrustedIssuer | undefined> {
    return this.entries.getOrLoad(issuer, async () => (await this.repo.find(issuer))?.metadata);
  }
}
