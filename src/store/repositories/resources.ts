import type { Queryable } from '../db.js';
import type { Resource } from '../../oauth/client-metadata.js';

interface Row {
  identifier: string;
  name: string | null;
  scopes: string[];
  scope_descriptions: Record<string, string> | null;
  access_token_ttl: number | null;
  access_token_claims: string[] | null;
}

const toResource = (r: Row): Resource => ({
  identifier: r.identifier,
  ...(r.name != null ? { name: r.name } : {}),
  scopes: r.scopes,
  ...(r.scope_descriptions && Object.keys(r.scope_descriptions).length ? { scope_descriptions: r.scope_descriptions } : {}),
  ...(r.access_token_ttl != null ? { access_token_ttl: r.access_token_ttl } : {}),
  ...(r.access_token_claims?.length ? { access_token_claims: r.access_token_claims } : {}),
});

const COLUMNS = 'identifier, name, scopes, scope_descriptions, access_token_ttl, access_token_claims';

/** The parameters $1..$6 of a resource's row, in COLUMNS order. */
const values = (r: Resource) => [
  r.identifier,
  r.name ?? null,
  JSON.stringify(r.scopes),
  JSON.stringify(r.scope_descriptions ?? {}),
  r.access_token_ttl ?? null,
  JSON.stringify(r.access_token_claims ?? []),
];

export function resourcesRepository(db: Queryable) {
  return {
    async list(): Promise<Resource[]> {
      return (await db.query<Row>(`SELECT ${COLUMNS} FROM resources ORDER BY identifier`)).rows.map(toResource);
    },

    /** Up to `limit` resources in identifier order after `after` (keyset pagination). */
    async page(after: string | undefined, limit: number): Promise<Resource[]> {
      const r = await db.query<Row>(
        `SELECT ${COLUMNS} FROM resources WHERE ($1::text IS NULL OR identifier > $1) ORDER BY identifier LIMIT $2`,
        [after ?? null, limit],
      );
      return r.rows.map(toResource);
    },

    /** The row, locked until the transaction ends (the admin API's read-check-write). */
    async findForUpdate(identifier: string): Promise<Resource | undefined> {
      const [row] = (await db.query<Row>(`SELECT ${COLUMNS} FROM resources WHERE identifier = $1 FOR UPDATE`, [identifier])).rows;
      return row ? toResource(row) : undefined;
    },

    /** Replaces an existing resource; whether there was one. */
    async replace(r: Resource): Promise<boolean> {
      const res = await db.query(
        `UPDATE resources SET name = $2, scopes = $3, scope_descriptions = $4, access_token_ttl = $5,
                          access_token_claims = $6, updated_at = now() WHERE identifier = $1`,
        values(r),
      );
      return res.rowCount > 0;
    },

    async delete(identifier: string): Promise<boolean> {
      return (await db.query('DELETE FROM resources WHERE identifier = $1', [identifier])).rowCount > 0;
    },

    async find(identifier: string): Promise<Resource | undefined> {
      const [row] = (await db.query<Row>(`SELECT ${COLUMNS} FROM resources WHERE identifier = $1`, [identifier])).rows;
      return row ? toResource(row) : undefined;
    },

    /** Creates the resource unless one with this identifier exists (one statement); whether it did. */
    async insert(r: Resource): Promise<boolean> {
      const res = await db.query(
        `INSERT INTO resources (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (identifier) DO NOTHING`,
        values(r),
      );
      return res.rowCount > 0;
    },

    /** Creates or replaces the resource (one statement); says which, or that nothing changed. */
    async upsert(r: Resource): Promise<'created' | 'updated' | 'unchanged'> {
      const res = await db.query<{ inserted: boolean }>(
        `INSERT INTO resources (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (identifier) DO UPDATE
           SET name = EXCLUDED.name, scopes = EXCLUDED.scopes, scope_descriptions = EXCLUDED.scope_descriptions,
               access_token_ttl = EXCLUDED.access_token_ttl, access_token_claims = EXCLUDED.access_token_claims, updated_at = now()
         WHERE resources.name IS DISTINCT FROM EXCLUDED.name
            OR resources.scopes IS DISTINCT FROM EXCLUDED.scopes
            OR resources.scope_descriptions IS DISTINCT FROM EXCLUDED.scope_descriptions
            OR resources.access_token_ttl IS DISTINCT FROM EXCLUDED.access_token_ttl
            OR resources.access_token_claims IS DISTINCT FROM EXCLUDED.access_token_claims
         RETURNING (xmax = 0) AS inserted`,
        values(r),
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
