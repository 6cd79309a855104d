import type { JWTPayload } from 'jose';
import type { SigningKey } from '../keys/keystore.js';
import type { JwtTyp } from '../keys/compact-jws.js';

export type { JwtTyp } from '../keys/compact-jws.js';

/**
 * The one signer of every JWT Latchkey issues. The claims are already built and checked by their
 * builders (access-token.ts, id-token.ts, token exchange), so this only serialises and signs them,
 * with the key's native signer (keys/compact-jws.ts). Synchronous: an ES256 signature costs tens of
 * microseconds of CPU, less than WebCrypto's promise and thread-pool hop around it.
 */
export function signJwt(claims: JWTPayload, key: SigningKey, typ: JwtTyp): string {
  return key.signer.sign(claims, typ);
}
