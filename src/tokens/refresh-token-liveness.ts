/** What decides whether a stored refresh token may still be used or reported active. */
export interface RefreshTokenState {
  rotatedAt: Date | null;
  /** Replaced by a retry of its predecessor inside REFRESH_TOKEN_GRACE (migration 010). */
  replacedAt: Date | null;
  revokedAt: Date | null;
  grantRevoked: boolean;
  expiresAt: Date;
  grantExpiresAt: Date;
}

/**
 * The one definition of a live refresh token: not rotated out (its successor is the live one),
 * not replaced (a grace retry of its predecessor re-issued the successor), not revoked, its grant not revoked, and neither its idle expiry nor its grant's absolute expiry
 * passed (RFC 6749 §6, RFC 9700 §4.14). A rotated token inside REFRESH_TOKEN_GRACE is not live:
 * the refresh grant decides what a retried one gets, nobody else may treat it as usable.
 */
export function isLiveRefreshToken(r: RefreshTokenState, now: number): boolean {
  return (
    !r.rotatedAt && !r.replacedAt && !r.revokedAt && !r.grantRevoked && r.expiresAt.getTime() > now && r.grantExpiresAt.getTime() > now
  );
}
