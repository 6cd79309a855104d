import type { Queryable } from '../db.js';

/**
 * Grants: one per authorization a person gave a client (a code or device flow), the family every
 * refresh and access token of it belongs to.
 *
 * Contract: `create` writes a grant; `revoke` marks it revoked, once (a second call changes
 * nothing), and every token carrying its id is dead from that statement on. Each method is one
 * statement; bound to a transaction (src/store/transaction.ts) it takes part in it.
 */
export interface GrantsRepository {
  create(g: { id: string; clientId: string; userId: string | null; expiresAt: Date }): Promise<void>;
  revoke(id: string, now: Date): Promise<void>;
}

export function grantsRepository(db: Queryable): GrantsRepository {
  return {
    async create(g) {
      await db.query(
        'INSERT INTO grants (id, client_id, user_id, expires_at) VALUES ($1, $2, $3, $4)',
        [g.id, g.clientId, g.userId, g.expiresAt],
        { name: 'grants.create' },
      );
    },

    async revoke(id, now) {
      await db.query('UPDATE grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [id, now]);
    },
  };
}
