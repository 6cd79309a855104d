import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
} from 'jose';
import { ASYMMETRIC_ALGS } from '../keys/algorithms.js';
import { invalidClient, OAuthError } from '../oauth/errors.js';
import type { ClientRecord } from '../store/repositories/clients.js';
import type { ClientAuthDeps } from './types.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The client_id a client assertion claims, read before it is verified (to find the client). */
export function assertionClientId(assertion: string): string {
  let payload: JWTPayload;
  try {
    payload = decodeJwt(assertion);
  } catch {
    throw invalidClient('client_assertion is not a JWT (expected header.payload.signature)');
  }
  if (typeof payload.sub !== 'string' || !payload.sub) {
    throw invalidClient('client_assertion has no "sub" claim; it must be the client_id (RFC 7523 §3)');
  }
  return payload.sub;
}

/**
 * RFC 7523 §2.2 and §3, SECURITY.md items 22–23: an allow-list of asymmetric algorithms, keys
 * only from the client's registered jwks or jwks_uri (never the jwk/jku/x5u headers), iss = sub =
 * client_id, aud naming this server, a bounded exp, nbf/iat honoured, and jti used once.
 */
export async function verifyClientAssertion(deps: ClientAuthDeps, client: ClientRecord, assertion: string): Promise<void> {
  const fail = (why: string) => invalidClient(`client_assertion rejected: ${why}`);
  let header;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    throw fail('its header cannot be decoded');
  }
  for (const h of ['jwk', 'jku', 'x5u', 'x5c'] as const) {
    if (h in header) throw fail(`the "${h}" header is not accepted; keys come only from the client's registered jwks or jwks_uri`);
  }
  const allowed: readonly string[] = client.metadata.token_endpoint_auth_signing_alg
    ? [client.metadata.token_endpoint_auth_signing_alg]
    : ASYMMETRIC_ALGS;
  if (typeof header.alg !== 'string' || !allowed.includes(header.alg)) {
    throw fail(`alg "${String(header.alg)}" is not allowed; use one of ${allowed.join(', ')}`);
  }

  let jwks: JSONWebKeySet;
  if (client.metadata.jwks) {
    jwks = client.metadata.jwks as JSONWebKeySet;
  } else if (client.metadata.jwks_uri) {
    try {
      jwks = await deps.remoteJwks.get(client.metadata.jwks_uri, header.kid);
    } catch (err) {
      throw fail(`the client's jwks_uri could not be read (${(err as Error).message})`);
    }
  } else {
    throw fail('the client has no registered keys (jwks or jwks_uri)');
  }

  const now = deps.clock.now();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet(jwks), {
      algorithms: [...allowed],
      issuer: client.clientId,
      subject: client.clientId,
      clockTolerance: deps.clockSkew,
      currentDate: new Date(now),
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
    }));
  } catch (err) {
    throw fail(describeJoseError(err));
  }

  const audiences = new Set([deps.issuer, ...deps.audiences]);
  const aud = payload.aud;
  const auds = Array.isArray(aud) ? aud : [aud];
  if (auds.length === 0 || !auds.every((a) => typeof a === 'string' && audiences.has(a))) {
    throw fail(`"aud" must be this server's issuer (${deps.issuer}) or the endpoint URL; got ${JSON.stringify(aud)}`);
  }
  const nowSec = Math.floor(now / 1000);
  if (payload.exp! > nowSec + deps.assertionMaxLifetime + deps.clockSkew) {
    throw fail(`"exp" is more than ${deps.assertionMaxLifetime} seconds ahead; assertions must be short-lived`);
  }
  if (payload.iat !== undefined && payload.iat > nowSec + deps.clockSkew) {
    throw fail('"iat" is in the future');
  }
  if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > 256) {
    throw fail('"jti" must be a non-empty string of at most 256 characters');
  }
  const firstUse = await deps.replay.firstUse(
    `client_assertion:${client.clientId}:${payload.jti}`,
    new Date((payload.exp! + deps.clockSkew) * 1000),
    new Date(now),
  );
  if (!firstUse) throw fail('its "jti" has been used before; every assertion must be new (RFC 7523 §3)');
}

function describeJoseError(err: unknown): string {
  if (err instanceof OAuthError) return err.description;
  if (err instanceof joseErrors.JWTExpired) return '"exp" is in the past';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    const claim = err.claim;
    if (err.reason === 'missing') return `the "${claim}" claim is required`;
    if (claim === 'iss' || claim === 'sub') return `"${claim}" must equal the client_id`;
    if (claim === 'nbf') return '"nbf" is in the future';
    return `the "${claim}" claim is invalid (${err.message})`;
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no registered key matches its "kid" and "alg"';
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys) return 'several registered keys match; send a "kid" header';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the signature does not verify with the client\'s registered key';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'its algorithm is not allowed';
  if (err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWSInvalid) return `it is not a valid JWS (${err.message})`;
  if (err instanceof joseErrors.JOSENotSupported) return `unsupported key or algorithm (${err.message})`;
  return 'it could not be verified';
}
