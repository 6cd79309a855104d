import type { Queryable } from '../db.js';

export interface Session {
  idHash: string;
  userId: string;
  authTime: Date;
  expiresAt: Date;
  /** How the person signed in (RFC 8176): `pwd`, and `otp` once a second factor was given. */
  amr: string[];
}

/** A session as the admin API lists it. */
export interface SessionListing extends Session {
  createdAt: Date;
  username: string;
}

interface Row {
  id_hash: string;
  user_id: string;
  auth_time: Date;
  expires_at: Date;
  amr: string[];
}

const toSession = (r: Row): Session => ({
  idHash: r.id_hash,
  userId: r.user_id,
  authTime: r.auth_time,
  expiresAt: r.expires_at,
  amr: r.amr,
});

export function sessionsRepository(db: Queryable) {
  return {
    async find(idHash: string, now: Date): Promise<Session | undefined> {
      const r = await db.query<Row>(
        'SELECT id_hash, user_id, auth_time, expires_at, amr FROM sessions WHERE id_hash = $1 AND expires_at > $2',
        [idHash, now],
        { name: 'sessions.find' },
      );
      return r.rows[0] ? toSession(r.rows[0]) : undefined;
    },

    async create(s: Session): Promise<void> {
      await db.query('INSERT INTO sessions (id_hash, user_id, auth_time, expires_at, amr) VALUES ($1, $2, $3, $4, $5)', [
        s.idHash,
        s.userId,
        s.authTime,
        s.expiresAt,
        JSON.stringify(s.amr),
      ]);
    },

    async delete(idHash: string): Promise<void> {
      await db.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
    },

    /** Unexpired sessions (of one user, when given) after `afterId` in id order: the admin API's list. */
    async page(q: { userId?: string | undefined; afterId?: string | undefined; limit: number; now: Date }): Promise<SessionListing[]> {
      const r = await db.query<Row & { created_at: Date; username: string }>(
        `SELECT s.id_hash, s.user_id, s.auth_time, s.created_at, s.expires_at, s.amr, u.username
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.expires_at > $1 AND ($2::text IS NULL OR s.user_id = $2) AND ($3::text IS NULL OR s.id_hash > $3)
         ORDER BY s.id_hash LIMIT $4`,
        [q.now, q.userId ?? null, q.afterId ?? null, q.limit],
      );
      return r.rows.map((row) => ({ ...toSession(row), createdAt: row.created_at, username: row.username }));
    },

    /** One unexpired session, with its user's name. */
    async get(idHash: string, now: Date): Promise<SessionListing | undefined> {
      const r = await db.query<Row & { created_at: Date; username: string }>(
        `SELECT s.id_hash, s.user_id, s.auth_time, s.created_at, s.expires_at, s.amr, u.username
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 AND s.expires_at > $2`,
        [idHash, now],
      );
      const row = r.rows[0];
      return row ? { ...toSession(row), createdAt: row.created_at, username: row.username } : undefined;
    },

    /** Ends one session; what it was, or undefined when there was none. */
    async end(idHash: string): Promise<Session | undefined> {
      const r = await db.query<Row>('DELETE FROM sessions WHERE id_hash = $1 RETURNING id_hash, user_id, auth_time, expires_at, amr', [
        idHash,
      ]);
      return r.rows[0] ? toSession(r.rows[0]) : undefined;
    },

    /** A user's unexpired sessions, newest sign-in first (the account page; at most 100). */
    async listForUser(userId: string, now: Date): Promise<(Session & { createdAt: Date })[]> {
      const r = await db.query<Row & { created_at: Date }>(
        `SELECT id_hash, user_id, auth_time, created_at, expires_at, amr FROM sessions
         WHERE user_id = $1 AND expires_at > $2 ORDER BY auth_time DESC, id_hash LIMIT 100`,
        [userId, now],
      );
      return r.rows.map((row) => ({ ...toSession(row), createdAt: row.created_at }));
    },

    /** Ends every session of `userId` except `keepHash` (sign out everywhere else); how many ended. */
    async endOthers(userId: string, keepHash: string): Promise<number> {
      const r = await db.query('DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2', [userId, keepHash]);
      return r.rowCount;
    },
  };
}

export type SessionsRepository = ReturnType<typeof sessionsRepository>;
