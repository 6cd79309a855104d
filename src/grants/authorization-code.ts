import { z } from 'zod';
import type { RefreshIssuanceDeps } from './refresh-issuance.js';
import type { UserTokenDeps } from './user-tokens.js';
import { invalidGrant, invalidRequest, invalidTarget } from '../oauth/errors.js';
import { repeatable, required } from '../oauth/params.js';
import { hashToken } from '../tokens/opaque.js';
import { CODE_VERIFIER, verifierMatches } from '../tokens/pkce.js';
import { issueRefreshToken, refreshTokenAllowed } from './refresh-issuance.js';
import { defineGrant, type GrantDeps, type GrantHandler } from './types.js';
import { userTokenResponse } from './user-tokens.js';

/** What this grant uses of the token endpoint's dependencies. */
export type AuthorizationCodeDeps = UserTokenDeps & RefreshIssuanceDeps & Pick<GrantDeps, 'codes' | 'grants'>;

export const parameters = z.object({
  code: required('code').max(512, 'code is too long'),
  redirect_uri: z.string().optional(),
  code_verifier: z.string().optional(),
  resource: repeatable,
});

/**
 * RFC 6749 §4.1.3 with RFC 7636 and OIDC Core §3.1.3. The code is consumed in one atomic
 * statement before anything else is checked, so of concurrent redemptions exactly one wins and a
 * code can never be tried twice (SECURITY.md item 13).
 */
export const authorizationCode: GrantHandler<z.output<typeof parameters>, AuthorizationCodeDeps> = async ({ client, params: p }, deps) => {
  const now = deps.clock.now();
  const codeHash = hashToken(p.code);
  const code = await deps.codes.consume(codeHash, client.clientId, new Date(now));
  if (!code) {
    const known = await deps.codes.find(codeHash);
    if (known && known.clientId === client.clientId && known.consumedAt) {
      // RFC 6749 §4.1.2: a code used twice revokes what it issued. The replaying client has
      // authenticated, so this cannot be used to revoke someone else's tokens.
      await deps.grants.revoke(known.grantId, new Date(now));
      throw invalidGrant('the authorization code has already been used; every token issued from it is now revoked');
    }
    if (known && known.clientId !== client.clientId) throw invalidGrant('the authorization code was issued to another client');
    if (known) throw invalidGrant('the authorization code has expired; start the authorization again');
    throw invalidGrant('the authorization code is not valid');
  }

  if (p.redirect_uri !== code.redirectUri) {
    throw invalidGrant(
      p.redirect_uri === undefined
        ? 'redirect_uri is required: send the same redirect_uri as in the authorization request'
        : 'redirect_uri does not match the one in the authorization request',
    );
  }
  // PKCE both ways (RFC 9700 §4.8.2): a verifier if and only if a challenge was sent.
  if (code.codeChallenge) {
    if (p.code_verifier === undefined) throw invalidGrant('code_verifier is required: the authorization request carried a code_challenge');
    if (!CODE_VERIFIER.test(p.code_verifier))
      throw invalidRequest('code_verifier must be 43–128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)');
    if (!verifierMatches(p.code_verifier, code.codeChallenge)) throw invalidGrant('code_verifier does not match the code_challenge');
  } else if (p.code_verifier !== undefined) {
    throw invalidGrant('code_verifier was sent but the authorization request carried no code_challenge');
  }

  // RFC 8707 §2.2: at the token endpoint `resource` may only narrow what was authorized.
  let audiences = code.resources;
  if (p.resource.length) {
    const outside = p.resource.filter((r) => !code.resources.includes(r));
    if (outside.length) throw invalidTarget(`resource "${outside[0]}" was not part of the authorization request`);
    audiences = [...new Set(p.resource)];
  }
  const authTime = Math.floor(code.authTime.getTime() / 1000);
  const response = await userTokenResponse(deps, client, {
    subject: code.userId,
    scopes: code.scopes,
    audiences,
    grantId: code.grantId,
    authTime,
    nonce: code.nonce,
  });
  if (refreshTokenAllowed(client, code.scopes)) {
    response.refresh_token = await issueRefreshToken(deps, {
      grantId: code.grantId,
      clientId: client.clientId,
      userId: code.userId,
      scopes: code.scopes,
      resources: code.resources,
      authTime: code.authTime,
      nonce: code.nonce,
    });
  }
  return response;
};

/** The registry entry (grants/registry.ts). */
export const authorizationCodeGrant = defineGrant({
  grantType: 'authorization_code',
  parameters,
  clientAuthentication: 'required',
  clientTypes: ['confidential', 'public'],
  handle: authorizationCode,
});
