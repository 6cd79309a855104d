import { z } from 'zod';
import { epochSeconds } from '../clock.js';
import { invalidScope } from '../oauth/errors.js';
import { repeatable } from '../oauth/params.js';
import { parseScope } from '../oauth/scopes.js';
import { resolveTarget } from '../oauth/targets.js';
import { buildAccessTokenClaims, signAccessToken, tokenTypeFor } from '../tokens/access-token.js';
import { defineGrant, type GrantDeps, type GrantHandler } from './types.js';

/** What this grant uses of the token endpoint's dependencies. */
export type ClientCredentialsDeps = Pick<
  GrantDeps,
  'registry' | 'accessTokenTtl' | 'accessTokenSigningAlg' | 'clock' | 'keystore' | 'issuer' | 'jtis'
>;

export const parameters = z.object({
  scope: z.string().optional(),
  resource: repeatable,
});

/**
 * RFC 6749 §4.4: the client acts on its own behalf, so `sub` is the client_id (RFC 9068 §2.2) and
 * no refresh token is issued (§4.4.3). Issuing writes nothing to the database: revocation is by
 * jti, recorded only when a token is revoked.
 */
export const clientCredentials: GrantHandler<z.output<typeof parameters>, ClientCredentialsDeps> = async (
  { client, params: p, dpopJkt },
  deps,
) => {
  // An empty scope parameter means the same as none: the client's default scopes.
  const requestedScopes = p.scope ? parseScope(p.scope) : undefined;
  if (p.scope && !requestedScopes) {
    throw invalidScope('scope must be scope tokens separated by single spaces (RFC 6749 §3.3)');
  }
  const m = client.metadata;
  const target = resolveTarget({
    clientId: client.clientId,
    clientAudiences: m.audiences,
    clientScopes: parseScope(m.scope) ?? [],
    requestedResources: p.resource,
    requestedScopes,
    resources: await deps.registry.resourceMap(),
    defaultTtl: deps.accessTokenTtl,
  });
  const iat = epochSeconds(deps.clock);
  const claims = buildAccessTokenClaims(
    {
      issuer: deps.issuer,
      subject: client.clientId,
      audiences: target.audiences,
      clientId: client.clientId,
      scopes: target.scopes,
      issuedAt: iat,
      ttl: target.ttl,
      ...(dpopJkt ? { dpopJkt } : {}),
    },
    deps.jtis.next(),
  );
  const accessToken = signAccessToken(claims, deps.keystore.signingKey(deps.accessTokenSigningAlg));
  return {
    access_token: accessToken,
    token_type: tokenTypeFor(dpopJkt),
    expires_in: target.ttl,
    ...(target.scopes.length ? { scope: target.scopes.join(' ') } : {}),
  };
};

/** The registry entry (grants/registry.ts). */
export const clientCredentialsGrant = defineGrant({
  grantType: 'client_credentials',
  parameters,
  clientAuthentication: 'required',
  clientTypes: ['confidential'],
  handle: clientCredentials,
});
