import type { RefreshTokenState } from '../store/repositories/refresh-tokens.js';

/**
 * The refresh token policy (RFC 6749 §6, RFC 9700 §4.14.2): rotation, reuse detection, the grace
 * window and concurrent requests, decided from what the store found. Pure: the grant
 * (src/grants/refresh-token.ts) reads and writes through the repository and acts on the verdict.
 *
 * The policy, written down:
 * - A live token is refreshed (rotated, or kept when rotation is off for a confidential client).
 * - A token presented after it was rotated is REUSE: the grant is revoked with every token of it.
 * - Except a request that arrived before the rotation committed: it is CONCURRENT, not a theft.
 *   It is refused with invalid_grant and nothing is revoked; the request that rotated the token
 *   holds the live successor. "Arrived before" is decided exactly, by the order of events, never
 *   by a time tolerance (`changedSinceArrival`, see refresh-token.ts).
 * - REFRESH_TOKEN_GRACE: a retry of a rotated token that arrived after the rotation but within
 *   the window may have the successor re-issued, only if nobody has used the successor: the old
 *   successor is marked replaced, so exactly one token of the chain stays live. If it was used,
 *   the retry is reuse.
 * - A token that was replaced that way, when presented, is reuse: its holder is either the thief
 *   or the victim of one (someone else retried its predecessor), and either way the family is
 *   no longer one party's. The window never hands a family over.
 */
export type RefreshVerdict =
  | { kind: 'refuse'; reason: 'not_found' | 'other_client' | 'revoked' | 'expired' | 'concurrent' }
  | { kind: 'refresh' }
  | { kind: 'reissue_successor'; successorHash: string }
  | { kind: 'reuse'; grantId: string; userId: string | null; why: 'rotated' | 'replaced' };

export interface RefreshFacts {
  token: RefreshTokenState | undefined;
  /** The authenticated client. */
  clientId: string;
  /** Milliseconds since the epoch. */
  now: number;
  /** REFRESH_TOKEN_GRACE in milliseconds (0: no grace). */
  graceMs: number;
  /** The token was rotated, re-pointed or replaced after this request arrived. */
  changedSinceArrival: boolean;
}

export function judgeRefresh(f: RefreshFacts): RefreshVerdict {
  const t = f.token;
  if (!t) return { kind: 'refuse', reason: 'not_found' };
  if (t.clientId !== f.clientId) return { kind: 'refuse', reason: 'other_client' };
  if (t.grantRevoked || t.revokedAt) return { kind: 'refuse', reason: 'revoked' };
  if (t.grantExpiresAt.getTime() <= f.now) return { kind: 'refuse', reason: 'expired' };
  const usedAt = t.rotatedAt ?? t.replacedAt;
  if (usedAt) {
    if (f.changedSinceArrival) return { kind: 'refuse', reason: 'concurrent' };
    const reuse = { kind: 'reuse', grantId: t.grantId, userId: t.userId } as const;
    if (t.replacedAt) return { ...reuse, why: 'replaced' };
    const inGrace = f.graceMs > 0 && f.now - usedAt.getTime() <= f.graceMs;
    if (inGrace && t.successorHash) return { kind: 'reissue_successor', successorHash: t.successorHash };
    return { ...reuse, why: 'rotated' };
  }
  if (t.expiresAt.getTime() <= f.now) return { kind: 'refuse', reason: 'expired' };
  return { kind: 'refresh' };
}
