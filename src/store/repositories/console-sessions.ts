import type { Queryable } from '../db.js';

/**
 * Admin console sessions (migrations/019). Contract: `touch` finds a live session and extends its
 * idle deadline in one statement, never past the absolute expiry; an idle or expired session is
 * never found again (cleanup deletes it later).
 */
export interface ConsoleSessionsRepository {
  create(s: { idHash: string; userId: string; idleUntil: Date; expiresAt: Date }): Promise<void>;
  /** The session's user when it is live at `now`, its idle deadline moved to `idleUntil`. */
  touch(idHash: string, now: Date, idleUntil: Date): Promise<{ userId: string; createdAt: Date } | undefined>;
  delete(idHash: string): Promise<void>;
}

export function consoleSessionsRepository(db: Queryable): ConsoleSessionsRepository {
  return {
    async create(s) {
      await db.query('INSERT INTO console_sessions (id_hash, user_id, idle_until, expires_at) VALUES ($1, $2, $3, $4)', [
        s.idHash,
        s.userId,
        s.idleUntil,
        s.expiresAt,
      ]);
    },

    async touch(idHash, now, idleUntil) {
      const r = await db.query<{ user_id: string; created_at: Date }>(
        `UPDATE console_sessions SET idle_until = LEAST($3::timestamptz, expires_at)
         WHERE id_hash = $1 AND idle_until > $2 AND expires_at > $2
         RETURNING user_id, created_at`,
        [idHash, now, idleUntil],
        { name: 'console_sessions.touch' },
      );
      const row = r.rows[0];
      return row ? { userId: row.user_id, createdAt: row.created_at } : undefined;
    },

    async delete(idHash) {
      await db.query('DELETE FROM console_sessions WHERE id_hash = $1', [idHash]);
    },
  };
}
