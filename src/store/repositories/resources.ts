import type { Queryable } from '../db.js';
import type { Resource } from '../../oauth/client-metadata.js';

interface Row {
  identifier: string;
  scopes: string[];
  access_token_ttl: number | null;
}

const toResource = (r: Row): Resource => ({
  identifier: r.identifier,
  scopes: r.scopes,
  ...(r.access_token_ttl != null ? { access_token_ttl: r.access_token_ttl } : {}),
});

export function resourcesRepository(db: Queryable) {
  return {
    async list(): Promise<Resource[]> {
      return (await db.query<Row>('SELECT identifier, scopes, access_token_ttl FROM resources ORDER BY identifier')).rows.map(toResource);
    },

    async upsert(r: Resource): Promise<'created' | 'updated' | 'unchanged'> {
      const res = await db.query<{ inserted: boolean }>(
        `INSERT INTO resources (identifier, scopes, access_token_ttl) VALUES ($1, $2, $3)
         ON CONFLICT (identifier) DO UPDATE
           SET scopes = EXCLUDED.scopes, access_token_ttl = EXCLUDED.access_token_ttl, updated_at = now()
         WHERE resources.scopes IS DISTINCT FROM EXCLUDED.scopes
            OR resources.access_token_ttl IS DISTINCT FROM EXCLUDED.access_token_ttl
         RETURNING (xmax = 0) AS inserted`,
        [r.identifier, JSON.stringify(r.scopes), r.access_token_ttl ?? null],
      );
      const [row] = res.rows;
      if (!row) return 'unchanged';
      return row.inserted ? 'created' : 'updated';
    },

    async maxAccessTokenTtl(): Promise<number | null> {
      const r = await db.query<{ max: number | null }>('SELECT max(access_token_ttl) AS max FROM resources');
      return r.rows[0]?.max ?? null;
    },
  };
}

export type ResourcesRepository = ReturnType<typeof resourcesRepository>;
