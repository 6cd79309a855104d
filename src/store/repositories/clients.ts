import type { ClientRecord } from '../../domain/client.js';
import type { Queryable } from '../db.js';
import type { StoredClientMetadata } from '../../oauth/client-metadata.js';

interface Row {
  client_id: string;
  secret_hash: string | null;
  previous_secret_hash?: string | null;
  previous_secret_expires_at?: Date | null;
  metadata: StoredClientMetadata;
  created_at: Date;
  updated_at: Date;
}

const toRecord = (r: Row): ClientRecord => ({
  clientId: r.client_id,
  secretHash: r.secret_hash,
  ...(r.previous_secret_hash && r.previous_secret_expires_at
    ? { previousSecret: { hash: r.previous_secret_hash, expiresAt: r.previous_secret_expires_at } }
    : {}),
  metadata: r.metadata,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export function clientsRepository(db: Queryable) {
  return {
    async find(clientId: string): Promise<ClientRecord | undefined> {
      const r = await db.query<Row>('SELECT * FROM clients WHERE client_id = $1', [clientId]);
      return r.rows[0] ? toRecord(r.rows[0]) : undefined;
    },

    /** The row, locked until the transaction ends (the admin API's read-check-write). */
    async findForUpdate(clientId: string): Promise<ClientRecord | undefined> {
      const r = await db.query<Row>('SELECT * FROM clients WHERE client_id = $1 FOR UPDATE', [clientId]);
      return r.rows[0] ? toRecord(r.rows[0]) : undefined;
    },

    /** Up to `limit` clients in client_id order after `after` (keyset pagination). */
    async page(after: string | undefined, limit: number): Promise<ClientRecord[]> {
      const r = await db.query<Row>('SELECT * FROM clients WHERE ($1::text IS NULL OR client_id > $1) ORDER BY client_id LIMIT $2', [
        after ?? null,
        limit,
      ]);
      return r.rows.map(toRecord);
    },

    /** Replaces metadata and secret hash of an existing client; the updated record, or undefined when there is none. */
    async replace(clientId: string, metadata: StoredClientMetadata, secretHash: string | null): Promise<ClientRecord | undefined> {
      const r = await db.query<Row>(
        `UPDATE clients SET metadata = $2, secret_hash = $3,
                previous_secret_hash = CASE WHEN $3::text IS NULL THEN NULL ELSE previous_secret_hash END,
                previous_secret_expires_at = CASE WHEN $3::text IS NULL THEN NULL ELSE previous_secret_expires_at END,
                updated_at = now()
          WHERE client_id = $1 RETURNING *`,
        [clientId, JSON.stringify(metadata), secretHash],
      );
      return r.rows[0] ? toRecord(r.rows[0]) : undefined;
    },

    /**
     * A new secret hash; the current one stays valid until `previousExpiresAt` (null: it stops
     * now). One statement, so concurrent rotations each keep exactly the secret they replaced.
     */
    async rotateSecret(clientId: string, secretHash: string, previousExpiresAt: Date | null): Promise<ClientRecord | undefined> {
      const r = await db.query<Row>(
        `UPDATE clients SET previous_secret_hash = CASE WHEN $3::timestamptz IS NULL THEN NULL ELSE secret_hash END,
                previous_secret_expires_at = $3::timestamptz, secret_hash = $2, updated_at = now()
          WHERE client_id = $1 RETURNING *`,
        [clientId, secretHash, previousExpiresAt],
      );
      return r.rows[0] ? toRecord(r.rows[0]) : undefined;
    },

    async list(): Promise<ClientRecord[]> {
      return (await db.query<Row>('SELECT * FROM clients ORDER BY client_id')).rows.map(toRecord);
    },

    /**
     * Insert or update; a row whose metadata and secret hash are already equal is left untouched
     * (so applying a bootstrap file twice changes nothing). Returns 'created', 'updated' or
     * 'unchanged'. `secretHash: undefined` keeps the stored hash.
     */
    async upsert(
      clientId: string,
      metadata: StoredClientMetadata,
      secretHash: string | null | undefined,
    ): Promise<'created' | 'updated' | 'unchanged'> {
      const r = await db.query<{ inserted: boolean }>(
        `INSERT INTO clients (client_id, secret_hash, metadata) VALUES ($1, $2, $3)
         ON CONFLICT (client_id) DO UPDATE
           SET metadata = EXCLUDED.metadata,
               secret_hash = CASE WHEN $4 THEN clients.secret_hash ELSE EXCLUDED.secret_hash END,
               updated_at = now()
         WHERE clients.metadata IS DISTINCT FROM EXCLUDED.metadata
            OR (NOT $4 AND clients.secret_hash IS DISTINCT FROM EXCLUDED.secret_hash)
         RETURNING (xmax = 0) AS inserted`,
        [clientId, secretHash ?? null, JSON.stringify(metadata), secretHash === undefined],
      );
      const [row] = r.rows;
      if (!row) return 'unchanged';
      return row.inserted ? 'created' : 'updated';
    },

    /** Create-only (the CLI must never overwrite a client): false when the id is already taken. */
    async insert(clientId: string, metadata: StoredClientMetadata, secretHash: string | null): Promise<boolean> {
      const r = await db.query(
        `INSERT INTO clients (client_id, secret_hash, metadata) VALUES ($1, $2, $3)
         ON CONFLICT (client_id) DO NOTHING RETURNING client_id`,
        [clientId, secretHash, JSON.stringify(metadata)],
      );
      return r.rows.length > 0;
    },

    async setSecretHash(clientId: string, secretHash: string): Promise<boolean> {
      // The replaced secret stops working at once (and so does one kept by an earlier overlap).
      const r = await db.query(
        `UPDATE clients SET secret_hash = $2, previous_secret_hash = NULL, previous_secret_expires_at = NULL, updated_at = now()
          WHERE client_id = $1`,
        [clientId, secretHash],
      );
      return r.rowCount > 0;
    },

    /**
     * Deletes a client and everything a user gave it, in one statement: its grants (with them
     * their codes and refresh tokens; access tokens carrying their ids stop introspecting),
     * remembered consents, pending device codes and interactions, and leaves a tombstone
     * (migration 011) so the stateless access tokens it already holds die too. Registering the
     * same client_id again starts from nothing: no consent, grant or token comes back.
     */
    async delete(clientId: string): Promise<boolean> {
      const r = await db.query<{ deleted: boolean }>(
        `WITH gone AS (DELETE FROM clients WHERE client_id = $1 RETURNING client_id),
         tombstone AS (
           INSERT INTO deleted_clients (client_id, deleted_at) SELECT client_id, now() FROM gone
           ON CONFLICT (client_id) DO UPDATE SET deleted_at = EXCLUDED.deleted_at),
         consents AS (DELETE FROM consents WHERE client_id IN (SELECT client_id FROM gone)),
         grants AS (DELETE FROM grants WHERE client_id IN (SELECT client_id FROM gone)),
         device_codes AS (DELETE FROM device_codes WHERE client_id IN (SELECT client_id FROM gone)),
         interactions AS (DELETE FROM interactions WHERE client_id IN (SELECT client_id FROM gone))
         SELECT EXISTS (SELECT 1 FROM gone) AS deleted`,
        [clientId],
      );
      return r.rows[0]?.deleted === true;
    },
  };
}

export type ClientsRepository = ReturnType<typeof clientsRepository>;
