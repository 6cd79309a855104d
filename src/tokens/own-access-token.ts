import { decodeJwt } from 'jose';
import { z } from 'zod';
import type { KeyStore } from '../keys/keystore.js';
import type { AccessTokenStatus } from '../store/repositories/revocations.js';
import { verifyOwnJwt } from './verify-own.js';

/**
 * The claims of one of our access tokens (RFC 9068 §2.2) as every reader relies on them; other
 * members (`act`, `may_act`, `auth_time`…) pass through for the readers that want them.
 */
export const ownAccessTokenClaims = z
  .object({
    iss: z.string(),
    sub: z.string().min(1),
    aud: z.union([z.string(), z.array(z.string())]),
    client_id: z.string().min(1),
    jti: z.string().min(1),
    iat: z.number(),
    exp: z.number(),
    scope: z.string().optional(),
    gid: z.string().optional(),
    auth_time: z.number().optional(),
    /** RFC 9449 §6.1: the DPoP key the token is bound to. */
    cnf: z.object({ jkt: z.string().optional() }).loose().optional(),
  })
  .loose();

export type OwnAccessTokenClaims = z.output<typeof ownAccessTokenClaims>;

/** Why a token is not a live access token of ours; each reader words its own refusal. */
export type AccessTokenRefusal = 'invalid' | 'expired' | Exclude<AccessTokenStatus, 'live'>;

export type AccessTokenVerdict = { live: true; claims: OwnAccessTokenClaims } | { live: false; reason: AccessTokenRefusal };

export interface AccessTokenVerifierDeps {
  keystore: KeyStore;
  issuer: string;
  /** The stored side of liveness: revocations, grants, deleted clients (one statement). */
  statuses: {
    accessTokenStatus(t: {
      jti: string | undefined;
      grantId: string | undefined;
      clientId: string;
      subject: string;
      issuedAt: number;
    }): Promise<AccessTokenStatus>;
  };
}

/**
 * The one verifier of our own access tokens, for every place that accepts them (introspection,
 * userinfo, token exchange): signature by one of our published keys, our issuer, typ `at+jwt`
 * (RFC 9068 §4: an ID token or a token-exchange JWT is not an access token), not expired, the
 * claims every access token has, then the stored checks: not revoked, its grant alive, its
 * client not deleted since.
 */
export async function verifyOwnAccessToken(token: string, deps: AccessTokenVerifierDeps, now: number): Promise<AccessTokenVerdict> {
  const verified = await verifyOwnJwt(token, deps.keystore, { issuer: deps.issuer, now, typ: 'at+jwt' });
  if (!verified) return { live: false, reason: pastExpiry(token, deps.issuer, now) ? 'expired' : 'invalid' };
  const parsed = ownAccessTokenClaims.safeParse(verified.payload);
  if (!parsed.success) return { live: false, reason: 'invalid' };
  const claims = parsed.data;
  const status = await deps.statuses.accessTokenStatus({
    jti: claims.jti,
    grantId: claims.gid,
    clientId: claims.client_id,
    subject: claims.sub,
    issuedAt: claims.iat,
  });
  return status === 'live' ? { live: true, claims } : { live: false, reason: status };
}

/**
 * Whether a token that did not verify names our issuer and an `exp` already past: "has expired"
 * is a clearer answer than "not valid". Read from the unverified payload, so it only picks the
 * wording of a refusal, never whether to refuse.
 */
export function pastExpiry(token: string, issuer: string, now: number): boolean {
  try {
    const p = decodeJwt(token);
    return p.iss === issuer && typeof p.exp === 'number' && p.exp * 1000 <= now;
  } catch {
    return false;
  }
}
