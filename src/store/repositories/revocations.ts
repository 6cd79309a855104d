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
     * Whether an access token of ours (or, without a jti, an ID token naming its grant) is still
     * live, in one statement: not revoked by its own jti; its grant (`gid`, when it has one) still
     * exists and is not revoked (a revoked or deleted grant revokes every token issued under it);
     * and neither its client nor its subject — when the subject is a client, as in client
     * credentials tokens and the exchanges made from them — deleted since it was issued (migration
     * 011: a tombstone kills the tokens issued up to and including the second of the deletion, and
     * every token until the id is registered again).
     */
    async accessTokenStatus(t: {
      jti: string | undefined;
      grantId: string | undefined;
      clientId: string;
      subject: string;
      issuedAt: number;
    }): Promise<AccessTokenStatus> {
      const r = await db.query<{ revoked: boolean; grant_revoked: boolean; client_deleted: boolean }>(
        `SELECT ($1::text IS NOT NULL AND EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $1::text)) AS revoked,
                ($2::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM grants WHERE id = $2::text AND revoked_at IS NULL)) AS grant_revoked,
                EXISTS (
                  SELECT 1 FROM deleted_clients d
                   WHERE d.client_id IN ($3, $5)
                     AND NOT EXISTS (
                       SELECT 1 FROM clients c
                        WHERE c.client_id = d.client_id
                          AND c.created_at > d.deleted_at
                          AND $4::bigint > floor(extract(epoch FROM d.deleted_at))
                          AND $4::bigint >= floor(extract(epoch FROM c.created_at)))) AS client_deleted`,
        [t.jti ?? null, t.grantId ?? null, t.clientId, t.issuedAt, t.subject],
        { name: 'revocations.access_token_status' },
      );
      const row = onlyRow(r);
      return row.revoked || row.grant_revoked ? 'revoked' : row.client_deleted ? 'client_deleted' : 'live';
    },
  };
}

/** What a stored check says of a signed, unexpired access token. */
export type AccessTokenStatus = 'live' | 'revoked' | 'client_deleted';

export type RevocationsRepository = ReturnType<typeof revocationsRepository>;
