import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, errors as joseErrors, importJWK, jwtVerify, type JWK } from 'jose';
import { ASYMMETRIC_ALGS } from '../keys/algorithms.js';

/**
 * DPoP proof validation (RFC 9449 §4.3), pure apart from the signature check: what the proof
 * says is judged here; its `jti` is recorded by the caller (single use across processes, in the
 * database) and its nonce is judged by dpop-nonce.ts. Every failure is a DpopRejected naming the
 * check that failed, which the endpoint turns into `invalid_dpop_proof` (§7.1) or
 * `use_dpop_nonce` (§8).
 */
export class DpopRejected extends Error {
  override name = 'DpopRejected';
  /** Stable, for logs and callers (the message may change). */
  readonly code = 'dpop_rejected';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * Algorithms a proof may be signed with (advertised as `dpop_signing_alg_values_supported`):
 * asymmetric only (§4.2: "MUST NOT be none or an identifier for a symmetric algorithm"). `EdDSA`
 * and `Ed25519` name the same Ed25519 signatures (RFC 8037, RFC 9864).
 */
export const DPOP_SIGNING_ALGS: readonly string[] = ASYMMETRIC_ALGS;

/** Longest proof we look at: a proof with an RSA-4096 `jwk` is about 1.5 KiB. */
export const MAX_PROOF_LENGTH = 8192;
/** Longest `jti` accepted: §4.2 asks for 96 bits of randomness; a UUID is 36 characters. */
export const MAX_JTI_LENGTH = 256;
/** A proof is accepted for this long after its `iat` (§4.3 item 11: "within an acceptable window"). */
export const PROOF_MAX_AGE = 300;

/** JWK members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

export interface DpopCheck {
  /** The request's method (`htm`). */
  method: string;
  /** The URL the request was sent to, as the client sees it: ISSUER + the endpoint's path. */
  url: string;
  /** Milliseconds since the epoch. */
  now: number;
  /** Seconds of clock difference tolerated (CLOCK_SKEW): how far in the future `iat` may be. */
  clockSkew: number;
  /** The access token presented with the proof, whose hash `ath` must carry (§4.3 item 12). */
  accessToken?: string;
}

export interface VerifiedProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key: what `cnf.jkt` names (§6.1). */
  jkt: string;
  jti: string;
  /** Seconds since the epoch. */
  iat: number;
  /** The server nonce the proof carried, if any (§8); the caller judges it. */
  nonce?: string;
}

/**
 * RFC 9449 §4.3 item 9 and RFC 3986 §6.2.2–6.2.3: the URL without query and fragment, in the
 * normal form WHATWG URL parsing gives (scheme and host lower-cased, default port dropped, dot
 * segments removed, percent-encoding of unreserved characters kept as sent). Undefined if it is
 * not an absolute http(s) URL.
 */
export function normalizeHtu(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const path = url.pathname.replace(/%[0-9a-f]{2}/gi, (e) => {
    const c = String.fromCharCode(parseInt(e.slice(1), 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : e.toUpperCase();
  });
  return `${url.protocol}//${url.host}${path}`;
}

/** RFC 9449 §4.2 `ath`: base64url SHA-256 of the access token's ASCII bytes. */
export const accessTokenHash = (accessToken: string): string => createHash('sha256').update(accessToken, 'ascii').digest('base64url');

/** RFC 7638 thumbprint of a public JWK (what `dpop_jkt` and `cnf.jkt` carry). */
export const jwkThumbprint = (jwk: JWK): Promise<string> => calculateJwkThumbprint(jwk, 'sha256');

/** A base64url SHA-256 thumbprint: 43 characters (RFC 9449 §10 `dpop_jkt`). */
export const JKT = /^[A-Za-z0-9_-]{43}$/;

/**
 * RFC 9449 §4.3 items 2–12 except `jti` single use (the caller records it) and the nonce
 * (dpop-nonce.ts). Throws DpopRejected naming the first check that failed.
 */
export async function verifyDpopProof(proof: string, check: DpopCheck): Promise<VerifiedProof> {
  if (proof.length > MAX_PROOF_LENGTH) throw new DpopRejected(`the DPoP proof is longer than ${MAX_PROOF_LENGTH} characters`);
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(proof))
    throw new DpopRejected('the DPoP header must be one JWT in compact serialization (RFC 9449 §4.2)');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw new DpopRejected('the DPoP proof header is not valid base64url JSON');
  }
  if (header.typ !== 'dpop+jwt') throw new DpopRejected('the DPoP proof must have typ "dpop+jwt" (RFC 9449 §4.2)');
  if (typeof header.alg !== 'string' || !DPOP_SIGNING_ALGS.includes(header.alg))
    throw new DpopRejected(`the DPoP proof alg must be one of ${DPOP_SIGNING_ALGS.join(', ')} (asymmetric, RFC 9449 §4.2)`);
  const jwk = header.jwk;
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk))
    throw new DpopRejected('the DPoP proof header must carry the public key as "jwk"');
  if (PRIVATE_MEMBERS.some((m) => Object.hasOwn(jwk, m)) || jwk.kty === 'oct')
    throw new DpopRejected('the DPoP proof "jwk" must be a public key: it carries private key material (RFC 9449 §4.3 item 7)');
  let key: Awaited<ReturnType<typeof importJWK>>;
  try {
    key = await importJWK(jwk, header.alg);
  } catch {
    throw new DpopRejected(`the DPoP proof "jwk" is not a valid public key for alg ${header.alg}`);
  }
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(proof, key, { typ: 'dpop+jwt', algorithms: [...DPOP_SIGNING_ALGS] }));
  } catch (err) {
    if (err instanceof joseErrors.JWSSignatureVerificationFailed)
      throw new DpopRejected('the DPoP proof signature does not verify with the key in its "jwk" header');
    throw new DpopRejected('the DPoP proof is not a valid signed JWT');
  }
  const { jti, htm, htu, iat, nonce, ath } = payload;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH)
    throw new DpopRejected(`the DPoP proof must carry a "jti" of 1–${MAX_JTI_LENGTH} characters`);
  if (htm !== check.method) throw new DpopRejected(`the DPoP proof "htm" must be the request's method, ${check.method}`);
  if (typeof htu !== 'string' || normalizeHtu(htu) !== normalizeHtu(check.url))
    throw new DpopRejected(`the DPoP proof "htu" must be ${check.url} (the URL of this request without query or fragment)`);
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new DpopRejected('the DPoP proof must carry "iat" (seconds since the epoch)');
  const now = check.now / 1000;
  if (iat > now + check.clockSkew) throw new DpopRejected('the DPoP proof "iat" is in the future; check the clock');
  if (iat < now - PROOF_MAX_AGE - check.clockSkew)
    throw new DpopRejected(`the DPoP proof is too old: "iat" must be within ${PROOF_MAX_AGE} seconds; make a new proof for each request`);
  if (nonce !== undefined && (typeof nonce !== 'string' || nonce.length === 0))
    throw new DpopRejected('the DPoP proof "nonce" must be the non-empty string the server sent');
  if (check.accessToken !== undefined) {
    if (ath === undefined) throw new DpopRejected('the DPoP proof must carry "ath", the hash of the access token (RFC 9449 §4.3 item 12)');
    if (ath !== accessTokenHash(check.accessToken))
      throw new DpopRejected('the DPoP proof "ath" does not match the access token presented');
  }
  return { jkt: await jwkThumbprint(jwk), jti, iat, ...(typeof nonce === 'string' ? { nonce } : {}) };
}
