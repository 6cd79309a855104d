import { jwtVerify, type JWTPayload } from 'jose';
import type { KeyStore } from '../keys/keystore.js';

/** The claims of a token we issued: jwtVerify has required exp and iat (and checked they are numbers). */
export type OwnJwtPayload = JWTPayload & { exp: number; iat: number };

const hasTimes = (p: JWTPayload): p is OwnJwtPayload => typeof p.exp === 'number' && typeof p.iat === 'number';

/**
 * Verifies a JWT that Latchkey issued (signature by a published key, our issuer, not expired).
 * Returns undefined for anything else: garbage, foreign, expired, or wrong `typ`.
 */
export async function verifyOwnJwt(
  token: string,
  keystore: KeyStore,
  opts: { issuer: string; now: number; typ?: string; clockSkew?: number; requireJti?: boolean },
): Promise<{ payload: OwnJwtPayload; typ: string | undefined } | undefined> {
  if (token.length > 16_384 || token.split('.').length !== 3) return undefined;
  try {
    const { payload, protectedHeader } = await jwtVerify(
      token,
      (header) => {
        const k = header.kid ? keystore.verificationKey(header.kid) : undefined;
        if (!k || k.alg !== header.alg) throw new Error('unknown key');
        return k.key;
      },
      {
        issuer: opts.issuer,
        currentDate: new Date(opts.now),
        clockTolerance: opts.clockSkew ?? 0,
        ...(opts.typ ? { typ: opts.typ } : {}),
        requiredClaims: opts.requireJti === false ? ['exp', 'iat'] : ['exp', 'iat', 'jti'],
      },
    );
    return hasTimes(payload) ? { payload, typ: protectedHeader.typ } : undefined;
  } catch {
    return undefined;
  }
}
