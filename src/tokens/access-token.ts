import { randomBytes } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { SigningKey } from '../keys/keystore.js';
import { signJwt } from './sign.js';

/** RFC 9068 §2.2 claims of a JWT access token. */
export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  client_id: string;
  jti: string;
  iat: number;
  exp: number;
  scope?: string;
  /** Grant (family) id, so a whole grant can be revoked at once (later grants). */
  gid?: string;
  /** RFC 9449 §6.1: the DPoP key the token is bound to (RFC 7800 confirmation). */
  cnf?: { jkt: string };
}

export interface AccessTokenInput {
  issuer: string;
  subject: string;
  audiences: readonly string[];
  clientId: string;
  scopes: readonly string[];
  issuedAt: number;
  ttl: number;
  grantId?: string;
  /** RFC 9449 §6.1: thumbprint of the DPoP key the token is bound to. */
  dpopJkt?: string;
  extra?: Record<string, unknown>;
}

/** A jti with 128 bits of randomness: unique without coordination between processes. */
export function newJti(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * The token path's jti source: the same 128 random bits, drawn from a pool refilled 4 KiB at a
 * time, because a system call per token showed in the token endpoint's profile. One per server,
 * built by the composition root (no module-level state).
 */
export class JtiPool {
  static readonly SIZE = 4096;
  #pool = randomBytes(JtiPool.SIZE);
  #offset = 0;

  next(): string {
    if (this.#offset + 16 > JtiPool.SIZE) {
      this.#pool = randomBytes(JtiPool.SIZE);
      this.#offset = 0;
    }
    const jti = this.#pool.toString('base64url', this.#offset, this.#offset + 16);
    this.#offset += 16;
    return jti;
  }
}

/** The "aud" claim: a single audience is a string, several an array. */
export function audienceClaim(audiences: readonly string[]): string | string[] {
  const [only] = audiences;
  return audiences.length === 1 && only !== undefined ? only : [...audiences];
}

/** Pure: the claims of an access token. A single audience is a string, several an array. */
export function buildAccessTokenClaims(input: AccessTokenInput, jti: string = newJti()): AccessTokenClaims {
  const claims: AccessTokenClaims = {
    ...input.extra,
    iss: input.issuer,
    sub: input.subject,
    aud: audienceClaim(input.audiences),
    client_id: input.clientId,
    jti,
    iat: input.issuedAt,
    exp: input.issuedAt + input.ttl,
  };
  // RFC 9068 §2.2.3: scope is present when scopes were granted.
  if (input.scopes.length > 0) claims.scope = input.scopes.join(' ');
  if (input.grantId) claims.gid = input.grantId;
  if (input.dpopJkt) claims.cnf = { jkt: input.dpopJkt };
  return claims;
}

/** RFC 9449 §5: `token_type` of an access token, DPoP when it is bound to a proof's key. */
export const tokenTypeFor = (dpopJkt: string | undefined): 'Bearer' | 'DPoP' => (dpopJkt ? 'DPoP' : 'Bearer');

/** RFC 9068 §2.1: typ "at+jwt", so an access token is never taken for an ID token. */
export function signAccessToken(claims: AccessTokenClaims, key: SigningKey): string {
  return signJwt(claims, key, 'at+jwt');
}
