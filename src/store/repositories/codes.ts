import type { Queryable } from '../db.js';

export interface AuthorizationCode {
  codeHash: string;
  grantId: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  scopes: string[];
  resources: string[];
  nonce: string | null;
  codeChallenge: string | null;
  authTime: Date;
  expiresAt: Date;
  consumedAt: Date | null;
}

interface Row {
  code_hash: string;
  grant_id: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  scopes: string[];
  resources: string[];
  nonce: string | null;
  code_challenge: string | null;
  auth_time: Date;
  expires_at: Date;
  consumed_at: Date | null;
}

/** The columns of Row, spelled out for the prepared statement (which must not use `*`). */
const COLUMNS =
  'code_hash, grant_id, client_id, user_id, redirect_uri, scopes, resources, nonce, code_challenge, auth_time, expires_at, consumed_at';

const toCode = (r: Row): AuthorizationCode => ({
  codeHash: r.code_hash,
  grantId: r.grant_id,
  clientId: r.client_id,
  userId: r.user_id,
  redirectUri: r.redirect_uri,
  scopes: r.scopes,
  resources: r.resources,
  nonce: r.nonce,
  codeChallenge: r.code_challenge,
  authTime: r.auth_time,
  expiresAt: r.expires_at,
  consumedAt: r.consumed_at,
});

export function codesRepository(db: Queryable) {
  return {
    async create(c: Omit<AuthorizationCode, 'consumedAt'>): Promise<void> {
      await db.query(
        `INSERT INTO authorization_codes
           (code_hash, grant_id, client_id, user_id, redirect_uri, scopes, resources, nonce, code_challenge, auth_time, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          c.codeHash,
          c.grantId,
          c.clientId,
          c.userId,
          c.redirectUri,
          JSON.stringify(c.scopes),
          JSON.stringify(c.resources),
          c.nonce,
          c.codeChallenge,
          c.authTime,
          c.expiresAt,
        ],
        { name: 'codes.create' },
      );
    },

    /**
     * Redeems a code in one statement (docs/security.md item 13): of any number of concurrent
     * redemptions by its client, exactly one gets the row.
     */
    async consume(codeHash: string, clientId: string, now: Date): Promise<AuthorizationCode | undefined> {
      const r = await db.query<Row>(
        `UPDATE authorization_codes SET consumed_at = $3
          WHERE code_hash = $1 AND client_id = $2 AND consumed_at IS NULL AND expires_at > $3
          RETURNING ${COLUMNS}`,
        [codeHash, clientId, now],
        { name: 'codes.consume' },
      );
      return r.rows[0] ? toCode(r.rows[0]) : undefined;
    },

    /** Why a code could not be consumed: it may be unknown, foreign, expired or used. */
    async find(codeHash: string): Promise<AuthorizationCode | undefined> {
      const r = await db.query<Row>('SELECT * FROM authorization_codes WHERE code_hash = $1', [codeHash]);
      return r.rows[0] ? toCode(r.rows[0]) : undefined;
    },
  };
}

export type CodesRepository = ReturnType<typeof codesRepository>;
