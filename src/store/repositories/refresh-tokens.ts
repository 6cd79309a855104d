import type { Db, Queryable } from '../db.js';

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
  rotatedAt: Date | null;
  successorHash: string | null;
  revokedAt: Date | null;
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
}

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
] as const;
const columnsOf = (alias: string) => COLUMNS.map((c) => `${alias}.${c}`).join(', ');

const toToken = (r: Row): RefreshToken => ({
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
});

export type NewRefreshToken = Omit<RefreshToken, 'rotatedAt' | 'successorHash' | 'revokedAt'>;

/** What a refresh attempt found, decided under a row lock. */
export type RefreshOutcome =
  | { kind: 'rotated'; token: RefreshToken; successor: NewRefreshToken }
  | { kind: 'reused'; token: RefreshToken; grantLive: boolean }
  | { kind: 'kept'; token: RefreshToken }
  | { kind: 'not_found' }
  | { kind: 'other_client' }
  | { kind: 'revoked' }
  | { kind: 'expired' }
  | { kind: 'concurrent' }
  | { kind: 'family_revoked' };

function insert(tx: Queryable, t: NewRefreshToken) {
  return tx.query(
    `INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scopes, resources, auth_time, nonce, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
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
    ],
  );
}

export function refreshTokensRepository(db: Db) {
  return {
    create: (t: NewRefreshToken) => insert(db, t).then(() => undefined),

    /**
     * Starts a family: extends the grant to its absolute lifetime and writes the first token, in
     * one statement (one round trip, atomic on its own).
     */
    async startFamily(t: Omit<NewRefreshToken, 'expiresAt'>, grantExpiresAt: Date, idleSeconds: number): Promise<void> {
      await db.query(
        `WITH g AS (
           UPDATE grants SET expires_at = GREATEST(expires_at, $11) WHERE id = $2 RETURNING expires_at
         )
         INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scopes, resources, auth_time, nonce, created_at, expires_at)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, LEAST($9::timestamptz + make_interval(secs => $10::double precision), g.expires_at) FROM g`,
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
        ],
        { name: 'refresh_tokens.start_family' },
      );
    },

    /**
     * The common case of a refresh in one statement: a live token of a live grant is marked
     * rotated and its successor written, atomically (data-modifying CTEs run as one statement; a
     * concurrent rotation of the same row makes this one match nothing). Undefined when the
     * token is not plainly live — the caller then takes the locked path, which says why.
     */
    async rotateLive(
      tokenHash: string,
      clientId: string,
      now: Date,
      successorHash: string,
      idleSeconds: number,
    ): Promise<RefreshToken | undefined> {
      const r = await db.query<Row>(
        `WITH old AS (
           UPDATE refresh_tokens t SET rotated_at = $3, successor_hash = $4
             FROM grants g
            WHERE t.token_hash = $1 AND t.client_id = $2 AND t.rotated_at IS NULL AND t.revoked_at IS NULL
              AND t.expires_at > $3 AND g.id = t.grant_id AND g.revoked_at IS NULL AND g.expires_at > $3
           RETURNING ${columnsOf('t')}, g.expires_at AS grant_expires_at
         ), successor AS (
           INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scopes, resources, auth_time, nonce, created_at, expires_at)
           SELECT $4, grant_id, client_id, user_id, scopes, resources, auth_time, nonce, $3,
                  LEAST($3::timestamptz + make_interval(secs => $5::double precision), grant_expires_at)
             FROM old
           RETURNING 1
         )
         SELECT ${columnsOf('old')} FROM old`,
        [tokenHash, clientId, now, successorHash, idleSeconds],
        { name: 'refresh_tokens.rotate_live' },
      );
      return r.rows[0] ? toToken(r.rows[0]) : undefined;
    },

    async find(tokenHash: string): Promise<(RefreshToken & { grantRevoked: boolean; grantExpiresAt: Date }) | undefined> {
      const r = await db.query<Row & { grant_revoked: boolean; grant_expires_at: Date }>(
        `SELECT t.*, g.revoked_at IS NOT NULL AS grant_revoked, g.expires_at AS grant_expires_at
           FROM refresh_tokens t JOIN grants g ON g.id = t.grant_id WHERE t.token_hash = $1`,
        [tokenHash],
      );
      const row = r.rows[0];
      return row ? { ...toToken(row), grantRevoked: row.grant_revoked, grantExpiresAt: row.grant_expires_at } : undefined;
    },

    /**
     * One refresh, decided in one transaction holding the token's row lock (docs/security.md item
     * 15): of N concurrent refreshes of one token exactly one rotates it, wherever they run.
     * - live token → rotated (or kept, when rotation is off), successor written in the same
     *   transaction: never a rotated token without its successor;
     * - rotated already, and the request arrived before the rotation (within `concurrencySkewMs`)
     *   → `concurrent`: refused, nothing revoked — a race is not a theft;
     * - rotated within the grace window → the unused successor is replaced by a new one, so a
     *   client that lost a response can retry, and still only one token of the chain is live;
     * - rotated otherwise → `reused`: the caller revokes the family.
     */
    async refresh(opts: {
      tokenHash: string;
      clientId: string;
      now: Date;
      arrivedAt: Date;
      rotate: boolean;
      graceMs: number;
      concurrencySkewMs: number;
      successor: (current: RefreshToken, grantExpiresAt: Date) => NewRefreshToken;
      /** Checks the request against the token before anything changes; a throw rolls back. */
      validate: (current: RefreshToken) => void;
      idleExpiry: (grantExpiresAt: Date) => Date;
    }): Promise<RefreshOutcome> {
      return db.transaction(async (tx) => {
        const r = await tx.query<Row & { grant_revoked: boolean; grant_expires_at: Date }>(
          `SELECT t.*, g.revoked_at IS NOT NULL AS grant_revoked, g.expires_at AS grant_expires_at
             FROM refresh_tokens t JOIN grants g ON g.id = t.grant_id
            WHERE t.token_hash = $1 FOR UPDATE OF t`,
          [opts.tokenHash],
        );
        const row = r.rows[0];
        if (!row) return { kind: 'not_found' };
        const token = toToken(row);
        if (token.clientId !== opts.clientId) return { kind: 'other_client' };
        if (row.grant_revoked) return { kind: 'family_revoked' };
        if (token.revokedAt) return { kind: 'revoked' };
        const now = opts.now.getTime();
        if (row.grant_expires_at.getTime() <= now) return { kind: 'expired' };
        if (!token.rotatedAt && token.expiresAt.getTime() <= now) return { kind: 'expired' };
        // A bad request (e.g. a wider scope) must not burn a good token.
        if (!token.rotatedAt) opts.validate(token);

        if (token.rotatedAt) {
          const since = opts.arrivedAt.getTime() - token.rotatedAt.getTime();
          if (since <= opts.concurrencySkewMs && opts.graceMs === 0) return { kind: 'concurrent' };
          if (opts.graceMs > 0 && now - token.rotatedAt.getTime() <= opts.graceMs && token.successorHash) {
            // Replace the successor only if nobody has used it: otherwise this is a real reuse.
            const s = await tx.query(
              'UPDATE refresh_tokens SET revoked_at = $2 WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL RETURNING 1',
              [token.successorHash, opts.now],
            );
            if (s.rowCount > 0) {
              opts.validate(token);
              const successor = opts.successor(token, row.grant_expires_at);
              await insert(tx, successor);
              await tx.query('UPDATE refresh_tokens SET successor_hash = $2 WHERE token_hash = $1', [token.tokenHash, successor.tokenHash]);
              return { kind: 'rotated', token, successor };
            }
          }
          if (since <= opts.concurrencySkewMs) return { kind: 'concurrent' };
          return { kind: 'reused', token, grantLive: true };
        }
        if (!opts.rotate) {
          await tx.query('UPDATE refresh_tokens SET expires_at = $2 WHERE token_hash = $1', [
            token.tokenHash,
            opts.idleExpiry(row.grant_expires_at),
          ]);
          return { kind: 'kept', token };
        }
        const successor = opts.successor(token, row.grant_expires_at);
        await tx.query('UPDATE refresh_tokens SET rotated_at = $2, successor_hash = $3 WHERE token_hash = $1', [
          token.tokenHash,
          opts.now,
          successor.tokenHash,
        ]);
        await insert(tx, successor);
        return { kind: 'rotated', token, successor };
      });
    },
  };
}

export type RefreshTokensRepository = ReturnType<typeof refreshTokensRepository>;
