import type { Queryable } from '../db.js';

/**
 * Remembered consent: per user, client and resource (a resource identifier, or '' for the OpenID
 * scopes), the scopes granted there. interaction/consent.ts decides what a request needs.
 */
export function consentsRepository(db: Queryable) {
  return {
    /** Everything the user has granted the client: resource → scopes. */
    async granted(userId: string, clientId: string): Promise<Map<string, string[]>> {
      const r = await db.query<{ resource: string; scopes: string[] }>(
        'SELECT resource, scopes FROM consents WHERE user_id = $1 AND client_id = $2',
        [userId, clientId],
      );
      return new Map(r.rows.map((row) => [row.resource, row.scopes]));
    },

    /** Adds scopes at each resource to what the user has granted the client (one statement, no lost update). */
    async grant(userId: string, clientId: string, consent: ReadonlyMap<string, readonly string[]>): Promise<void> {
      if (consent.size === 0) return;
      await db.query(
        `INSERT INTO consents (user_id, client_id, resource, scopes)
         SELECT $1, $2, g.key, g.value FROM jsonb_each($3::jsonb) AS g
         ON CONFLICT (user_id, client_id, resource) DO UPDATE SET
           scopes = (SELECT jsonb_agg(DISTINCT s) FROM jsonb_array_elements_text(consents.scopes || EXCLUDED.scopes) AS s),
           updated_at = now()`,
        [userId, clientId, JSON.stringify(Object.fromEntries(consent))],
      );
    },

    /** Withdraws consent and revokes the user's grants to the client (refresh and access tokens). */
    async revoke(userId: string, clientId: string): Promise<boolean> {
      const r = await db.query(
        `WITH revoked AS (UPDATE grants SET revoked_at = now() WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL)
         DELETE FROM consents WHERE user_id = $1 AND client_id = $2`,
        [userId, clientId],
      );
      return r.rowCount > 0;
    },
  };
}

export type ConsentsRepository = ReturnType<typeof consentsRepository>;
