import { z } from 'zod';
import type { RefreshIssuanceDeps } from './refresh-issuance.js';
import type { UserTokenDeps } from './user-tokens.js';
import { invalidGrant, invalidScope, invalidTarget, OAuthError } from '../oauth/errors.js';
import { repeatable, required } from '../oauth/params.js';
import { parseScope } from '../oauth/scopes.js';
import { hashToken, newOpaqueToken } from '../tokens/opaque.js';
import { newRefreshTokenRow } from './refresh-issuance.js';
import { defineGrant, type GrantDeps, type GrantHandler, type TokenResponse } from './types.js';
import { userTokenResponse } from './user-tokens.js';
import type { RefreshTokenState, RotateResult } from '../store/repositories/refresh-tokens.js';
import { judgeRefresh, type RefreshVerdict } from './refresh-policy.js';
import { isLiveRefreshToken } from '../tokens/refresh-token-liveness.js';

/** What this grant uses of the token endpoint's dependencies. */
export type RefreshTokenDeps = UserTokenDeps &
  RefreshIssuanceDeps &
  Pick<GrantDeps, 'grants' | 'refreshTokenRotation' | 'refreshTokenGrace' | 'recentRotations' | 'transaction' | 'events'>;

export const parameters = z.object({
  refresh_token: required('refresh_token').max(512, 'refresh_token is too long'),
  scope: z.string().optional(),
  resource: repeatable,
});

/** Scope and resource may narrow for this access token, never widen (RFC 6749 §6, RFC 8707 §2.2). */
function narrowed(token: RefreshTokenState, scope: string | undefined, resource: string[]): { scopes: string[]; audiences: string[] } {
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

const REFUSALS: Record<Extract<RefreshVerdict, { kind: 'refuse' }>['reason'], string> = {
  not_found: 'the refresh token is not valid',
  other_client: 'the refresh token was issued to another client',
  revoked: 'the refresh token has been revoked; sign in again',
  expired: 'the refresh token has expired; sign in again',
  concurrent: 'the refresh token was used by a concurrent request; use the refresh token that request returned',
};

/** Thrown inside the grace transaction to roll it back: the successor had been used. */
class SuccessorUsed extends Error {}

/**
 * RFC 6749 §6 with rotation and reuse detection (RFC 9700 §4.14.2). Public clients' tokens rotate
 * on every use; confidential clients' too unless REFRESH_TOKEN_ROTATION is off. The policy —
 * reuse, grace, concurrency — is src/grants/refresh-policy.ts; this reads, asks it, and writes.
 *
 * "Did this request arrive before the rotation committed?" is answered from the order of events,
 * with no time tolerance:
 * - by the store, across processes: the statement that first reads the token sees it as committed
 *   when that statement began. If it saw the token live and our compare-and-set then fails, the
 *   change committed after we arrived there, whichever process made it;
 * - by this process (RecentRotations): if this process committed the change after the request
 *   arrived (or is committing it now), the request arrived first, even when the single embedded
 *   connection or the pool made it wait until after the commit to read.
 * Anything else presenting a rotated token arrived after the rotation committed: reuse.
 */
export const refreshToken: GrantHandler<z.output<typeof parameters>, RefreshTokenDeps> = async (
  { client, params: p, arrival, ip, dpopJkt },
  deps,
) => {
  const now = deps.clock.now();
  const rotate = client.metadata.token_endpoint_auth_method === 'none' || deps.refreshTokenRotation;
  const tokenHash = hashToken(p.refresh_token);
  const next = newOpaqueToken();

  const judge = (token: RefreshTokenState | undefined, changedInStore: boolean) =>
    judgeRefresh({
      token,
      clientId: client.clientId,
      now,
      graceMs: deps.refreshTokenGrace * 1000,
      changedSinceArrival: changedInStore || deps.recentRotations.changedAfter(tokenHash, arrival),
    });

  /** Rotates the token if it is live: one compare-and-set statement, noted in RecentRotations. */
  const rotateIfLive = async (): Promise<RotateResult> => {
    const end = deps.recentRotations.begin(tokenHash);
    let rotated = false;
    try {
      const r = await deps.refreshTokens.rotate(
        tokenHash,
        client.clientId,
        new Date(now),
        hashToken(next),
        deps.refreshTokenIdleTtl,
        dpopJkt ?? null,
      );
      rotated = r.rotated;
      return r;
    } finally {
      end(rotated);
    }
  };

  const respond = async (token: RefreshTokenState, refreshToken: string | undefined): Promise<TokenResponse> => {
    const { scopes, audiences } = narrowed(token, p.scope, p.resource);
    // Every refresh token belongs to a person's grant (code or device flow).
    if (!token.userId) throw invalidGrant(REFUSALS.not_found);
    const response = await userTokenResponse(deps, client, {
      subject: token.userId,
      scopes,
      audiences,
      grantId: token.grantId,
      authTime: Math.floor((token.authTime ?? new Date(now)).getTime() / 1000),
      dpopJkt,
    });
    if (refreshToken) response.refresh_token = refreshToken;
    return response;
  };

  /** RFC 9700 §4.14.2: a used token presented again may have been stolen; the family dies. */
  const revokeFamily = async (reuse: { grantId: string; userId: string | null; why: 'rotated' | 'replaced' }): Promise<never> => {
    await deps.grants.revoke(reuse.grantId, new Date(now));
    deps.events.emit({
      type: 'refresh_token.reuse',
      clientId: client.clientId,
      ...(reuse.userId !== null ? { userId: reuse.userId } : {}),
      ...(ip !== undefined ? { ip } : {}),
      details: { grant_id: reuse.grantId, token: reuse.why, grant_revoked: true },
    });
    throw invalidGrant(
      'the refresh token was already used: reuse means it may have been stolen, so every token of this grant is now revoked; sign in again',
    );
  };

  /** After a compare-and-set found the token changed since it was read live: say how. */
  const changedUnderUs = async (): Promise<never> => {
    const verdict = judge(await deps.refreshTokens.find(tokenHash), true);
    throw invalidGrant(REFUSALS[verdict.kind === 'refuse' ? verdict.reason : 'concurrent']);
  };

  /**
   * RFC 9449 §5: a token bound to a DPoP key (a public client's) is refused without a proof of
   * that key. Nothing is revoked: whoever presents it may be a thief without the key, and the
   * rightful client's token stays good.
   */
  const refuseOtherKey = (token: RefreshTokenState | undefined): void => {
    if (!token || token.dpopJkt === null || token.dpopJkt === dpopJkt || token.clientId !== client.clientId) return;
    throw new OAuthError(
      'invalid_grant',
      dpopJkt === undefined
        ? 'the refresh token is bound to a DPoP key: send a DPoP proof signed with that key (RFC 9449 section 5)'
        : 'the refresh token is bound to another DPoP key than the one that signed this proof',
    );
  };

  // Arrival: the token as the store has it. The common case — rotation on, nothing to narrow —
  // reads and rotates in one statement.
  let atArrival: RefreshTokenState | undefined;
  if (rotate && p.scope === undefined && p.resource.length === 0) {
    const r = await rotateIfLive();
    if (r.rotated) return respond(r.token, next);
    atArrival = r.atArrival;
    refuseOtherKey(atArrival);
    // Live when the statement began, yet not rotated by it: another request's change committed
    // while it waited for the row.
    if (atArrival && atArrival.clientId === client.clientId && isLiveRefreshToken(atArrival, now)) return changedUnderUs();
  } else {
    atArrival = await deps.refreshTokens.find(tokenHash);
  }

  refuseOtherKey(atArrival);
  const verdict = judge(atArrival, false);
  switch (verdict.kind) {
    case 'refuse':
      throw invalidGrant(REFUSALS[verdict.reason]);
    case 'reuse':
      return revokeFamily(verdict);
    case 'refresh':
    case 'reissue_successor':
      break;
  }
  // The policy lets only a found token through.
  const token = atArrival as RefreshTokenState;
  // A bad request (e.g. a wider scope) must not burn a good token: checked before any write.
  narrowed(token, p.scope, p.resource);

  if (verdict.kind === 'refresh') {
    if (!rotate) {
      if (await deps.refreshTokens.keep(tokenHash, new Date(now), deps.refreshTokenIdleTtl)) return respond(token, undefined);
      return changedUnderUs();
    }
    const r = await rotateIfLive();
    if (r.rotated) return respond(r.token, next);
    return changedUnderUs();
  }

  // REFRESH_TOKEN_GRACE: re-issue the successor, only if nobody has used it, in one transaction
  // holding the old token's row: the old token is re-pointed only if its successor is still the
  // one we read (else a concurrent retry got there first), and the successor is marked replaced
  // only if unused (else this is reuse, and the transaction rolls back).
  const successor = newRefreshTokenRow(
    deps,
    hashToken(next),
    {
      grantId: token.grantId,
      clientId: token.clientId,
      userId: token.userId,
      // RFC 6749 §6: the new refresh token has exactly the old one's scope.
      scopes: token.scopes,
      resources: token.resources,
      authTime: token.authTime,
      nonce: token.nonce,
      dpopJkt: token.dpopJkt,
    },
    token.grantExpiresAt,
  );
  const end = deps.recentRotations.begin(tokenHash);
  let outcome: 'reissued' | 'concurrent' | 'successor_used' = 'concurrent';
  try {
    outcome = await deps
      .transaction(async ({ refreshTokens }) => {
        if (!(await refreshTokens.repointSuccessor(tokenHash, verdict.successorHash, successor.tokenHash))) return 'concurrent' as const;
        if (!(await refreshTokens.replaceIfUnused(verdict.successorHash, new Date(now)))) throw new SuccessorUsed();
        await refreshTokens.create(successor);
        return 'reissued' as const;
      })
      .catch((err: unknown) => {
        if (err instanceof SuccessorUsed) return 'successor_used' as const;
        throw err;
      });
  } finally {
    end(outcome === 'reissued');
  }
  if (outcome === 'reissued') return respond(token, next);
  if (outcome === 'concurrent') throw invalidGrant(REFUSALS.concurrent);
  return revokeFamily({ grantId: token.grantId, userId: token.userId, why: 'rotated' });
};

/** The registry entry (grants/registry.ts). */
export const refreshTokenGrant = defineGrant({
  grantType: 'refresh_token',
  parameters,
  clientAuthentication: 'required',
  clientTypes: ['confidential', 'public'],
  handle: refreshToken,
});
