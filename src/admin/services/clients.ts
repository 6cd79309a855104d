import type { Clock } from '../../clock.js';
import type { Registry } from '../../clients/registry.js';
import { generateClientId, newClientSecret, usesSecret } from '../../clients/credentials.js';
import type { ClientRecord } from '../../domain/client.js';
import { hashClientSecret, type ServerSecrets } from '../../keys/secret.js';
import type { StoredClientMetadata } from '../../oauth/client-metadata.js';
import type { Db } from '../../store/db.js';
import { clientsRepository } from '../../store/repositories/clients.js';
import { checkIfMatch, etagOf } from '../api/etag.js';
import { applyMergePatch } from '../api/merge-patch.js';
import { recordChange, type Actor } from './audit.js';
import { AdminError, invalidBody, invalidField, notFound } from './errors.js';

/** The overlap of POST /clients/{id}/secret when the body does not say: one day. */
export const DEFAULT_SECRET_OVERLAP = 86_400;
/** At most 30 days: an old secret that never dies is no rotation. */
export const MAX_SECRET_OVERLAP = 30 * 86_400;

/** A client as the admin API shows it: its RFC 7591 metadata and dates, never its secret or hash. */
export interface ClientView extends Omit<StoredClientMetadata, 'client_id'> {
  client_id: string;
  has_client_secret: boolean;
  /** Until when the secret replaced by the last rotation still works; null when none does. */
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
  [member: string]: unknown;
}

export function clientView(rec: ClientRecord, now: number): ClientView {
  const { client_id: _id, ...metadata } = rec.metadata;
  const previous = rec.previousSecret && rec.previousSecret.expiresAt.getTime() > now ? rec.previousSecret.expiresAt : undefined;
  return {
    client_id: rec.clientId,
    ...metadata,
    has_client_secret: rec.secretHash !== null,
    previous_secret_expires_at: previous ? previous.toISOString() : null,
    created_at: rec.createdAt.toISOString(),
    updated_at: rec.updatedAt.toISOString(),
  };
}

export interface ClientServiceDeps {
  db: Db;
  secrets: ServerSecrets;
  clock: Clock;
  /** Parses metadata with the server's schema (its grant registry) and is told of changes. */
  registry: Pick<Registry, 'metadataSchema' | 'invalidate'>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Clients: the same validation as the bootstrap file and the CLI (the server's client-metadata
 * schema, src/oauth/client-metadata.ts), stored with the repository the CLI uses, each change
 * audited in its transaction. Every change is told to this process's registry; other processes
 * see it within CLIENT_CACHE_TTL (deleted clients' tokens die at once: tombstones, migration 011).
 */
export function clientsService(deps: ClientServiceDeps) {
  const { db, secrets, clock, registry } = deps;
  const now = () => clock.now();
  const view = (rec: ClientRecord) => clientView(rec, now());

  /** Metadata through the server's schema; each issue names its member. */
  function parseMetadata(input: Record<string, unknown>): { metadata: StoredClientMetadata; secret: string | undefined } {
    const parsed = registry.metadataSchema.safeParse(input);
    if (!parsed.success) throw invalidBody(parsed.error.issues);
    const { client_secret, ...metadata } = parsed.data;
    return { metadata, secret: client_secret };
  }

  return {
    /** `limit + 1` clients after the cursor's client_id, so the caller can tell whether more follow. */
    async list(after: string | undefined, limit: number): Promise<ClientView[]> {
      return (await clientsRepository(db).page(after, limit + 1)).map(view);
    },

    async get(clientId: string): Promise<{ client: ClientView; etag: string }> {
      const rec = await clientsRepository(db).find(clientId);
      if (!rec) throw notFound('client', clientId);
      const client = view(rec);
      return { client, etag: etagOf(client) };
    },

    /**
     * Registers a client from RFC 7591 metadata (the bootstrap file's fields). Without client_id
     * one is made from client_name; a client that authenticates with a secret gets one generated
     * unless `client_secret` is given. The secret is returned here and never again.
     */
    async create(input: unknown, actor: Actor): Promise<{ client: ClientView; etag: string; clientSecret: string | undefined }> {
      if (!isObject(input)) throw invalidField('', 'send the client metadata as a JSON object');
      const withId = {
        ...input,
        client_id: input.client_id ?? generateClientId(typeof input.client_name === 'string' ? input.client_name : '', 'client'),
      };
      const { metadata, secret: given } = parseMetadata(withId);
      const secret = usesSecret(metadata.token_endpoint_auth_method) ? (given ?? newClientSecret()) : undefined;
      const hash = secret ? hashClientSecret(secrets, secret) : null;
      const client = await db.transaction(async (tx) => {
        const repo = clientsRepository(tx);
        if (!(await repo.insert(metadata.client_id, metadata, hash))) {
          throw new AdminError('conflict', `a client with client_id "${metadata.client_id}" already exists`, [
            { pointer: '/client_id', detail: 'already taken' },
          ]);
        }
        const rec = await repo.find(metadata.client_id);
        if (!rec) throw new Error('the client just inserted cannot be read');
        const created = view(rec);
        await recordChange(tx, { type: 'client.created', actor, target: { type: 'client', id: rec.clientId }, after: created });
        return created;
      });
      registry.invalidate(client.client_id);
      return { client, etag: etagOf(client), clientSecret: secret };
    },

    /**
     * RFC 7396 merge patch of the client's metadata, checked against If-Match inside the
     * transaction that holds the row. client_id cannot change; secrets change only through
     * rotateSecret. A client moved to a secret method gets a secret (returned once); one moved
     * away from it loses its secret.
     */
    async update(
      clientId: string,
      patch: unknown,
      ifMatch: string | undefined,
      actor: Actor,
    ): Promise<{ client: ClientView; etag: string; clientSecret: string | undefined }> {
      if (!isObject(patch)) throw invalidField('', 'send a JSON merge patch object (RFC 7396)');
      if ('client_id' in patch && patch.client_id !== clientId) throw invalidField('/client_id', 'client_id cannot be changed');
      if ('client_secret' in patch) {
        throw invalidField('/client_secret', `set a new secret with POST /admin/api/v1/clients/${clientId}/secret`);
      }
      let clientSecret: string | undefined;
      const client = await db.transaction(async (tx) => {
        const repo = clientsRepository(tx);
        const rec = await repo.findForUpdate(clientId);
        if (!rec) throw notFound('client', clientId);
        const before = view(rec);
        checkIfMatch(ifMatch, etagOf(before));
        const { metadata } = parseMetadata(applyMergePatch(rec.metadata, patch) as Record<string, unknown>);
        let hash = rec.secretHash;
        if (!usesSecret(metadata.token_endpoint_auth_method)) hash = null;
        else if (hash === null) {
          clientSecret = newClientSecret();
          hash = hashClientSecret(secrets, clientSecret);
        }
        const updated = await repo.replace(clientId, metadata, hash);
        if (!updated) throw notFound('client', clientId);
        const after = view(updated);
        await recordChange(tx, { type: 'client.updated', actor, target: { type: 'client', id: clientId }, before, after });
        return after;
      });
      registry.invalidate(clientId);
      return { client, etag: etagOf(client), clientSecret };
    },

    /** Deletes the client with its grants, consents and tokens, exactly as the CLI does (tombstone included). */
    async delete(clientId: string, ifMatch: string | undefined, actor: Actor): Promise<void> {
      await db.transaction(async (tx) => {
        const repo = clientsRepository(tx);
        const rec = await repo.findForUpdate(clientId);
        if (!rec) throw notFound('client', clientId);
        const before = view(rec);
        checkIfMatch(ifMatch, etagOf(before));
        if (!(await repo.delete(clientId))) throw notFound('client', clientId);
        await recordChange(tx, { type: 'client.deleted', actor, target: { type: 'client', id: clientId }, before });
      });
      registry.invalidate(clientId);
    },

    /**
     * A new secret; the one it replaces keeps working for `overlapSeconds` (0: stops now), so the
     * client can be redeployed without downtime. Returns the new secret, shown only here.
     */
    async rotateSecret(
      clientId: string,
      overlapSeconds: number,
      actor: Actor,
    ): Promise<{ client_id: string; client_secret: string; client_secret_expires_at: 0; previous_secret_expires_at: string | null }> {
      const secret = newClientSecret();
      const previousExpiresAt = overlapSeconds > 0 ? new Date(now() + overlapSeconds * 1000) : null;
      await db.transaction(async (tx) => {
        const repo = clientsRepository(tx);
        const rec = await repo.findForUpdate(clientId);
        if (!rec) throw notFound('client', clientId);
        const method = rec.metadata.token_endpoint_auth_method;
        if (!usesSecret(method)) {
          throw new AdminError(
            'conflict',
            `client "${clientId}" authenticates with ${method === 'none' ? 'no credentials (a public client)' : method}; it has no client_secret to rotate`,
          );
        }
        // A client without a secret yet gets its first one: nothing to overlap with.
        const updated = await repo.rotateSecret(clientId, hashClientSecret(secrets, secret), rec.secretHash ? previousExpiresAt : null);
        if (!updated) throw notFound('client', clientId);
        await recordChange(tx, {
          type: 'client.secret_rotated',
          actor,
          target: { type: 'client', id: clientId },
          extra: { overlap_seconds: overlapSeconds, overlap_ends_at: previousExpiresAt?.toISOString() ?? null },
        });
      });
      registry.invalidate(clientId);
      return {
        client_id: clientId,
        client_secret: secret,
        client_secret_expires_at: 0,
        previous_secret_expires_at: previousExpiresAt?.toISOString() ?? null,
      };
    },
  };
}

export type ClientsService = ReturnType<typeof clientsService>;
