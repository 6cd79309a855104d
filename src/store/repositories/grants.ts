import type { Queryable } from '../db.js';

export function grantsRepository(db: Queryable) {
  return {
    async create(g: { id: string; clientId: string; userId: string | null; expiresAt: Date }): Promise<void> {
      await db.query(
        'INSERT INTO grants (id, client_id, user_id, expires_at) VALUES ($1, $2, $3, $4)',
        [g.id, g.clientId, g.userId, g.expiresAt],
        { name: 'grants.create' },
      );
    },

    /** Revokes a grant, and with it every token carrying its id. */
    async revoke(id: string, now: Date): Promise<void> {
      await db.query('UPDATE grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [id, now]);
    },
  };
}

export type GrantsRepository = ReturnType<typeof grantsRepository>;
