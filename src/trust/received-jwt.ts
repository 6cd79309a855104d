import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose';

/**
 * Verification of JWTs Latchkey receives from others, shared by client assertions
 * (RFC 7523 §2.2), JWT-bearer grants (RFC 7523 §2.1) and trusted-issuer tokens in token exchange
 * (RFC 8693): docs/security.md items 22–23. Every failure is a JwtRejected whose reason names the
 * check that failed; each caller wraps it in its own OAuth error (invalid_client, invalid_grant,
 * invalid_request).
 */
export class JwtRejected extends Error {
  override name = 'JwtRejected';
  /** Stable, for logs and callers (the message may change). */
  readonly code = 'jwt_rejected';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Headers that would let the sender choose the verification key (CVE-2018-0114). */
const KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;

/** Longest JWT we look at: a signed assertion is a few hundred bytes to a few KiB. */
export const MAX_RECEIVED_JWT_LENGTH = 16_384;

export interface ReceivedJwtPolicy {
  /** Algorithms allowed (asymmetric only: never `none`, never HMAC). */
  algorithms: readonly string[];
  /**
   * The registered keys this JWT must verify with, chosen from the (unverified) header and
   * payload — e.g. the trusted issuer named by `iss`. Throws JwtRejected when there are none.
   */
  keys(header: ProtectedHeaderParameters, unverified: JWTPayload): Promise<JSONWebKeySet | JWTVerifyGetKey>;
  /**
   * The `typ` header the JWT must carry (explicit typing, RFC 8725 §3.11), compared
   * case-insensitively without an "application/" prefix (RFC 7515 §4.1.9). Unset: not checked.
   */
  typ?: string;
  /** Whether `sub` is required (default true: assertions; request objects have none, RFC 9101 §4). */
  requireSubject?: boolean;
  /** Required `iss` / `sub` values, when known in advance. */
  issuer?: string;
  subject?: string;
  /** Why `aud` is unacceptable, or undefined when it names this server as it must. */
  audience(aud: unknown): string | undefined;
  /** Milliseconds since the epoch. */
  now: number;
  clockSkew: number;
  /** Longest time (seconds) from now to `exp`. */
  maxLifetime: number;
  /** Also bound `exp - iat` by maxLifetime (an assertion minted long ago for long is refused). */
  boundIssuedAt?: boolean;
  /** Words for failure messages: where keys come from ("the client's registered jwks or jwks_uri"). */
  keySource: string;
  /** …and what a signature must verify with ("the client's registered key"). */
  keyOwner: string;
  /** Message when `iss` or `sub` differs from the required value. */
  mismatch?(claim: 'iss' | 'sub'): string;
}

/**
 * One jose key set per JWK Set object. jose imports a JWK into a CryptoKey once per key set
 * instance, so a key set made per request imported the key on every request: ~13% of the
 * JWT-bearer grant's main-thread time (WebCrypto's EC import). The JWK Sets come from the client,
 * trusted-issuer and remote-JWKS caches, so each is one object until its record is re-read; a
 * re-read record is a new object and gets a new key set, and the old one is collected with it.
 */
const keySets = new WeakMap<JSONWebKeySet, ReturnType<typeof createLocalJWKSet>>();

function keySetOf(jwks: JSONWebKeySet): ReturnType<typeof createLocalJWKSet> {
  let set = keySets.get(jwks);
  if (!set) {
    set = createLocalJWKSet(jwks);
    keySets.set(jwks, set);
  }
  return set;
}

/** A received JWT that passed every check; `jti` and `exp` are present (and `sub`, unless requireSubject is false). */
export interface VerifiedJwt {
  header: ProtectedHeaderParameters;
  payload: JWTPayload & { iss: string; sub: string; exp: number; jti: string };
}

/** Header and payload, unverified, for routing (which client, which issuer). */
export function decodeUnverified(jwt: string): { header: ProtectedHeaderParameters; payload: JWTPayload } {
  if (jwt.length > MAX_RECEIVED_JWT_LENGTH) throw new JwtRejected(`it is longer than ${MAX_RECEIVED_JWT_LENGTH} characters`);
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(jwt);
  } catch {
    throw new JwtRejected('its header cannot be decoded');
  }
  let payload: JWTPayload;
  try {
    payload = decodeJwt(jwt);
  } catch {
    throw new JwtRejected('it is not a JWT (expected header.payload.signature with a JSON payload)');
  }
  return { header, payload };
}

/** Refuses sender-chosen keys and algorithms outside the allow-list, before any key is looked at. */
export function checkHeader(header: ProtectedHeaderParameters, algorithms: readonly string[], keySource: string): void {
  for (const h of KEY_HEADERS) {
    if (h in header) throw new JwtRejected(`the "${h}" header is not accepted; keys come only from ${keySource}`);
  }
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) {
    throw new JwtRejected(`alg "${String(header.alg)}" is not allowed; use one of ${algorithms.join(', ')}`);
  }
}

/**
 * Every check of docs/security.md items 22–23 except `jti` replay, which the caller records (with
 * firstUse) once it has decided to accept the JWT, so that a request refused for another reason
 * does not burn the assertion. In order: header (embedded keys, alg), keys, signature, `iss`,
 * `sub`, `exp`, `nbf`, required claims, `aud`, maximum lifetime, `iat`, `jti` format.
 */
export async function verifyReceivedJwt(jwt: string, policy: ReceivedJwtPolicy): Promise<VerifiedJwt> {
  const { header, payload: unverified } = decodeUnverified(jwt);
  checkHeader(header, policy.algorithms, policy.keySource);
  if (policy.typ !== undefined) {
    const typ = typeof header.typ === 'string' ? header.typ.toLowerCase().replace(/^application\//, '') : undefined;
    if (typ !== policy.typ)
      throw new JwtRejected(`the "typ" header must be "${policy.typ}"; got ${typ === undefined ? 'none' : `"${String(header.typ)}"`}`);
  }
  const jwks = await policy.keys(header, unverified);

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(jwt, typeof jwks === 'function' ? jwks : keySetOf(jwks), {
      algorithms: [...policy.algorithms],
      ...(policy.issuer !== undefined ? { issuer: policy.issuer } : {}),
      ...(policy.subject !== undefined ? { subject: policy.subject } : {}),
      clockTolerance: policy.clockSkew,
      currentDate: new Date(policy.now),
      requiredClaims: policy.requireSubject === false ? ['iss', 'aud', 'exp', 'jti'] : ['iss', 'sub', 'aud', 'exp', 'jti'],
    }));
  } catch (err) {
    throw new JwtRejected(describeJoseError(err, policy));
  }
  if (typeof payload.iss !== 'string' || !payload.iss) throw new JwtRejected('"iss" must be a non-empty string');
  if (policy.requireSubject !== false && (typeof payload.sub !== 'string' || !payload.sub)) {
    throw new JwtRejected('"sub" must be a non-empty string');
  }

  const audProblem = policy.audience(payload.aud);
  if (audProblem) throw new JwtRejected(audProblem);

  const nowSec = Math.floor(policy.now / 1000);
  const exp = payload.exp;
  // jwtVerify has required a numeric exp; this only tells TypeScript.
  if (exp === undefined) throw new JwtRejected('the "exp" claim is required');
  if (exp > nowSec + policy.maxLifetime + policy.clockSkew) {
    throw new JwtRejected(`"exp" is more than ${policy.maxLifetime} seconds ahead; assertions must be short-lived`);
  }
  if (payload.iat !== undefined) {
    if (payload.iat > nowSec + policy.clockSkew) throw new JwtRejected('"iat" is in the future');
    if (policy.boundIssuedAt && exp - payload.iat > policy.maxLifetime + policy.clockSkew) {
      throw new JwtRejected(`its lifetime ("exp" - "iat") is more than ${policy.maxLifetime} seconds; assertions must be short-lived`);
    }
  }
  if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > 256) {
    throw new JwtRejected('"jti" must be a non-empty string of at most 256 characters');
  }
  return { header, payload: payload as VerifiedJwt['payload'] };
}

/** Until when a used `jti` must be remembered: its JWT is refused as expired after that. */
export function replayExpiry(exp: number, clockSkew: number): Date {
  return new Date((exp + clockSkew) * 1000);
}

/** Accepts only an `aud` that is exactly one of `accepted`, as a single string (not an array). */
export function singleAudience(accepted: readonly string[], what: string): (aud: unknown) => string | undefined {
  return (aud) =>
    typeof aud === 'string' && accepted.includes(aud) ? undefined : `"aud" must be ${what} as a single string; got ${JSON.stringify(aud)}`;
}

function describeJoseError(err: unknown, policy: ReceivedJwtPolicy): string {
  if (err instanceof JwtRejected) return err.reason;
  if (err instanceof joseErrors.JWTExpired) return '"exp" is in the past';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    const claim = err.claim;
    if (err.reason === 'missing') return `the "${claim}" claim is required`;
    if ((claim === 'iss' || claim === 'sub') && policy.mismatch) return policy.mismatch(claim);
    if (claim === 'nbf') return '"nbf" is in the future';
    return `the "${claim}" claim is invalid (${err.message})`;
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no registered key matches its "kid" and "alg"';
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys) return 'several registered keys match; send a "kid" header';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return `the signature does not verify with ${policy.keyOwner}`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'its algorithm is not allowed';
  if (err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWSInvalid) return `it is not a valid JWS (${err.message})`;
  if (err instanceof joseErrors.JOSENotSupported) return `unsupported key or algorithm (${err.message})`;
  return 'it could not be verified';
}
