import { z } from 'zod';
import type { RefreshIssuanceDeps } from './refresh-issuance.js';
import type { UserTokenDeps } from './user-tokens.js';
import { invalidGrant, invalidRequest, invalidTarget, OAuthError } from '../oauth/errors.js';
import type { CodeExchangeFailure } from '../store/repositories/codes.js';
import { repeatable, required } from '../oauth/params.js';
import { hashToken } from '../tokens/opaque.js';
import { CODE_VERIFIER, verifierMatches } from '../tokens/pkce.js';
import { refusalDescription, whyNotConsumed } from './authorization-code-policy.js';
import { clientMayRefresh, firstRefreshToken, refreshTokenBinding, scopesAllowRefresh } from './refresh-issuance.js';
import { defineGrant, type GrantDeps, type GrantHandler } from './types.js';
import { userTokenResponse } from './user-tokens.js';

/** What this grant uses of the token endpoint's dependencies. */
export type AuthorizationCodeDeps = UserTokenDeps &
  Pick<RefreshIssuanceDeps, 'clock' | 'refreshTokenIdleTtl' | 'refreshTokenAbsoluteTtl'> &
  Pick<GrantDeps, 'codes' | 'grants' | 'events'>;

export const parameters = z.object({
  code: required('code').max(512, 'code is too long'),
  redirect_uri: z.string().optional(),
  code_verifier: z.string().optional(),
  resource: repeatable,
});

/**
 * RFC 6749 §4.1.3 with RFC 7636 and OIDC Core §3.1.3. The code is consumed in one atomic
 * statement before anything else is checked, so of concurrent redemptions exactly one wins and a
 * code can never be tried twice (docs/security.md item 13). That statement also writes the grant's
 * first refresh token, so an exchange that is not refused costs one round trip to the database;
 * one that is refused deletes that token as it records why (nobody was given it).
 */
export const authorizationCode: GrantHandler<z.output<typeof parameters>, AuthorizationCodeDeps> = async (
  { client, params: p, ip, dpopJkt },
  deps,
) => {
  const now = deps.clock.now();
  const codeHash = hashToken(p.code);
  const refresh = clientMayRefresh(client) ? firstRefreshToken(deps, refreshTokenBinding(client, dpopJkt)) : undefined;
  const consumed = await deps.codes.consume(codeHash, client.clientId, new Date(now), refresh?.row);
  if (!consumed) {
    const refusal = whyNotConsumed(await deps.codes.find(codeHash), client.clientId);
    if (refusal.kind === 'replayed_after_tokens' || refusal.kind === 'replayed_after_refusal') {
      // RFC 6749 §4.1.2: a code used twice revokes what it issued. The replaying client has
      // authenticated, so this cannot be used to revoke someone else's tokens. A code whose
      // exchange was refused issued nothing: there is nothing to revoke, and we do not say so.
      if (refusal.kind === 'replayed_after_tokens') await deps.grants.revoke(refusal.grantId, new Date(now));
      deps.events.emit({
        type: 'authorization_code.replay',
        clientId: client.clientId,
        ...(ip !== undefined ? { ip } : {}),
        details: {
          grant_id: refusal.grantId,
          first_exchange: refusal.kind === 'replayed_after_tokens' ? 'not_refused' : 'refused',
          grant_revoked: refusal.kind === 'replayed_after_tokens',
        },
      });
    }
    throw invalidGrant(refusalDescription(refusal));
  }
  const { code, refreshTokenStored } = consumed;

  /** The code is consumed: a refusal from here on is recorded, so a retry can say nothing was issued. */
  const refuse = async (failure: CodeExchangeFailure, err: OAuthError): Promise<OAuthError> => {
    await deps.codes.recordExchangeFailure(codeHash, failure, refreshTokenStored ? refresh?.row.tokenHash : undefined);
    return err;
  };
  if (p.redirect_uri !== code.redirectUri) {
    throw await refuse(
      'redirect_uri',
      invalidGrant(
        p.redirect_uri === undefined
          ? 'redirect_uri is required: send the same redirect_uri as in the authorization request'
          : 'redirect_uri does not match the one in the authorization request',
      ),
    );
  }
  // PKCE both ways (RFC 9700 §4.8.2): a verifier if and only if a challenge was sent.
  if (code.codeChallenge) {
    if (p.code_verifier === undefined)
      throw await refuse('code_verifier', invalidGrant('code_verifier is required: the authorization request carried a code_challenge'));
    if (!CODE_VERIFIER.test(p.code_verifier))
      throw await refuse('code_verifier', invalidRequest('code_verifier must be 43–128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)'));
    if (!verifierMatches(p.code_verifier, code.codeChallenge))
      throw await refuse('code_verifier', invalidGrant('code_verifier does not match the code_challenge'));
  } else if (p.code_verifier !== undefined) {
    throw await refuse('code_verifier', invalidGrant('code_verifier was sent but the authorization request carried no code_challenge'));
  }

  // RFC 9449 §10: a code requested with dpop_jkt is redeemed only with a proof of that key.
  if (code.dpopJkt !== null && code.dpopJkt !== dpopJkt) {
    throw await refuse(
      'dpop_jkt',
      new OAuthError(
        'invalid_dpop_proof',
        dpopJkt === undefined
          ? 'the authorization request carried dpop_jkt: send a DPoP proof signed with that key (RFC 9449 section 10)'
          : 'the DPoP proof is signed with another key than the dpop_jkt of the authorization request',
      ),
    );
  }
  // RFC 8707 §2.2: at the token endpoint `resource` may only narrow what was authorized.
  let audiences = code.resources;
  if (p.resource.length) {
    const outside = p.resource.filter((r) => !code.resources.includes(r));
    if (outside.length) throw await refuse('resource', invalidTarget(`resource "${outside[0]}" was not part of the authorization request`));
    audiences = [...new Set(p.resource)];
  }
  // The grant was revoked after the code was consumed but before its refresh token was written
  // (the statement waited for the grant's row): what the person withdrew is not issued.
  const refreshTokenDue = refresh !== undefined && scopesAllowRefresh(code.scopes);
  if (refreshTokenDue && !refreshTokenStored) throw invalidGrant(refusalDescription({ kind: 'revoked' }));
  const authTime = Math.floor(code.authTime.getTime() / 1000);
  const response = await userTokenResponse(deps, client, {
    subject: code.userId,
    scopes: code.scopes,
    audiences,
    grantId: code.grantId,
    authTime,
    nonce: code.nonce,
    dpopJkt,
    amr: code.amr,
  });
  if (refreshTokenDue) response.refresh_token = refresh.token;
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
