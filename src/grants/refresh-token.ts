import { z } from 'zod';
import type { RefreshIssuanceDeps } from './refresh-issuance.js';
import type { UserTokenDeps } from './user-tokens.js';
import { invalidGrant, invalidScope, invalidTarget } from '../oauth/errors.js';
import { repeatable, required } from '../oauth/params.js';
import { parseScope } from '../oauth/scopes.js';
import { hashToken, newOpaqueToken } from '../tokens/opaque.js';
import { newRefreshTokenRow } from './refresh-issuance.js';
import { defineGrant, type GrantDeps, type GrantHandler } from './types.js';
import { userTokenResponse } from './user-tokens.js';
import type { RefreshToken } from '../store/repositories/refresh-tokens.js';

/** What this grant uses of the token endpoint's dependencies. */
export type RefreshTokenDeps = UserTokenDeps &
  RefreshIssuanceDeps &
  Pick<GrantDeps, 'grants' | 'refreshTokenRotation' | 'refreshTokenGrace'>;

export const parameters = z.object({
  refresh_token: required('refresh_token').max(512, 'refresh_token is too long'),
  scope: z.string().optional(),
  resource: repeatable,
});

/** Scope and resource may narrow for this access token, never widen (RFC 6749 §6, RFC 8707 §2.2). */
function narrowed(token: RefreshToken, scope: string | undefined, resource: string[]): { scopes: string[]; audiences: string[] } {
  let scopes = token.scopes;
  if (scope) {
    const requested = parseScope(scope);
    if (!requested) throw invalidScope('scope must be scope tokens separated by single spaces (RFC 6749 §3.3)');
    const extra = requested.filter((s) => !token.scopes.includes(s));
    if (extra.length)
      throw invalidScope(`scope "${extra[0]}" was not granted; a refresh may only narrow the scope (granted: ${token.scopes.join(' ')})`);
    scopes = requested;
  }
  let audiences = token.resources;
  if (resource.length) {
    const outside = resource.filter((r) => !token.resources.includes(r));
    if (outside.length) throw invalidTarget(`resource "${outside[0]}" was not granted; a refresh may only narrow the resources`);
    audiences = [...new Set(resource)];
  }
  return { scopes, audiences };
}

/** Requests that reached the server before a rotation committed count as concurrent, not reuse. */
const CONCURRENCY_SKEW_MS = 2000;

/**
 * RFC 6749 §6 with rotation and reuse detection (RFC 9700 §4.14, SECURITY.md item 15). Public
 * clients' tokens rotate on every use; confidential clients' too unless REFRESH_TOKEN_ROTATION is
 * off. Presenting a rotated token revokes the whole grant: every refresh and access token of it.
 */
export const refreshToken: GrantHandler<z.output<typeof parameters>, RefreshTokenDeps> = async (
  { client, params: p, receivedAt },
  deps,
) => {
  const now = deps.clock.now();
  const rotate = client.metadata.token_endpoint_auth_method === 'none' || deps.refreshTokenRotation;
  const next = newOpaqueToken();
  const tokenHash = hashToken(p.refresh_token);
  // The common case — rotate a live token, nothing to narrow — in one statement; anything else
  // (rotation off, narrowing to validate first, a token that is not plainly live) takes the
  // locked path, which classifies it.
  const fast =
    rotate && !p.scope && p.resource.length === 0
      ? await deps.refreshTokens.rotateLive(tokenHash, client.clientId, new Date(now), hashToken(next), deps.refreshTokenIdleTtl)
      : undefined;
  const outcome = fast
    ? { kind: 'rotated' as const, token: fast }
    : await deps.refreshTokens.refresh({
        tokenHash,
        clientId: client.clientId,
        now: new Date(now),
        arrivedAt: new Date(receivedAt),
        rotate,
        graceMs: deps.refreshTokenGrace * 1000,
        concurrencySkewMs: CONCURRENCY_SKEW_MS,
        successor: (current, grantExpiresAt) =>
          newRefreshTokenRow(
            deps,
            hashToken(next),
            {
              grantId: current.grantId,
              clientId: current.clientId,
              userId: current.userId,
              // RFC 6749 §6: the new refresh token has exactly the old one's scope.
              scopes: current.scopes,
              resources: current.resources,
              authTime: current.authTime,
              nonce: current.nonce,
            },
            grantExpiresAt,
          ),
        validate: (current) => void narrowed(current, p.scope, p.resource),
        idleExpiry: (grantExpiresAt) => new Date(Math.min(now + deps.refreshTokenIdleTtl * 1000, grantExpiresAt.getTime())),
      });

  switch (outcome.kind) {
    case 'not_found':
      throw invalidGrant('the refresh token is not valid');
    case 'other_client':
      throw invalidGrant('the refresh token was issued to another client');
    case 'revoked':
    case 'family_revoked':
      throw invalidGrant('the refresh token has been revoked; sign in again');
    case 'expired':
      throw invalidGrant('the refresh token has expired; sign in again');
    case 'concurrent':
      throw invalidGrant('the refresh token was used by a concurrent request; use the refresh token that request returned');
    case 'reused':
      await deps.grants.revoke(outcome.token.grantId, new Date(now));
      throw invalidGrant(
        'the refresh token was already used: reuse means it may have been stolen, so every token of this grant is now revoked; sign in again',
      );
    default:
      break;
  }
  const token = outcome.token;
  const { scopes, audiences } = narrowed(token, p.scope, p.resource);

  // Every refresh token belongs to a person's grant (code or device flow).
  if (!token.userId) throw invalidGrant('the refresh token is not valid');
  const response = await userTokenResponse(deps, client, {
    subject: token.userId,
    scopes,
    audiences,
    grantId: token.grantId,
    authTime: Math.floor((token.authTime ?? new Date(now)).getTime() / 1000),
  });
  if (outcome.kind === 'rotated') response.refresh_token = next;
  return response;
};

/** The registry entry (grants/registry.ts). */
export const refreshTokenGrant = defineGrant({
  grantType: 'refresh_token',
  parameters,
  clientAuthentication: 'required',
  clientTypes: ['confidential', 'public'],
  handle: refreshToken,
});
