import { onlyRow, type Db, type Queryable } from '../db.js';

/** One fixed-window counter: at most `limit` events per window under `key`. */
export interface Bucket {
  key: string;
  limit: number;
}

/** What a reservation took: each bucket's key and the window it was counted in. */
export interface Reserved {
  key: string;
  windowStart: Date;
  /** The bucket's count with this unit: equal to its limit when this took the last one. */
  count: number;
}

export type Reservation = { ok: true; reserved: readonly Reserved[] } | { ok: false; retryAfterSeconds: number };

/**
 * Fixed-window counters shared by every process (`rate_limits`): a window of `windowSeconds`
 * starts at a key's first event; the counter restarts when it has passed.
 *
 * Contract: every method is one statement or one transaction, so concurrent callers in any number
 * of processes see exact counts; `reserve` never lets more than `limit` events into a window.
 */
export interface RateLimitsRepository {
  /** Counts one event for `key`; returns the count in its window and when the window ends. */
  hit(key: string, windowSeconds: number, now: Date): Promise<{ count: number; resetAt: Date }>;
  /**
   * Takes one unit from every bucket, all or none: each bucket's count goes up by one only when
   * it is below its limit (or its window has passed). Refused: nothing is counted, and the answer
   * says when the fullest refusing bucket's window ends.
   */
  reserve(buckets: readonly Bucket[], windowSeconds: number, now: Date): Promise<Reservation>;
  /** Gives back units taken by `reserve` (the attempt succeeded), if their windows are still current. */
  release(reserved: readonly Reserved[]): Promise<void>;
}

/** Seconds left until `windowStart + windowSeconds`, at least 1. */
const secondsLeft = (windowStart: Date, windowSeconds: number, now: Date) =>
  Math.max(1, Math.ceil((windowStart.getTime() + windowSeconds * 1000 - now.getTime()) / 1000));

/**
 * One UPSERT per bucket: a new key starts a window at 1; an expired window restarts at 1; a live
 * one counts up only while below the limit ($4; NULL: no limit). No row comes back when the bucket is full.
 */
const COUNT_ONE = `
  INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1)
  ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN rate_limits.window_start <= $2 - make_interval(secs => $3::int) THEN 1 ELSE rate_limits.count + 1 END,
    window_start = CASE WHEN rate_limits.window_start <= $2 - make_interval(secs => $3::int) THEN $2 ELSE rate_limits.window_start END
  WHERE $4::int IS NULL OR rate_limits.window_start <= $2 - make_interval(secs => $3::int) OR rate_limits.count < $4::int
  RETURNING count, window_start`;

export function rateLimitsRepository(db: Db): RateLimitsRepository {
  const countOne = (q: Queryable, key: string, now: Date, windowSeconds: number, limit: number | null) =>
    q.query<{ count: number; window_start: Date }>(COUNT_ONE, [key, now, windowSeconds, limit], {
      name: limit === null ? 'rate_limits.hit' : 'rate_limits.reserve',
    });

  return {
    async hit(key, windowSeconds, now) {
      const row = onlyRow(await countOne(db, key, now, windowSeconds, null));
      return { count: row.count, resetAt: new Date(row.window_start.getTime() + windowSeconds * 1000) };
    },

    async reserve(buckets, windowSeconds, now) {
      // Keys in one order, so two reservations sharing buckets never wait on each other crosswise.
      const ordered = [...buckets].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const refused = new Error('refused');
      let retryAfterSeconds = 0;
      try {
        const reserved = await db.transaction(async (tx) => {
          const taken: Reserved[] = [];
          for (const b of ordered) {
            const row = (await countOne(tx, b.key, now, windowSeconds, b.limit)).rows[0];
            if (row) {
              taken.push({ key: b.key, windowStart: row.window_start, count: row.count });
              continue;
            }
            // Full: the row is locked by the UPSERT above, so this reads the window that refused.
            const full = await tx.query<{ window_start: Date }>('SELECT window_start FROM rate_limits WHERE key = $1', [b.key]);
            const start = full.rows[0]?.window_start ?? now;
            retryAfterSeconds = Math.max(retryAfterSeconds, secondsLeft(start, windowSeconds, now));
          }
          // All or none: one full bucket undoes the units taken from the others.
          if (retryAfterSeconds > 0) throw refused;
          return taken;
        });
        return { ok: true, reserved };
      } catch (err) {
        if (err === refused) return { ok: false, retryAfterSeconds };
        throw err;
      }
    },

    async release(reserved) {
      if (reserved.length === 0) return;
      await db.query(
        `UPDATE rate_limits SET count = GREATEST(rate_limits.count - 1, 0)
         FROM unnest($1::text[], $2::timestamptz[]) AS r(key, window_start)
         WHERE rate_limits.key = r.key AND rate_limits.window_start = r.window_start`,
        [reserved.map((r) => r.key), reserved.map((r) => r.windowStart)],
      );
    },
  };
}

/** Empties one counter (an operator unlocking an account); true when it held failures. */
export async function clearRateLimit(db: Queryable, key: string): Promise<boolean> {
  return (await db.query('DELETE FROM rate_limits WHERE key = $1 AND count > 0', [key])).rowCount > 0;
}

/** The counters under `keys` that exist (an operator looking at accounts' sign-in lockouts). */
export async function readRateLimits(db: Queryable, keys: readonly string[]): Promise<{ key: string; count: number; windowStart: Date }[]> {
  if (keys.length === 0) return [];
  const r = await db.query<{ key: string; count: number; window_start: Date }>(
    'SELECT key, count, window_start FROM rate_limits WHERE key = ANY($1::text[])',
    [keys],
  );
  return r.rows.map((row) => ({ key: row.key, count: row.count, windowStart: row.window_start }));
}
