import type { AppContext } from '../app.js';

/**
 * Sign-in throttling per account and per IP address (SECURITY.md item 18), counted in
 * PostgreSQL so the limits hold in total across processes. Checked before the password is,
 * so a blocked guesser learns nothing, not even from a right guess.
 */
export function loginThrottle(ctx: AppContext) {
  const window = ctx.config.loginFailureWindow;
  const keys = (username: string, ip: string) => ({
    account: `login:account:${username.toLowerCase()}`,
    ip: `login:ip:${ip}`,
  });
  return {
    /** Seconds until another attempt is allowed, or 0. */
    async retryAfter(username: string, ip: string): Promise<number> {
      const k = keys(username, ip);
      const r = await ctx.db.query<{ key: string; count: number; window_start: Date }>(
        'SELECT key, count, window_start FROM rate_limits WHERE key = $1 OR key = $2',
        [k.account, k.ip],
      );
      const now = ctx.clock.now();
      let wait = 0;
      for (const row of r.rows) {
        const limit = row.key === k.account ? ctx.config.loginFailureLimitAccount : ctx.config.loginFailureLimitIp;
        const ends = row.window_start.getTime() + window * 1000;
        if (row.count >= limit && ends > now) wait = Math.max(wait, Math.ceil((ends - now) / 1000));
      }
      return wait;
    },

    async recordFailure(username: string, ip: string): Promise<void> {
      const k = keys(username, ip);
      const now = new Date(ctx.clock.now());
      await ctx.repos.rateLimits.hit(k.account, window, now);
      await ctx.repos.rateLimits.hit(k.ip, window, now);
    },
  };
}
