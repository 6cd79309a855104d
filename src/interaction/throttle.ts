import type { InteractionDeps } from './deps.js';

export interface Bucket {
  key: string;
  limit: number;
}

/**
 * Failure throttling for the browser pages (SECURITY.md items 18 and 24), counted in PostgreSQL
 * so the limits hold in total across processes. Checked before the secret is, so a blocked
 * guesser learns nothing, not even from a right guess.
 */
export function failureThrottle(ctx: InteractionDeps, windowSeconds: number) {
  return {
    /** Seconds until another attempt is allowed (the longest of the buckets), or 0. */
    async retryAfter(buckets: readonly Bucket[]): Promise<number> {
      const r = await ctx.db.query<{ key: string; count: number; window_start: Date }>(
        'SELECT key, count, window_start FROM rate_limits WHERE key = ANY($1::text[])',
        [buckets.map((b) => b.key)],
      );
      const now = ctx.clock.now();
      let wait = 0;
      for (const row of r.rows) {
        const limit = buckets.find((b) => b.key === row.key)?.limit;
        if (limit === undefined) continue; // only the buckets asked for are selected
        const ends = row.window_start.getTime() + windowSeconds * 1000;
        if (row.count >= limit && ends > now) wait = Math.max(wait, Math.ceil((ends - now) / 1000));
      }
      return wait;
    },

    async recordFailure(buckets: readonly Bucket[]): Promise<void> {
      const now = new Date(ctx.clock.now());
      for (const b of buckets) await ctx.repos.rateLimits.hit(b.key, windowSeconds, now);
    },
  };
}

export const minutes = (seconds: number) => {
  const m = Math.ceil(seconds / 60);
  return `${m} minute${m === 1 ? '' : 's'}`;
};
