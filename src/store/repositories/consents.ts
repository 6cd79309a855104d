import type { Queryable } from '../db.js';

export function consentsRepository(db: Queryable) {
  return {
    async scopes(userId: string, clientId: string): Promise<string[]> {
      const r = await db.query<{ scopes: string[] }>('SELECT scopes FROM consents WHERE user_id = $1 AND client_id = $2', [
        userId,
        clientId,
      ]);
      return r.rows[0]?.scopes ?? [];
    },

    /** Adds scopes to what the user has granted the client (one statement, no lost update). */
    async grant(userId: string, clientId: string, scopes: readonly string[]): Promise<void> {
      await db.query(
        `INSERT INTO consents (user_id, client_id, scopes) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, client_id) DO UPDATE SET
           scopes = (SELECT jsonb_agg(DISTINCT s) FROM jsonb_array_elements_text(consents.scopes || EXCLUDED.scopes) AS s),
           updated_at = now()`,
        [userId, clientId, JSON.stringify(scopes)],
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
