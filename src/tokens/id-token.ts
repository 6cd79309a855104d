import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { SigningKey } from '../keys/keystore.js';
import { signJwt } from './sign.js';

/** OIDC Core §2 acr values (documented in the README, "Two-step verification"). */
export const ACR_PWD = 'urn:latchkey:acr:pwd';
export const ACR_MFA = 'urn:latchkey:acr:mfa';

/**
 * OIDC Core §3.1.3.6 / §3.3.2.11: at_hash and c_hash are the base64url of the left half of the
 * SHA-256 of the ASCII value (for RS256 and ES256, both SHA-256 algorithms).
 */
export function halfHash(value: string): string {
  const digest = createHash('sha256').update(value, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

export interface IdTokenInput {
  issuer: string;
  subject: string;
  clientId: string;
  issuedAt: number;
  ttl: number;
  authTime: number;
  /** How the person signed in (RFC 8176); with it, `acr` (src/interaction/second-factor.ts). */
  amr?: readonly string[] | null;
  nonce?: string;
  accessToken?: string;
  code?: string;
  sessionId?: string;
  /**
   * The grant the sign-in created (a private claim `gid`, as access tokens carry): token
   * exchange accepts an ID token only while that grant is alive (grants/token-exchange/).
   */
  grantId?: string;
  /**
   * Claims of the user (src/oauth/claim-release.ts: the granted scopes' standard claims and the
   * client's id_token_claims). Never over the protocol's: those are set after them.
   */
  userClaims?: Record<string, unknown>;
}

/** Pure: the claims of an ID token (OIDC Core §2). */
export function buildIdTokenClaims(i: IdTokenInput): JWTPayload {
  return {
    ...i.userClaims,
    iss: i.issuer,
    sub: i.subject,
    aud: i.clientId,
    azp: i.clientId,
    iat: i.issuedAt,
    exp: i.issuedAt + i.ttl,
    auth_time: i.authTime,
    ...(i.amr ? { amr: [...i.amr], acr: i.amr.includes('otp') ? ACR_MFA : ACR_PWD } : {}),
    ...(i.nonce !== undefined ? { nonce: i.nonce } : {}),
    ...(i.accessToken ? { at_hash: halfHash(i.accessToken) } : {}),
    ...(i.code ? { c_hash: halfHash(i.code) } : {}),
    ...(i.sessionId ? { sid: i.sessionId } : {}),
    ...(i.grantId ? { gid: i.grantId } : {}),
  };
}

/** OIDC Core §2: an ID token, typ "JWT" (never accepted where an access token is expected). */
export function signIdToken(claims: JWTPayload, key: SigningKey): string {
  return signJwt(claims, key, 'JWT');
}
