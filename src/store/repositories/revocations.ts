import { onlyRow, type Queryable } from '../db.js';

export function revocationsRepository(db: Queryable) {
  return {
    /** Idempotent: revoking twice keeps the first record. */
    async revoke(jti: string, clientId: string, expiresAt: Date): Promise<void> {
      await db.query('INSERT INTO revoked_tokens (jti, client_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING', [
        jti,
        clientId,
        expiresAt,
      ]);
    },

    /**
     * Whether a token is revoked: by its own jti, or through its grant (`gid`) — a revoked grant,
     * or one that no longer exists, revokes every token issued under it.
     */
    async isRevoked(jti: string, grantId?: string): Promise<boolean> {
      if (!grantId) {
        return (await db.query('SELECT 1 FROM revoked_tokens WHERE jti = $1', [jti])).rowCount > 0;
      }
      const r = await db.query<{ revoked: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $1)
             OR NOT EXISTS (SELECT 1 FROM grants WHERE id = $2 AND revoked_at IS NULL) AS revoked`,
        [jti, grantId],
      );
      return onlyRow(r).revoked;
    },
  };
}

export type RevocationsRepository = ReturnType<typeof revocationsRepository>;
