import type { InteractionDeps } from './deps.js';
import { failureThrottle, type Bucket } from './throttle.js';

/** Sign-in throttling per account and per IP address. */
export function loginThrottle(ctx: InteractionDeps) {
  const throttle = failureThrottle(ctx, ctx.config.loginFailureWindow);
  const buckets = (username: string, ip: string): Bucket[] => [
    { key: `login:account:${username.toLowerCase()}`, limit: ctx.config.loginFailureLimitAccount },
    { key: `login:ip:${ip}`, limit: ctx.config.loginFailureLimitIp },
  ];
  return {
    retryAfter: (username: string, ip: string) => throttle.retryAfter(buckets(username, ip)),
    recordFailure: (username: string, ip: string) => throttle.recordFailure(buckets(username, ip)),
  };
}
