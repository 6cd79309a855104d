import type { ClientRecord } from '../domain/client.js';
import type { FormParams } from '../domain/form.js';
import type { RemoteJwksCache } from '../keys/remote-jwks.js';
import { ASYMMETRIC_ALGS } from '../keys/algorithms.js';
import { OAuthError } from '../oauth/errors.js';
import type { ReplayRepository } from '../store/repositories/replay.js';
import { JwtRejected, replayExpiry, singleAudience, verifyReceivedJwt, type VerifiedJwt } from './received-jwt.js';

/** RFC 9101 §4 / §10.8: the explicit type every request object must carry. */
export const REQUEST_OBJECT_TYP = 'oauth-authz-req+jwt';

/** What verifying a request object needs, built once by the composition root. */
export interface RequestObjectDeps {
  issuer: string;
  remoteJwks: Pick<RemoteJwksCache, 'keys'>;
  replay: Pick<ReplayRepository, 'firstUse'>;
  clockSkew: number;
  /** Longest `exp - now` (and `exp - iat`) a request object may have, in seconds. */
  maxLifetime: number;
}

/** Claims of the JWT itself, not authorization request parameters (RFC 9101 §4, RFC 7519 §4.1). */
const JWT_CLAIMS = new Set(['iss', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sub']);

export const invalidRequestObject = (why: string) => new OAuthError('invalid_request_object', `the request object is refused: ${why}`);

/**
 * A claim's value as the form parameter it stands for: strings as they are, numbers and booleans
 * written out (`max_age` is a number in a request object, OIDC Core §6.1), an array of strings
 * as a repeated parameter (`resource`, RFC 8707), and a JSON object (`claims`) as its JSON text,
 * which is how the same parameter arrives in a query string.
 */
function asParam(name: string, value: unknown): string | string[] {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return JSON.stringify(value);
  throw invalidRequestObject(`the "${name}" claim has a value no authorization parameter can have`);
}

/**
 * RFC 9101 (JAR): verifies a signed request object of `client` with the one verifier of received
 * JWTs (trust/received-jwt.ts) and returns the authorization request parameters it carries —
 * the only ones used (RFC 9101 §6.3). Checks: an asymmetric algorithm (the client's
 * request_object_signing_alg when registered; never `none`, never HMAC: §10.1 and
 * docs/security.md), keys only from the client's jwks / jwks_uri, `typ` oauth-authz-req+jwt
 * (§10.8: explicit typing, so that no other JWT the client signs — a client assertion, a
 * JWT-bearer assertion — passes as a request object), `iss` = client_id (§10.2), `aud` = our
 * issuer, `exp` required and at most maxLifetime ahead, `nbf` / `iat` honoured, `jti` required
 * and used once across processes (replay table), and a `client_id` claim equal to the outer one
 * (§5). A request object inside a request object is refused.
 */
export async function verifyRequestObject(deps: RequestObjectDeps, client: ClientRecord, jwt: string, now: number): Promise<FormParams> {
  const { jwks, jwks_uri: jwksUri } = client.metadata;
  if (!jwks && !jwksUri) {
    throw invalidRequestObject(`client "${client.clientId}" has no registered keys (jwks or jwks_uri) to verify it with`);
  }
  const algorithms: readonly string[] = client.metadata.request_object_signing_alg
    ? [client.metadata.request_object_signing_alg]
    : ASYMMETRIC_ALGS;
  let verified: VerifiedJwt;
  try {
    verified = await verifyReceivedJwt(jwt, {
      algorithms,
      typ: REQUEST_OBJECT_TYP,
      requireSubject: false,
      keys() {
        if (jwks) return Promise.resolve(jwks);
        if (!jwksUri) return Promise.reject(new JwtRejected('the client has no registered keys (jwks or jwks_uri)'));
        return Promise.resolve(
          deps.remoteJwks.keys(jwksUri, (err) => new JwtRejected(`the client's jwks_uri could not be read (${err.message})`)),
        );
      },
      issuer: client.clientId,
      audience: singleAudience([deps.issuer], `this server's issuer (${deps.issuer})`),
      now,
      clockSkew: deps.clockSkew,
      maxLifetime: deps.maxLifetime,
      boundIssuedAt: true,
      keySource: "the client's registered jwks or jwks_uri",
      keyOwner: "the client's registered key",
      mismatch: () => '"iss" must be the client_id (RFC 9101 §10.2)',
    });
  } catch (err) {
    if (err instanceof JwtRejected) throw invalidRequestObject(err.reason);
    throw err;
  }
  const claims = verified.payload as Record<string, unknown>;
  if (claims.client_id !== client.clientId) {
    throw invalidRequestObject('its "client_id" claim must equal the client_id parameter (RFC 9101 §5)');
  }
  const params: FormParams = Object.create(null) as FormParams;
  for (const [name, value] of Object.entries(claims)) {
    if (JWT_CLAIMS.has(name)) continue;
    if (name === 'request' || name === 'request_uri') throw invalidRequestObject(`it must not contain a "${name}" claim`);
    params[name] = asParam(name, value);
  }
  const { jti, exp } = verified.payload;
  const firstUse = await deps.replay.firstUse(`request_object:${client.clientId}:${jti}`, replayExpiry(exp, deps.clockSkew), new Date(now));
  if (!firstUse) throw invalidRequestObject('its "jti" has been used before; every request object must be new');
  return params;
}
