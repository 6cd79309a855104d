import type { ClientRecord } from '../domain/client.js';
import { decodeJwt, type JWTPayload } from 'jose';
import { ASYMMETRIC_ALGS } from '../keys/algorithms.js';
import { invalidClient } from '../oauth/errors.js';
import { JwtRejected, replayExpiry, verifyReceivedJwt, type VerifiedJwt } from '../trust/received-jwt.js';
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
 * The `aud` a client assertion may carry: exactly one string, this server's issuer identifier or
 * its token endpoint URL (draft-ietf-oauth-rfc7523bis §4: the issuer, as a single value; the token
 * endpoint URL is still accepted, as RFC 7523 §3 item 3 allowed it). An array is refused even when
 * it holds the issuer: a JWT addressed to several parties can be replayed at each of them. The
 * introspection and revocation URLs are refused too: an assertion made for one of those endpoints
 * (of this or a look-alike server) is not a token request.
 */
export function clientAssertionAudienceProblem(
  aud: unknown,
  issuer: string,
  tokenEndpoint: string,
  endpointUrl?: string,
): string | undefined {
  if (typeof aud === 'string' && (aud === issuer || aud === tokenEndpoint || (endpointUrl !== undefined && aud === endpointUrl)))
    return undefined;
  const expected = `this server's issuer (${issuer}) or its token endpoint URL (${tokenEndpoint})${endpointUrl !== undefined ? ` or ${endpointUrl}` : ''}, as a single string`;
  if (Array.isArray(aud)) return `"aud" must be ${expected}, not an array`;
  return `"aud" must be ${expected}; got ${typeof aud === 'string' ? `"${aud}"` : typeof aud}`;
}

/**
 * RFC 7523 §2.2 and §3, docs/security.md items 22–23: an allow-list of asymmetric algorithms, keys
 * only from the client's registered jwks or jwks_uri (never the jwk/jku/x5u headers), iss = sub =
 * client_id, aud naming this server (clientAssertionAudienceProblem), a bounded exp, nbf/iat
 * honoured, and jti used once. The checks themselves are shared with the JWT-bearer grant and
 * token exchange (trust/received-jwt.ts).
 */
export async function verifyClientAssertion(
  deps: ClientAuthDeps,
  client: ClientRecord,
  assertion: string,
  endpointUrl?: string,
): Promise<void> {
  const fail = (why: string) => invalidClient(`client_assertion rejected: ${why}`);
  const allowed: readonly string[] = client.metadata.token_endpoint_auth_signing_alg
    ? [client.metadata.token_endpoint_auth_signing_alg]
    : ASYMMETRIC_ALGS;
  const now = deps.clock.now();
  let verified: VerifiedJwt;
  try {
    verified = await verifyReceivedJwt(assertion, {
      algorithms: allowed,
      keys() {
        if (client.metadata.jwks) return Promise.resolve(client.metadata.jwks);
        if (client.metadata.jwks_uri) {
          return Promise.resolve(
            deps.remoteJwks.keys(
              client.metadata.jwks_uri,
              (err) => new JwtRejected(`the client's jwks_uri could not be read (${err.message})`),
            ),
          );
        }
        return Promise.reject(new JwtRejected('the client has no registered keys (jwks or jwks_uri)'));
      },
      issuer: client.clientId,
      subject: client.clientId,
      audience: (aud) => clientAssertionAudienceProblem(aud, deps.issuer, deps.tokenEndpoint, endpointUrl),
      now,
      clockSkew: deps.clockSkew,
      maxLifetime: deps.assertionMaxLifetime,
      keySource: "the client's registered jwks or jwks_uri",
      keyOwner: "the client's registered key",
      mismatch: (claim) => `"${claim}" must equal the client_id`,
    });
  } catch (err) {
    if (err instanceof JwtRejected) throw fail(err.reason);
    throw err;
  }
  const { jti, exp } = verified.payload;
  const firstUse = await deps.replay.firstUse(
    `client_assertion:${client.clientId}:${jti}`,
    replayExpiry(exp, deps.clockSkew),
    new Date(now),
  );
  if (!firstUse) throw fail('its "jti" has been used before; every assertion must be new (RFC 7523 §3)');
}
