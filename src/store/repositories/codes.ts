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
  /** Why the token request that consumed the code was refused; null if it was not (or not yet). */
  exchangeFailure: CodeExchangeFailure | null;
}

/** Why a token request refused the code it had consumed (stored as these words). */
export type CodeExchangeFailure = 'redirect_uri' | 'code_verifier' | 'resource';

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
  exchange_failure: CodeExchangeFailure | null;
}

/** The columns of Row, spelled out for the prepared statement (which must not use `*`). */
const COLUMNS =
  'code_hash, grant_id, client_id, user_id, redirect_uri, scopes, resources, nonce, code_challenge, auth_time, expires_at, consumed_at, exchange_failure';

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
  exchangeFailure: r.exchange_failure,
});

/**
 * Authorization codes (RFC 6749 §4.1.2), stored only as hashes.
 *
 * Contract: `consume` is the one statement that redeems a code: of any number of concurrent calls
 * for one code, in any process, at most one returns it, and only while it is unexpired and
 * consumed by nobody. `find` reads a code whatever its state, so the grant can say why it could
 * not be consumed. `recordExchangeFailure` notes, on a consumed code, why the token request that
 * consumed it was refused (so nothing was issued from it). The repository decides nothing about
 * replays: src/grants/authorization-code-policy.ts does.
 */
export interface CodesRepository {
  create(c: Omit<AuthorizationCode, 'consumedAt' | 'exchangeFailure'>): Promise<void>;
  consume(codeHash: string, clientId: string, now: Date): Promise<AuthorizationCode | undefined>;
  find(codeHash: string): Promise<AuthorizationCode | undefined>;
  recordExchangeFailure(codeHash: string, failure: CodeExchangeFailure): Promise<void>;
}

export function codesRepository(db: Queryable): CodesRepository {
  return {
    async create(c) {
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

    async consume(codeHash, clientId, now) {
      const r = await db.query<Row>(
        `UPDATE authorization_codes SET consumed_at = $3
          WHERE code_hash = $1 AND client_id = $2 AND consumed_at IS NULL AND expires_at > $3
          RETURNING ${COLUMNS}`,
        [codeHash, clientId, now],
        { name: 'codes.consume' },
      );
      return r.rows[0] ? toCode(r.rows[0]) : undefined;
    },

    async find(codeHash) {
      const r = await db.query<Row>(`SELECT ${COLUMNS} FROM authorization_codes WHERE code_hash = $1`, [codeHash]);
      return r.rows[0] ? toCode(r.rows[0]) : undefined;
    },

    async recordExchangeFailure(codeHash, failure) {
      await db.query('UPDATE authorization_codes SET exchange_failure = $2 WHERE code_hash = $1 AND consumed_at IS NOT NULL', [
        codeHash,
        failure,
      ]);
    },
  };
}
