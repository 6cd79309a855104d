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
  /** How the person signed in (RFC 8176 amr values) for the ID token; null for codes made before it was kept. */
  amr: string[] | null;
  expiresAt: Date;
  consumedAt: Date | null;
  /** RFC 9449 §10: the DPoP key (`dpop_jkt` at /authorize) the token request must prove. */
  dpopJkt: string | null;
  /** Why the token request that consumed the code was refused; null if it was not (or not yet). */
  exchangeFailure: CodeExchangeFailure | null;
}

/** A code as `find` reads it: with whether its grant has been revoked (consent withdrawn, password changed). */
export interface AuthorizationCodeState extends AuthorizationCode {
  grantRevoked: boolean;
}

/**
 * The first refresh token of the code's grant, for `consume` to write in the same statement. Its
 * idle expiry is `now + idleSeconds`, never past the grant's, which becomes `grantExpiresAt`.
 */
export interface FirstRefreshToken {
  tokenHash: string;
  idleSeconds: number;
  grantExpiresAt: Date;
  /** RFC 9449 §5: the DPoP key it is bound to (a public client's), or null. */
  dpopJkt: string | null;
}

/** What `consume` redeemed: the code, and whether the first refresh token was written with it. */
export interface ConsumedCode {
  code: AuthorizationCode;
  refreshTokenStored: boolean;
}

/** Why a token request refused the code it had consumed (stored as these words). */
export type CodeExchangeFailure = 'redirect_uri' | 'code_verifier' | 'resource' | 'dpop_jkt';

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
  amr: string[] | null;
  expires_at: Date;
  consumed_at: Date | null;
  exchange_failure: CodeExchangeFailure | null;
  dpop_jkt: string | null;
}

/** The columns of Row, spelled out for the prepared statement (which must not use `*`). */
const COLUMN_NAMES = [
  'code_hash',
  'grant_id',
  'client_id',
  'user_id',
  'redirect_uri',
  'scopes',
  'resources',
  'nonce',
  'code_challenge',
  'auth_time',
  'amr',
  'expires_at',
  'consumed_at',
  'exchange_failure',
  'dpop_jkt',
] as const;
const columnsOf = (alias: string) => COLUMN_NAMES.map((c) => `${alias}.${c}`).join(', ');

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
  amr: r.amr,
  expiresAt: r.expires_at,
  consumedAt: r.consumed_at,
  exchangeFailure: r.exchange_failure,
  dpopJkt: r.dpop_jkt,
});

/**
 * Authorization codes (RFC 6749 §4.1.2), stored only as hashes.
 *
 * Contract: `consume` is the one statement that redeems a code: of any number of concurrent calls
 * for one code, in any process, at most one returns it, and only while it is unexpired, consumed
 * by nobody and its grant is not revoked. Given a `FirstRefreshToken`, the same statement starts
 * the grant's refresh-token family (extends the grant, writes the token) when the code's scopes
 * allow one (OIDC Core §11: not `openid` without `offline_access`), so a code exchange costs one
 * round trip. `find` reads a code whatever its state, so the grant can say why it could not be
 * consumed. `recordExchangeFailure` notes, on a consumed code, why the token request that
 * consumed it was refused (so nothing was issued from it), and deletes the refresh token that
 * `consume` wrote for it, which nobody was given. The repository decides nothing about replays:
 * src/grants/authorization-code-policy.ts does.
 */
export interface CodesRepository {
  create(c: Omit<AuthorizationCode, 'consumedAt' | 'exchangeFailure'>): Promise<void>;
  consume(codeHash: string, clientId: string, now: Date, refresh?: FirstRefreshToken): Promise<ConsumedCode | undefined>;
  find(codeHash: string): Promise<AuthorizationCodeState | undefined>;
  recordExchangeFailure(codeHash: string, failure: CodeExchangeFailure, refreshTokenHash?: string): Promise<void>;
}

export function codesRepository(db: Queryable): CodesRepository {
  return {
    async create(c) {
      await db.query(
        `INSERT INTO authorization_codes
           (code_hash, grant_id, client_id, user_id, redirect_uri, scopes, resources, nonce, code_challenge, auth_time, expires_at, amr, dpop_jkt)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
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
          c.amr === null ? null : JSON.stringify(c.amr),
          c.dpopJkt,
        ],
        { name: 'codes.create' },
      );
    },

    /*
     * One statement, atomic on its own: `code` consumes the code (the row lock makes one caller
     * win; a loser re-checks `consumed_at IS NULL` against the winner's commit and matches
     * nothing), `family` extends the grant to its absolute lifetime and `first_token` writes the
     * refresh token, both only from the row `code` consumed. The scope rule here is the store's
     * half of refreshTokenAllowed (src/grants/refresh-issuance.ts); the client's half decides
     * whether $4 is given at all. A grant revoked while this waited for its row writes no token.
     */
    async consume(codeHash, clientId, now, refresh) {
      const r = await db.query<Row & { refresh_token_stored: boolean }>(
        `WITH code AS (
           UPDATE authorization_codes c SET consumed_at = $3
             FROM grants g
            WHERE c.code_hash = $1 AND c.client_id = $2 AND c.consumed_at IS NULL AND c.expires_at > $3
              AND g.id = c.grant_id AND g.revoked_at IS NULL
           RETURNING ${columnsOf('c')}
         ), family AS (
           UPDATE grants g SET expires_at = GREATEST(g.expires_at, $6)
             FROM code
            WHERE $4::text IS NOT NULL AND g.id = code.grant_id AND g.revoked_at IS NULL
              AND (NOT code.scopes ? 'openid' OR code.scopes ? 'offline_access')
           RETURNING g.expires_at
         ), first_token AS (
           INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scopes, resources, auth_time, nonce, created_at, expires_at, dpop_jkt)
           SELECT $4, code.grant_id, code.client_id, code.user_id, code.scopes, code.resources, code.auth_time, code.nonce, $3,
                  LEAST($3::timestamptz + make_interval(secs => $5::double precision), family.expires_at), $7::text
             FROM code, family
           RETURNING 1
         )
         SELECT ${columnsOf('code')}, EXISTS (SELECT 1 FROM first_token) AS refresh_token_stored FROM code`,
        [
          codeHash,
          clientId,
          now,
          refresh?.tokenHash ?? null,
          refresh?.idleSeconds ?? 0,
          refresh?.grantExpiresAt ?? now,
          refresh?.dpopJkt ?? null,
        ],
        { name: 'codes.consume' },
      );
      const row = r.rows[0];
      return row ? { code: toCode(row), refreshTokenStored: row.refresh_token_stored } : undefined;
    },

    async find(codeHash) {
      const r = await db.query<Row & { grant_revoked: boolean }>(
        `SELECT ${columnsOf('c')}, g.revoked_at IS NOT NULL AS grant_revoked
           FROM authorization_codes c JOIN grants g ON g.id = c.grant_id WHERE c.code_hash = $1`,
        [codeHash],
      );
      const row = r.rows[0];
      return row ? { ...toCode(row), grantRevoked: row.grant_revoked } : undefined;
    },

    // One statement: the failure is noted and the refresh token `consume` wrote is gone together.
    async recordExchangeFailure(codeHash, failure, refreshTokenHash) {
      await db.query(
        `WITH dropped AS (DELETE FROM refresh_tokens WHERE token_hash = $3)
         UPDATE authorization_codes SET exchange_failure = $2 WHERE code_hash = $1 AND consumed_at IS NOT NULL`,
        [codeHash, failure, refreshTokenHash ?? null],
      );
    },
  };
}
