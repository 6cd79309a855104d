import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db.js';
import type { UserClaims } from '../../users/claims.js';
import { usernameKey } from '../../users/username.js';

export interface User {
  id: string;
  username: string;
  passwordHash: string;
  claims: UserClaims;
  /** Sorted, without duplicates (src/users/roles.ts). */
  roles: string[];
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  id: string;
  username: string;
  password_hash: string;
  claims: UserClaims;
  roles: string[];
  created_at: Date;
  updated_at: Date;
}

/** The columns of Row, spelled out for the prepared statements (which must not use `*`). */
const COLUMNS = 'id, username, password_hash, claims, roles, created_at, updated_at';

const toUser = (r: Row): User => ({
  id: r.id,
  username: r.username,
  passwordHash: r.password_hash,
  claims: r.claims,
  roles: r.roles,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** A `sub` of 128 random bits: stable for the account, reveals nothing, never reused. */
export const newUserId = (): string => randomBytes(16).toString('base64url');

export function usersRepository(db: Queryable) {
  return {
    /**
     * The user whose username has the same `usernameKey` as `username`. The index (and the
     * uniqueness) is on `lower(username)`, which finds the candidate; the key decides, so that the
     * lookup folds exactly as the sign-in throttle does (`lower()` folds `İ` to `i`, the key does not).
     */
    async findByUsername(username: string): Promise<User | undefined> {
      const r = await db.query<Row>(`SELECT ${COLUMNS} FROM users WHERE lower(username) = lower($1)`, [username], {
        name: 'users.find_by_username',
      });
      const key = usernameKey(username);
      const row = r.rows.find((u) => usernameKey(u.username) === key);
      return row ? toUser(row) : undefined;
    },

    async findById(id: string): Promise<User | undefined> {
      const r = await db.query<Row>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id], { name: 'users.find_by_id' });
      return r.rows[0] ? toUser(r.rows[0]) : undefined;
    },

    async list(): Promise<User[]> {
      return (await db.query<Row>(`SELECT ${COLUMNS} FROM users ORDER BY lower(username)`)).rows.map(toUser);
    },

    /** The row locked until the transaction ends (an admin change reads, checks If-Match, then writes). */
    async findForUpdate(id: string): Promise<User | undefined> {
      const r = await db.query<Row>(`SELECT ${COLUMNS} FROM users WHERE id = $1 FOR UPDATE`, [id]);
      return r.rows[0] ? toUser(r.rows[0]) : undefined;
    },

    /** Keyset page by `lower(username)` (unique): `limit` users after `afterKey`. */
    async page(afterKey: string | undefined, limit: number): Promise<User[]> {
      const r = await db.query<Row>(
        `SELECT ${COLUMNS} FROM users WHERE $1::text IS NULL OR lower(username) > $1 ORDER BY lower(username) LIMIT $2`,
        [afterKey ?? null, limit],
      );
      return r.rows.map(toUser);
    },

    /**
     * The console's search: users whose `sub` is `term`, or whose username or email address
     * contains it (any case; `%`, `_` and `\` in the term match themselves). Keyset page by
     * `lower(username)` as `page`.
     */
    async search(term: string, afterKey: string | undefined, limit: number): Promise<User[]> {
      const contains = `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const r = await db.query<Row>(
        `SELECT ${COLUMNS} FROM users
         WHERE (id = $1 OR lower(username) LIKE $2 OR lower(claims->>'email') LIKE $2)
           AND ($3::text IS NULL OR lower(username) > $3)
         ORDER BY lower(username) LIMIT $4`,
        [term, contains, afterKey ?? null, limit],
      );
      return r.rows.map(toUser);
    },

    /**
     * Renames the user; false when another user has the name (in any case). The unique index
     * decides a race between two renames.
     */
    async rename(id: string, username: string): Promise<boolean> {
      try {
        const r = await db.query(
          `UPDATE users SET username = $2, updated_at = now()
           WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($2) AND id <> $1)`,
          [id, username],
        );
        return r.rowCount > 0;
      } catch (err) {
        if ((err as { code?: unknown }).code === '23505') return false; // unique_violation
        throw err;
      }
    },

    /** The user's roles by `sub`; undefined when there is no such user. */
    async rolesOf(id: string): Promise<string[] | undefined> {
      const r = await db.query<{ roles: string[] }>('SELECT roles FROM users WHERE id = $1', [id], { name: 'users.roles_of' });
      return r.rows[0]?.roles;
    },

    /** Inserts a new user; undefined when the username (in any case) is taken. */
    async insert(username: string, passwordHash: string, claims: UserClaims, roles: readonly string[] = []): Promise<User | undefined> {
      const r = await db.query<Row>(
        `INSERT INTO users (id, username, password_hash, claims, roles) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (lower(username)) DO NOTHING RETURNING ${COLUMNS}`,
        [newUserId(), username, passwordHash, JSON.stringify(claims), JSON.stringify(roles)],
      );
      return r.rows[0] ? toUser(r.rows[0]) : undefined;
    },

    async update(id: string, fields: { passwordHash?: string; claims?: UserClaims; roles?: readonly string[] }): Promise<boolean> {
      const r = await db.query(
        `UPDATE users SET password_hash = COALESCE($2, password_hash), claims = COALESCE($3, claims),
           roles = COALESCE($4, roles), updated_at = now()
         WHERE id = $1`,
        [
          id,
          fields.passwordHash ?? null,
          fields.claims ? JSON.stringify(fields.claims) : null,
          fields.roles ? JSON.stringify(fields.roles) : null,
        ],
      );
      return r.rowCount > 0;
    },

    /**
     * Replaces the user's password hash only if it is still exactly `oldHash`: the re-hash a
     * sign-in makes with current parameters never undoes a password change that committed after
     * the sign-in read the old hash (READ COMMITTED: a concurrent change holding the row makes
     * this wait, then re-check against what it committed). One statement; false if it changed.
     */
    async replacePasswordHash(id: string, oldHash: string, newHash: string): Promise<boolean> {
      const r = await db.query('UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2', [id, oldHash, newHash]);
      return r.rowCount > 0;
    },

    async delete(id: string): Promise<boolean> {
      return (await db.query('DELETE FROM users WHERE id = $1', [id])).rowCount > 0;
    },

    /** Logs the user out of every browser (after a password change); returns how many sessions ended. */
    async endSessions(id: string): Promise<number> {
      return (await db.query('DELETE FROM sessions WHERE user_id = $1', [id])).rowCount;
    },

    /**
     * Withdraws what the user's credentials have produced so far (run it in the transaction that
     * changes them): revokes every grant (its refresh tokens, and its access tokens through their
     * `gid`), drops authorization codes not yet redeemed and sign-ins in progress, denies device
     * codes approved but not yet collected. Sessions are endSessions' job.
     */
    async withdrawAccess(id: string, now: Date): Promise<{ grants: number; codes: number; interactions: number; deviceCodes: number }> {
      const grants = await db.query('UPDATE grants SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL', [id, now]);
      const codes = await db.query('DELETE FROM authorization_codes WHERE user_id = $1 AND consumed_at IS NULL', [id]);
      const interactions = await db.query('DELETE FROM interactions WHERE user_id = $1', [id]);
      const deviceCodes = await db.query("UPDATE device_codes SET status = 'denied' WHERE user_id = $1 AND status = 'approved'", [id]);
      return { grants: grants.rowCount, codes: codes.rowCount, interactions: interactions.rowCount, deviceCodes: deviceCodes.rowCount };
    },
  };
}

export type UsersRepository = ReturnType<typeof usersRepository>;
