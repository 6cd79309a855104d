import type { Clock } from '../clock.js';
import type { TrustedIssuersRepository } from '../store/repositories/trusted-issuers.js';
import type { TrustedIssuer } from './schema.js';
import type { TrustedIssuerLookup } from './types.js';

/**
 * Trusted issuers cached in memory for a short TTL (docs/architecture.md: caches only for what can be
 * re-read), like client records: a change made through another process (`latchkey trust …`) is
 * seen within CLIENT_CACHE_TTL seconds. Unknown issuers are cached too, in a bounded map, so a
 * flood of made-up `iss` values does not reach the database.
 */
export class TrustedIssuerCache implements TrustedIssuerLookup {
  private entries = new Map<string, { value: TrustedIssuer | undefined; until: number }>();

  constructor(
    private readonly repo: Pick<TrustedIssuersRepository, 'find'>,
    private readonly clock: Clock,
    private readonly ttlSeconds: number,
  ) {}

  async get(issuer: string): Promise<TrustedIssuer | undefined> {
    const now = this.clock.now();
    const hit = this.entries.get(issuer);
    if (hit && hit.until > now) return hit.value;
    const value = (await this.repo.find(issuer))?.metadata;
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(issuer, { value, until: now + this.ttlSeconds * 1000 });
    return value;
  }
}
