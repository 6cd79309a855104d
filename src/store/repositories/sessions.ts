import type { Queryable } from '../db.js';

export interface Session {
  idHash: string;
  userId: string;
  authTime: Date;
  expiresAt: Date;
}

interface Row {
  id_hash: string;
  user_id: string;
  auth_time: Date;
  expires_at: Date;
}

const toSession = (r: Row): Session => ({ idHash: r.id_hash, userId: r.user_id, authTime: r.auth_time, expiresAt: r.expires_at });

export function sessionsRepository(db: Queryable) {
  return {
    async find(idHash: string, now: Date): Promise<Session | undefined> {
      const r = await db.query<Row>(
        'SELECT id_hash, user_id, auth_time, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2',
        [idHash, now],
        { name: 'sessions.find' },
      );
      return r.rows[0] ? toSession(r.rows[0]) : undefined;
    },

    async create(s: Session): Promise<void> {
      await db.query('INSERT INTO sessions (id_hash, user_id, auth_time, expires_at) VALUES ($1, $2, $3, $4)', [
        s.idHash,
        s.userId,
        s.authTime,
        s.expiresAt,
      ]);
    },

    async delete(idHash: string): Promise<void> {
      await db.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
    },
  };
}

export type SessionsRepository = ReturnType<typeof sessionsRepository>;
