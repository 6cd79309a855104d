import type { Queryable } from '../db.js';

export function replayRepository(db: Queryable) {
  return {
    /**
     * Records `key` until `expiresAt`; false when it was already recorded (a replay). One atomic
     * statement, so two concurrent presentations of one jti cannot both win (RFC 7523 §3 item 7).
     * A row left over from an expired use is replaced only once it has expired.
     */
    async firstUse(key: string, expiresAt: Date, now: Date): Promise<boolean> {
      const r = await db.query(
        `INSERT INTO replay (key, expires_at) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at
           WHERE replay.expires_at <= $3
         RETURNING 1`,
        [key, expiresAt, now],
        { name: 'replay.first_use' },
      );
      return r.rowCount > 0;
    },
  };
}

export type ReplayRepository = ReturnType<typeof replayRepository>;
