import type { Config } from '../config.js';
import { addressKey, type Bucket } from '../limits/failure-limiter.js';
import { usernameKey } from '../users/username.js';

/** Which limit a bucket of the sign-in throttle is: for the `login.lockout` event. */
export type LoginBucketKind = 'account' | 'address';

/** The account bucket's key: what `POST /admin/api/v1/users/{id}/unlock` empties. */
export const accountBucketKey = (username: string): string => `login:account:${usernameKey(username)}`;

/**
 * The sign-in throttle's buckets: failures per account (the username as the user lookup folds it,
 * so that no spelling of a name escapes its account's limit) and per client address (IPv6 per /64).
 */
export function loginBuckets(
  config: Pick<Config, 'loginFailureLimitAccount' | 'loginFailureLimitIp'>,
  username: string,
  ip: string,
): (Bucket & { kind: LoginBucketKind })[] {
  const address = { kind: 'address' as const, key: `login:ip:${addressKey(ip)}`, limit: config.loginFailureLimitIp };
  if (username === '') return [address];
  return [{ kind: 'account', key: accountBucketKey(username), limit: config.loginFailureLimitAccount }, address];
}

/**
 * When the account's sign-in lockout ends, from its counter (`rate_limits` row); undefined when
 * it is not locked: fewer failures than the limit, or their window has passed.
 */
export function accountLockedUntil(
  config: Pick<Config, 'loginFailureLimitAccount' | 'loginFailureWindow'>,
  counter: { count: number; windowStart: Date } | undefined,
  now: number,
): Date | undefined {
  if (!counter || counter.count < config.loginFailureLimitAccount) return undefined;
  const until = counter.windowStart.getTime() + config.loginFailureWindow * 1000;
  return until > now ? new Date(until) : undefined;
}
