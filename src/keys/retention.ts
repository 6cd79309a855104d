import type { Config } from '../config.js';
import { ISSUED_JWT_TTL } from '../grants/token-exchange/token-types.js';

/** The settings every lifetime of a JWT Latchkey signs derives from. */
export type LifetimeSettings = Pick<Config, 'accessTokenTtl' | 'idTokenTtl' | 'clockSkew' | 'keyReloadInterval'>;

/**
 * How long a key stays published after it stops signing: until every JWT it signed has expired.
 * That is the longest lifetime of any JWT we sign — access tokens (ACCESS_TOKEN_TTL, or a
 * resource's own `access_token_ttl`, token exchange's included), ID tokens (ID_TOKEN_TTL), the
 * JWTs token exchange issues — plus two margins: CLOCK_SKEW, which verifiers (this server too)
 * allow past `exp`; and KEY_RELOAD_INTERVAL, during which a process that has not yet re-read the
 * key table may go on signing with the retired key.
 */
export function keyRetentionSeconds(settings: LifetimeSettings, longestResourceTtl: number | null): number {
  const longestJwt = Math.max(settings.accessTokenTtl, longestResourceTtl ?? 0, settings.idTokenTtl, ISSUED_JWT_TTL);
  return longestJwt + settings.clockSkew + settings.keyReloadInterval;
}
