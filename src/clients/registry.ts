import type { ClientRecord } from '../domain/client.js';
import type { Clock } from '../clock.js';
import type { ClientsRepository } from '../store/repositories/clients.js';
import type { Resource } from '../oauth/client-metadata.js';
import type { ResourcesRepository } from '../store/repositories/resources.js';
import { TtlCache } from '../platform/ttl-cache.js';

/**
 * Client and resource records cached in memory for a short TTL (docs/architecture.md: caches only for what
 * can be re-read). The token endpoint's hot path reads no table: a change made through another
 * process is seen within CLIENT_CACHE_TTL seconds.
 */
export class Registry {
  // Unknown ids are cached too (briefly) so a flood of made-up ids does not reach the database;
  // the cache is bounded so it cannot be grown without limit.
  private readonly clients: TtlCache<string, ClientRecord | undefined>;
  private readonly resources: TtlCache<'all', Map<string, Resource>>;

  constructor(
    private readonly clientsRepo: ClientsRepository,
    private readonly resourcesRepo: ResourcesRepository,
    clock: Clock,
    ttlSeconds: number,
  ) {
    this.clients = new TtlCache(clock, { ttlMs: ttlSeconds * 1000, maxEntries: 10_000 });
    this.resources = new TtlCache(clock, { ttlMs: ttlSeconds * 1000, maxEntries: 1 });
  }

  client(clientId: string): Promise<ClientRecord | undefined> {
    return this.clients.getOrLoad(clientId, () => this.clientsRepo.find(clientId));
  }

  /** Every registered resource by identifier. */
  resourceMap(): Promise<ReadonlyMap<string, Resource>> {
    return this.resources.getOrLoad('all', async () => new Map((await this.resourcesRepo.list()).map((r) => [r.identifier, r])));
  }

  /** Forget cached records (after this process changed them). */
  invalidate(clientId?: string): void {
    if (clientId) this.clients.delete(clientId);
    else this.clients.clear();
    this.resources.clear();
  }
}
