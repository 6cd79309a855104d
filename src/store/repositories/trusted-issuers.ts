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
