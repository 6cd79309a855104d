import type { Queryable } from '../db.js';

export function revocationsRepository(db: Queryable) {
  return {
    /** Idempotent: revoking twice keeps the first record. */
    async revoke(jti: string, clientId: string, expiresAt: Date): Promise<void> {
      await db.query(
        'INSERT INTO revoked_tokens (jti, client_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING',
        [jti, clientId, expiresAt],
      );
    },

    async isRevoked(jti: string): Promise<boolean> {
      const r = await db.query('SELECT 1 FROM revoked_tokens WHERE jti = $1', [jti]);
      return r.rowCount > 0;
    },
  };
}

export type RevocationsRepository = ReturnType<typeof revocationsRepository>;
