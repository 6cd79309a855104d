import { onlyRow, type Queryable } from '../db.js';

export function rateLimitsRepository(db: Queryable) {
  return {
    /**
     * Counts one event for `key` in a fixed window of `windowSeconds` starting at its first event;
     * returns the count and when the window ends. One statement: exact under concurrency and
     * shared by every process.
     */
    async hit(key: string, windowSeconds: number, now: Date): Promise<{ count: number; resetAt: Date }> {
      const r = await db.query<{ count: number; window_start: Date }>(
        `INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1)
         ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN rate_limits.window_start <= $2 - make_interval(secs => $3::int) THEN 1 ELSE rate_limits.count + 1 END,
           window_start = CASE WHEN rate_limits.window_start <= $2 - make_interval(secs => $3::int) THEN $2 ELSE rate_limits.window_start END
         RETURNING count, window_start`,
        [key, now, windowSeconds],
      );
      const row = onlyRow(r);
      return { count: row.count, resetAt: new Date(row.window_start.getTime() + windowSeconds * 1000) };
    },
  };
}

export type RateLimitsRepository = ReturnType<typeof rateLimitsRepository>;
