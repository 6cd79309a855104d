import type { ClientRecord } from '../domain/client.js';
import type { Clock } from '../clock.js';
import type { ClientsRepository } from '../store/repositories/clients.js';
import type { Resource } from '../oauth/client-metadata.js';
import type { ResourcesRepository } from '../store/repositories/resources.js';

/**
 * Client and resource records cached in memory for a short TTL (docs/architecture.md: caches only for what
 * can be re-read). The token endpoint's hot path reads no table: a change made through another
 * process is seen within CLIENT_CACHE_TTL seconds.
 */
export class Registry {
  private clients = new Map<string, { value: ClientRecord | undefined; until: number }>();
  private resources: { value: Map<string, Resource>; until: number } | undefined;
  private pendingResources: Promise<Map<string, Resource>> | undefined;

  constructor(
    private readonly clientsRepo: ClientsRepository,
    private readonly resourcesRepo: ResourcesRepository,
    private readonly clock: Clock,
    private readonly ttlSeconds: number,
  ) {}

  async client(clientId: string): Promise<ClientRecord | undefined> {
    const now = this.clock.now();
    const hit = this.clients.get(clientId);
    if (hit && hit.until > now) return hit.value;
    const value = await this.clientsRepo.find(clientId);
    // Unknown ids are cached too (briefly) so a flood of made-up ids does not reach the database,
    // but the map is bounded so it cannot be grown without limit.
    if (this.clients.size > 10_000) this.clients.clear();
    this.clients.set(clientId, { value, until: now + this.ttlSeconds * 1000 });
    return value;
  }

  /** Every registered resource by identifier. */
  resourceMap(): Promise<ReadonlyMap<string, Resource>> {
    return this.allResources();
  }

  private async allResources(): Promise<Map<string, Resource>> {
    const now = this.clock.now();
    if (this.resources && this.resources.until > now) return this.resources.value;
    this.pendingResources ??= this.resourcesRepo
      .list()
      .then((list) => {
        const value = new Map(list.map((r) => [r.identifier, r]));
        this.resources = { value, until: this.clock.now() + this.ttlSeconds * 1000 };
        return value;
      })
      .finally(() => {
        this.pendingResources = undefined;
      });
    return this.pendingResources;
  }

  /** Forget cached records (after this process changed them). */
  invalidate(clientId?: string): void {
    if (clientId) this.clients.delete(clientId);
    else this.clients.clear();
    this.resources = undefined;
  }
}
