import type { Queryable } from '../db.js';

export interface RefreshToken {
  tokenHash: string;
  grantId: string;
  clientId: string;
  userId: string | null;
  scopes: string[];
  resources: string[];
  authTime: Date | null;
  nonce: string | null;
  createdAt: Date;
  expiresAt: Date;
  /** Set, once, by the refresh that rotated this token out; `successorHash` is what replaced it. */
  rotatedAt: Date | null;
  successorHash: string | null;
  revokedAt: Date | null;
  /** Set when a retry of its predecessor inside REFRESH_TOKEN_GRACE replaced it before it was used. */
  replacedAt: Date | null;
  /** RFC 9449 §5: thumbprint of the DPoP key a public client's token is bound to; rotation keeps it. */
  dpopJkt: string | null;
}

/** A refresh token with the state of its grant (the family): what the refresh policy decides from. */
export interface RefreshTokenState extends RefreshToken {
  grantRevoked: boolean;
  grantExpiresAt: Date;
}

export type NewRefreshToken = Omit<RefreshToken, 'rotatedAt' | 'successorHash' | 'revokedAt' | 'replacedAt'>;

/** What `rotate` did: rotated the token, or (having changed nothing) what it found. */
export type RotateResult =
  | { rotated: true; token: RefreshTokenState }
  | {
      rotated: false;
      /**
       * The token as the statement found it when it began, before waiting for any concurrent
       * writer of the row: the committed state as of this request's arrival at the store.
       */
      atArrival: RefreshTokenState | undefined;
    };

/**
 * Refresh tokens (RFC 6749 §6): one row per token, stored only as a hash, a family per grant.
 *
 * Contract (as fosite's storage interfaces state theirs):
 * - The repository stores and fetches; it decides nothing about reuse, grace or concurrency
 *   (src/grants/refresh-policy.ts does).
 * - Every write that depends on a token's state is a compare-and-set in ONE statement: it changes
 *   the row only if the row is still as the caller expects, and says whether it did. Of any
 *   number of concurrent callers, in any number of processes, at most one succeeds.
 * - A token is live when it is not rotated, replaced or revoked, not expired, and its grant is
 *   neither revoked nor expired (`LIVE` below): `rotate` and `keep` write only live tokens.
 * - `rotate` marks a live token rotated and writes its successor in the same statement: there is
 *   never a rotated token without its successor.
 * - Bound to a transaction (src/store/transaction.ts), each method takes part in it.
 */
export interface RefreshTokensRepository {
  /** A new family: extends the grant to its absolute lifetime and writes the first token. */
  startFamily(t: Omit<NewRefreshToken, 'expiresAt'>, grantExpiresAt: Date, idleSeconds: number): Promise<void>;
  create(t: NewRefreshToken): Promise<void>;
  /** The token with its grant's state, as committed when the statement began. */
  find(tokenHash: string): Promise<RefreshTokenState | undefined>;
  /**
   * If the token is live and belongs to `clientId`: marks it rotated and writes its successor
   * (same grant, scopes, resources and DPoP binding; idle expiry `now + idleSeconds`, never past
   * the grant's). A token bound to a DPoP key rotates only when `dpopJkt` is that key.
   */
  rotate(
    tokenHash: string,
    clientId: string,
    now: Date,
    successorHash: string,
    idleSeconds: number,
    dpopJkt: string | null,
  ): Promise<RotateResult>;
  /** If the token is live: restarts its idle expiry (rotation off). False if it was not live. */
  keep(tokenHash: string, now: Date, idleSeconds: number): Promise<boolean>;
  /** Points a rotated token at a new successor, if its successor is still `expectedSuccessorHash`. */
  repointSuccessor(tokenHash: string, expectedSuccessorHash: string, successorHash: string): Promise<boolean>;
  /** Marks a token replaced, if it has not been used (rotated), replaced or revoked. */
  replaceIfUnused(tokenHash: string, now: Date): Promise<boolean>;
}

interface Row {
  token_hash: string;
  grant_id: string;
  client_id: string;
  user_id: string | null;
  scopes: string[];
  resources: string[];
  auth_time: Date | null;
  nonce: string | null;
  created_at: Date;
  expires_at: Date;
  rotated_at: Date | null;
  successor_hash: string | null;
  revoked_at: Date | null;
  replaced_at: Date | null;
  dpop_jkt: string | null;
}
type StateRow = Row & { grant_revoked: boolean; grant_expires_at: Date };

/** The columns of Row, spelled out for prepared statements (which must not use `*`). */
const COLUMNS = [
  'token_hash',
  'grant_id',
  'client_id',
  'user_id',
  'scopes',
  'resources',
  'auth_time',
  'nonce',
  'created_at',
  'expires_at',
  'rotated_at',
  'successor_hash',
  'revoked_at',
  'replaced_at',
  'dpop_jkt',
] as const;
const columnsOf = (alias: string) => COLUMNS.map((c) => `${alias}.${c}`).join(', ');

/** A live token `t` of a live grant `g` at time $now (the parameter named). */
const LIVE = (now: string) =>
  `t.rotated_at IS NULL AND t.replaced_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > ${now}
   AND g.id = t.grant_id AND g.revoked_at IS NULL AND g.expires_at > ${now}`;

const toState = (r: StateRow): RefreshTokenState => ({
  tokenHash: r.token_hash,
  grantId: r.grant_id,
  clientId: r.client_id,
  userId: r.user_id,
  scopes: r.scopes,
  resources: r.resources,
  authTime: r.auth_time,
  nonce: r.nonce,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  rotatedAt: r.rotated_at,
  successorHash: r.successor_hash,
  revokedAt: r.revoked_at,
  replacedAt: r.replaced_at,
  dpopJkt: r.dpop_jkt,
  grantRevoked: r.grant_revoked,
  grantExpiresAt: r.grant_expires_at,
});

export function refreshTokensRepository(db: Queryable): RefreshTokensRepository {
  return {
    async create(t) {
      await db.query(
        `INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scopes, resources, auth_time, nonce, created_at, expires_at, dpop_jkt)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          t.tokenHash,
          t.grantId,
          t.clientId,
          t.userId,
          JSON.stringify(t.scopes),
          JSON.stringify(t.resources),
          t.authTime,
          t.nonce,
          t.createdAt,
          t.expiresAt,
          t.dpopJkt,
        ],
      );
    },

    // One statement (one round trip, atomic on its own).
    async startFamily(t, grantExpiresAt, idleSeconds) {
      await db.query(
        `WITH g AS (
           UPDATE grants SET expires_at = GREATEST(expires_at, $11) WHERE id = $2 RETURNING expires_at
         )
         INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scopes, resources, auth_time, nonce, created_at, expires_at, dpop_jkt)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, LEAST($9::timestamptz + make_interval(secs => $10::double precision), g.expires_at), $12 FROM g`,
        [
          t.tokenHash,
          t.grantId,
          t.clientId,
          t.userId,
          JSON.stringify(t.scopes),
          JSON.stringify(t.resources),
          t.authTime,
          t.nonce,
          t.createdAt,
          idleSeconds,
          grantExpiresAt,
          t.dpopJkt,
        ],
        { name: 'refresh_tokens.start_family' },
      );
    },

    async find(tokenHash) {
      const r = await db.query<StateRow>(
        `SELECT ${columnsOf('t')}, g.revoked_at IS NOT NULL AS grant_revoked, g.expires_at AS grant_expires_at
           FROM refresh_tokens t JOIN grants g ON g.id = t.grant_id WHERE t.token_hash = $1`,
        [tokenHash],
        { name: 'refresh_tokens.find' },
      );
      return r.rows[0] ? toState(r.rows[0]) : undefined;
    },

    /*
     * The hot path in one statement. All parts of a statement share one snapshot, taken when it
     * begins: `arrival` reads the row as committed then. The UPDATE, if another transaction holds
     * the row, waits for it and re-checks its WHERE against the row as that one committed it
     * (PostgreSQL's READ COMMITTED rule), so a rotation that committed while this statement
     * waited makes it match nothing, while `arrival` still shows the token live: the caller
     * learns, exactly, that the token changed after it arrived.
     */
    async rotate(tokenHash, clientId, now, successorHash, idleSeconds, dpopJkt) {
      const r = await db.query<StateRow & { rotated: boolean }>(
        `WITH arrival AS (
           SELECT ${columnsOf('t')}, g.revoked_at IS NOT NULL AS grant_revoked, g.expires_at AS grant_expires_at
             FROM refresh_tokens t JOIN grants g ON g.id = t.grant_id WHERE t.token_hash = $1
         ), old AS (
           UPDATE refresh_tokens t SET rotated_at = $3, successor_hash = $4
             FROM grants g
            WHERE t.token_hash = $1 AND t.client_id = $2 AND ${LIVE('$3')}
              AND (t.dpop_jkt IS NULL OR t.dpop_jkt = $6::text)
           RETURNING t.grant_id, t.client_id, t.user_id, t.scopes, t.resources, t.auth_time, t.nonce, t.dpop_jkt, g.expires_at AS grant_expires_at
         ), successor AS (
           INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scopes, resources, auth_time, nonce, created_at, expires_at, dpop_jkt)
           SELECT $4, grant_id, client_id, user_id, scopes, resources, auth_time, nonce, $3,
                  LEAST($3::timestamptz + make_interval(secs => $5::double precision), grant_expires_at), dpop_jkt
             FROM old
           RETURNING 1
         )
         SELECT ${columnsOf('arrival')}, arrival.grant_revoked, arrival.grant_expires_at,
                EXISTS (SELECT 1 FROM successor) AS rotated
           FROM arrival`,
        [tokenHash, clientId, now, successorHash, idleSeconds, dpopJkt],
        { name: 'refresh_tokens.rotate' },
      );
      const row = r.rows[0];
      if (row?.rotated) return { rotated: true, token: toState(row) };
      return { rotated: false, atArrival: row ? toState(row) : undefined };
    },

    async keep(tokenHash, now, idleSeconds) {
      const r = await db.query(
        `UPDATE refresh_tokens t SET expires_at = LEAST($2::timestamptz + make_interval(secs => $3::double precision), g.expires_at)
           FROM grants g
          WHERE t.token_hash = $1 AND ${LIVE('$2')}
         RETURNING 1`,
        [tokenHash, now, idleSeconds],
      );
      return r.rowCount > 0;
    },

    async repointSuccessor(tokenHash, expectedSuccessorHash, successorHash) {
      const r = await db.query(
        'UPDATE refresh_tokens SET successor_hash = $3 WHERE token_hash = $1 AND successor_hash = $2 AND rotated_at IS NOT NULL RETURNING 1',
        [tokenHash, expectedSuccessorHash, successorHash],
      );
      return r.rowCount > 0;
    },

    async replaceIfUnused(tokenHash, now) {
      const r = await db.query(
        `UPDATE refresh_tokens SET replaced_at = $2
          WHERE token_hash = $1 AND rotated_at IS NULL AND replaced_at IS NULL AND revoked_at IS NULL
         RETURNING 1`,
        [tokenHash, now],
      );
      return r.rowCount > 0;
    },
  };
}
