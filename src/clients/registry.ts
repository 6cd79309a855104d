import type { ClientRecord } from '../domain/client.js';
import type { Clock } from '../clock.js';
import type { ClientsRepository } from '../store/repositories/clients.js';
import { describeIssues, type ClientMetadataSchema, type Resource } from '../oauth/client-metadata.js';
import type { ResourcesRepository } from '../store/repositories/resources.js';
import { TtlCache } from '../platform/ttl-cache.js';

/**
 * A stored client whose metadata no longer passes its schema (a row written by hand or by an
 * older version under rules since tightened). The client is not served with metadata nobody
 * validated: the request fails as a server fault, and the log names the client and the field.
 */
export class StoredClientInvalidError extends Error {
  readonly code = 'stored_client_invalid';
  constructor(
    readonly clientId: string,
    detail: string,
  ) {
    super(`stored metadata of client "${clientId}" does not pass its schema: ${detail}`);
    this.name = 'StoredClientInvalidError';
  }
}

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
    /** The server's client-metadata schema (built from its grant registry): rows are parsed by it when read. */
    readonly metadataSchema: ClientMetadataSchema,
  ) {
    this.clients = new TtlCache(clock, { ttlMs: ttlSeconds * 1000, maxEntries: 10_000 });
    this.resources = new TtlCache(clock, { ttlMs: ttlSeconds * 1000, maxEntries: 1 });
  }

  client(clientId: string): Promise<ClientRecord | undefined> {
    return this.clients.getOrLoad(clientId, async () => {
      const record = await this.clientsRepo.find(clientId);
      return record && this.parsed(record);
    });
  }

  /** Metadata is parsed by its schema when read, never trusted from the jsonb column as is. */
  private parsed(record: ClientRecord): ClientRecord {
    const result = this.metadataSchema.safeParse(record.metadata);
    if (!result.success) throw new StoredClientInvalidError(record.clientId, describeIssues(result.error));
    const { client_secret: _secret, ...metadata } = result.data;
    return { ...record, metadata };
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
