import type { Queryable } from '../db.js';
import type { TrustedIssuer } from '../../trust/schema.js';

export interface TrustedIssuerRecord {
  issuer: string;
  metadata: TrustedIssuer;
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  issuer: string;
  metadata: TrustedIssuer;
  created_at: Date;
  updated_at: Date;
}

const toRecord = (r: Row): TrustedIssuerRecord => ({
  issuer: r.issuer,
  metadata: r.metadata,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export function trustedIssuersRepository(db: Queryable) {
  return {
    async find(issuer: string): Promise<TrustedIssuerRecord | undefined> {
      const r = await db.query<Row>('SELECT * FROM trusted_issuers WHERE issuer = $1', [issuer]);
      return r.rows[0] ? toRecord(r.rows[0]) : undefined;
    },

    /** Up to `limit` trusted issuers in issuer order after `after` (keyset pagination). */
    async page(after: string | undefined, limit: number): Promise<TrustedIssuerRecord[]> {
      const r = await db.query<Row>('SELECT * FROM trusted_issuers WHERE ($1::text IS NULL OR issuer > $1) ORDER BY issuer LIMIT $2', [
        after ?? null,
        limit,
      ]);
      return r.rows.map(toRecord);
    },

    /** The row, locked until the transaction ends (the admin API's read-check-write). */
    async findForUpdate(issuer: string): Promise<TrustedIssuerRecord | undefined> {
      const r = await db.query<Row>('SELECT * FROM trusted_issuers WHERE issuer = $1 FOR UPDATE', [issuer]);
      return r.rows[0] ? toRecord(r.rows[0]) : undefined;
    },

    /** Replaces an existing entry; whether there was one. */
    async replace(t: TrustedIssuer): Promise<boolean> {
      const r = await db.query('UPDATE trusted_issuers SET metadata = $2, updated_at = now() WHERE issuer = $1', [
        t.issuer,
        JSON.stringify(t),
      ]);
      return r.rowCount > 0;
    },

    async list(): Promise<TrustedIssuerRecord[]> {
      return (await db.query<Row>('SELECT * FROM trusted_issuers ORDER BY issuer')).rows.map(toRecord);
    },

    /**
     * Insert or update; an entry already equal is left untouched, so applying a bootstrap file
     * twice changes nothing (jsonb equality ignores key order).
     */
    async upsert(t: TrustedIssuer): Promise<'created' | 'updated' | 'unchanged'> {
      const r = await db.query<{ inserted: boolean }>(
        `INSERT INTO trusted_issuers (issuer, metadata) VALUES ($1, $2)
         ON CONFLICT (issuer) DO UPDATE SET metadata = EXCLUDED.metadata, updated_at = now()
         WHERE trusted_issuers.metadata IS DISTINCT FROM EXCLUDED.metadata
         RETURNING (xmax = 0) AS inserted`,
        [t.issuer, JSON.stringify(t)],
      );
      const [row] = r.rows;
      if (!row) return 'unchanged';
      return row.inserted ? 'created' : 'updated';
    },

    /** Create-only: false when the issuer is already trusted. */
    async insert(t: TrustedIssuer): Promise<boolean> {
      const r = await db.query(
        'INSERT INTO trusted_issuers (issuer, metadata) VALUES ($1, $2) ON CONFLICT (issuer) DO NOTHING RETURNING issuer',
        [t.issuer, JSON.stringify(t)],
      );
      return r.rows.length > 0;
    },

    async delete(issuer: string): Promise<boolean> {
      return (await db.query('DELETE FROM trusted_issuers WHERE issuer = $1', [issuer])).rowCount > 0;
    },
  };
}

export type TrustedIssuersRepository = ReturnType<typeof trustedIssuersRepository>;
