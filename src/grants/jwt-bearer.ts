import type { ClientRecord } from '../domain/client.js';
import { z } from 'zod';
import { epochSeconds } from '../clock.js';
import { invalidGrant, invalidScope, unauthorizedClient } from '../oauth/errors.js';
import { repeatable, required } from '../oauth/params.js';
import { parseScope } from '../oauth/scopes.js';
import { resolveTarget } from '../oauth/targets.js';
import { buildAccessTokenClaims, signAccessToken, tokenTypeFor } from '../tokens/access-token.js';
import { JwtRejected } from '../trust/received-jwt.js';
import { recordTrustedJwt, verifyTrustedJwt, type TrustedJwt } from '../trust/verify-trusted.js';
import { defineGrant, type GrantDeps, type GrantHandler } from './types.js';
import { accessTokenUserClaims } from './user-tokens.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** What this grant uses of the token endpoint's dependencies. */
export type JwtBearerDeps = Pick<
  GrantDeps,
  'clock' | 'issuer' | 'trust' | 'registry' | 'accessTokenTtl' | 'accessTokenSigningAlg' | 'keystore' | 'jtis'
>;

export const parameters = z.object({
  assertion: required('assertion'),
  scope: z.string().optional(),
  resource: repeatable,
});

/**
 * The grants that act on a subject other than the client need a client that proves who it is:
 * a trusted issuer's client_ids, and a client's impersonation policy, mean nothing when anyone
 * can claim a public client's id.
 */
export function requireConfidentialClient(client: ClientRecord, grant: string): void {
  if (client.metadata.token_endpoint_auth_method === 'none') {
    throw unauthorizedClient(`the ${grant} grant needs an authenticated client; "${client.clientId}" is a public client`);
  }
}

/** Requested scopes: undefined when absent (the default), invalid_scope when malformed. */
export function requestedScopes(raw: string | undefined): string[] | undefined {
  if (!raw) return undefined;
  const scopes = parseScope(raw);
  if (!scopes) throw invalidScope('scope must be scope tokens separated by single spaces (RFC 6749 §3.3)');
  return scopes;
}

/**
 * Checks requested scopes against the client's and a second bound (the trusted issuer's, or the
 * subject token's), naming the bound that refused; returns the scopes the client may have within
 * that bound, for resolveTarget (which adds the resources' own rules).
 */
export function boundScopes(
  client: ClientRecord,
  requested: readonly string[] | undefined,
  bound: readonly string[] | undefined,
  refuse: (scope: string, bound: readonly string[]) => string,
): string[] {
  const clientScopes = parseScope(client.metadata.scope) ?? [];
  for (const s of requested ?? []) {
    if (!clientScopes.includes(s)) {
      throw invalidScope(
        `scope "${s}" is not registered for client "${client.clientId}"; its scopes are: ${clientScopes.join(' ') || '(none)'}`,
      );
    }
    if (bound && !bound.includes(s)) throw invalidScope(refuse(s, bound));
  }
  return bound ? clientScopes.filter((s) => bound.includes(s)) : clientScopes;
}

/**
 * RFC 7523 §2.1 and §3: a client presents a JWT signed by a trusted issuer and receives an access
 * token for the JWT's subject. Every failed check of the assertion answers invalid_grant naming
 * the check. The scope is at most requested ∩ the issuer's scope ∩ the client's scope (and what
 * the target resources define); no refresh token is issued (§4.1 of RFC 7521: the client can
 * present a new assertion). The `jti` is recorded last, once everything else has passed, so a
 * request refused for its scope or resource does not burn the assertion; recording is one atomic
 * statement, so of concurrent presentations exactly one wins.
 */
export const jwtBearer: GrantHandler<z.output<typeof parameters>, JwtBearerDeps> = async ({ client, params: p, dpopJkt }, deps) => {
  requireConfidentialClient(client, JWT_BEARER);
  const requested = requestedScopes(p.scope);
  const now = deps.clock.now();
  let asserted: TrustedJwt;
  try {
    asserted = await verifyTrustedJwt(p.assertion, client, { issuer: deps.issuer, now, trust: deps.trust });
  } catch (err) {
    if (err instanceof JwtRejected) throw invalidGrant(`assertion rejected: ${err.reason}`);
    throw err;
  }

  const trustedScopes = parseScope(asserted.trusted.scope) ?? [];
  const clientScopes = boundScopes(
    client,
    requested,
    trustedScopes,
    (s, bound) =>
      `scope "${s}" may not be granted on assertions from issuer "${asserted.trusted.issuer}"; it may grant: ${bound.join(' ') || '(none)'}`,
  );
  const target = resolveTarget({
    clientId: client.clientId,
    clientAudiences: client.metadata.audiences,
    clientScopes,
    requestedResources: p.resource,
    requestedScopes: requested,
    resources: await deps.registry.resourceMap(),
    defaultTtl: deps.accessTokenTtl,
  });

  if (!(await recordTrustedJwt(deps.trust, asserted, now))) {
    throw invalidGrant('assertion rejected: its "jti" has been used before; every assertion must be new (RFC 7523 §3)');
  }
  // A subject that is a Latchkey user gets the claims its resources ask for (access_token_claims).
  const userClaims = await accessTokenUserClaims(deps, asserted.local ? asserted.subject : undefined, target.audiences);
  const claims = buildAccessTokenClaims(
    {
      issuer: deps.issuer,
      subject: asserted.subject,
      audiences: target.audiences,
      clientId: client.clientId,
      scopes: target.scopes,
      issuedAt: epochSeconds(deps.clock),
      ttl: target.ttl,
      ...(dpopJkt ? { dpopJkt } : {}),
      extra: userClaims,
    },
    deps.jtis.next(),
  );
  return {
    access_token: signAccessToken(claims, deps.keystore.signingKey(deps.accessTokenSigningAlg)),
    token_type: tokenTypeFor(dpopJkt),
    expires_in: target.ttl,
    ...(target.scopes.length ? { scope: target.scopes.join(' ') } : {}),
  };
};

/** The registry entry (grants/registry.ts). */
export const jwtBearerGrant = defineGrant({
  grantType: JWT_BEARER,
  parameters,
  clientAuthentication: 'required',
  clientTypes: ['confidential'],
  handle: jwtBearer,
});
