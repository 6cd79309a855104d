import { CompactSign, type JWTPayload } from 'jose';
import type { SigningKey } from '../keys/keystore.js';

/**
 * The `typ` header of each kind of JWT we sign. It is what keeps one kind from being taken for
 * another: an access token says `at+jwt` (RFC 9068 §2.1), so no ID token or token-exchange JWT
 * (`JWT`, RFC 7519 §5.1) is ever accepted where an access token is expected, and the other way
 * round.
 */
export type JwtTyp = 'at+jwt' | 'JWT';

const encoder = new TextEncoder();

/**
 * The one signer of every JWT Latchkey issues. The claims are already built and checked by their
 * builders (access-token.ts, id-token.ts, token exchange), so this signs their JSON with jose's
 * CompactSign directly; SignJWT would clone and re-validate them on every token.
 */
export function signJwt(claims: JWTPayload, key: SigningKey, typ: JwtTyp): Promise<string> {
  return new CompactSign(encoder.encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ })
    .sign(key.privateKey);
}
