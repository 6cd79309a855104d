import type { Clock } from '../../clock.js';
import type { Db } from '../../store/db.js';
import { sessionsRepository, type SessionListing } from '../../store/repositories/sessions.js';
import { recordChange, type Actor } from './audit.js';
import { notFound } from './errors.js';

/**
 * A browser session as the admin API shows it. `id` is the stored SHA-256 of the cookie value,
 * never the cookie: knowing it lets an operator end the session, not take it over.
 */
export interface SessionView {
  id: string;
  sub: string;
  username: string;
  auth_time: string;
  created_at: string;
  expires_at: string;
}

export const sessionView = (s: SessionListing): SessionView => ({
  id: s.idHash,
  sub: s.userId,
  username: s.username,
  auth_time: s.authTime.toISOString(),
  created_at: s.createdAt.toISOString(),
  expires_at: s.expiresAt.toISOString(),
});

/** Browser sessions (src/interaction/session.ts): listed, and ended one by one. */
export function sessionsService({ db, clock }: { db: Db; clock: Clock }) {
  const now = () => new Date(clock.now());
  return {
    /** `limit + 1` live sessions after the cursor's id, of one user when `sub` is given. */
    async list(q: { sub?: string | undefined; after?: string | undefined; limit: number }): Promise<SessionView[]> {
      return (await sessionsRepository(db).page({ userId: q.sub, afterId: q.after, limit: q.limit + 1, now: now() })).map(sessionView);
    },

    async get(id: string): Promise<SessionView> {
      const s = await sessionsRepository(db).get(id, now());
      if (!s) throw notFound('session', id);
      return sessionView(s);
    },

    /**
     * Ends the session: its cookie signs no one in any more (the next request meets the login
     * page). Tokens already issued through it are grants' business (DELETE /grants/{id}).
     */
    async end(id: string, actor: Actor): Promise<void> {
      await db.transaction(async (tx) => {
        const repo = sessionsRepository(tx);
        const live = await repo.get(id, now());
        if (!live || !(await repo.end(id))) throw notFound('session', id);
        await recordChange(tx, {
          type: 'session.ended',
          actor,
          target: { type: 'user', id: live.userId },
          before: sessionView(live),
        });
      });
    },
  };
}

export type SessionsService = ReturnType<typeof sessionsService>;
