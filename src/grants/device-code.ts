import { z } from 'zod';
import type { RefreshIssuanceDeps } from './refresh-issuance.js';
import type { UserTokenDeps } from './user-tokens.js';
import { invalidGrant, OAuthError } from '../oauth/errors.js';
import { required } from '../oauth/params.js';
import { hashToken, newId } from '../tokens/opaque.js';
import { judgePoll } from './device-poll-policy.js';
import { issueRefreshToken, refreshTokenAllowed, refreshTokenBinding } from './refresh-issuance.js';
import { defineGrant, type GrantDeps, type GrantHandler } from './types.js';
import { userTokenResponse } from './user-tokens.js';

/** What this grant uses of the token endpoint's dependencies. */
export type DeviceCodeDeps = UserTokenDeps & RefreshIssuanceDeps & Pick<GrantDeps, 'transaction'>;

export const parameters = z.object({ device_code: required('device_code').max(512, 'device_code is too long') });

/**
 * RFC 8628 §3.4–3.5: authorization_pending until the person decides, slow_down when polled too
 * fast (the policy: src/grants/device-poll-policy.ts), access_denied, expired_token; tokens
 * exactly once, and only to the client that started the flow. One transaction holds the code's
 * row, so the interval and the single use hold however many processes are polled at once.
 */
export const deviceCode: GrantHandler<z.output<typeof parameters>, DeviceCodeDeps> = async ({ client, params: p, dpopJkt }, deps) => {
  const now = deps.clock.now();
  const grantId = newId();
  const hash = hashToken(p.device_code);
  const outcome = await deps.transaction(async ({ deviceCodes, grants }) => {
    const verdict = judgePoll(await deviceCodes.findForUpdate(hash), client.clientId, new Date(now));
    if (verdict.kind === 'refuse') return verdict;
    await deviceCodes.recordPoll(hash, verdict.record);
    if (verdict.kind === 'approved') {
      await grants.create({
        id: grantId,
        clientId: client.clientId,
        userId: verdict.code.userId,
        expiresAt: new Date(now + (Math.max(deps.accessTokenTtl, deps.idTokenTtl) + 60) * 1000),
      });
    }
    return verdict;
  });
  switch (outcome.kind) {
    case 'refuse':
      switch (outcome.reason) {
        case 'not_found':
          throw invalidGrant('the device_code is not valid');
        case 'other_client':
          throw invalidGrant('the device_code was issued to another client');
        case 'consumed':
          throw invalidGrant('the device_code has already been used');
        case 'expired':
          throw new OAuthError('expired_token', 'the device_code has expired; start the device authorization again');
      }
      break;
    case 'denied':
      throw new OAuthError('access_denied', 'the user denied the request');
    case 'pending':
      throw new OAuthError('authorization_pending', 'the user has not yet approved the request; keep polling at the given interval');
    case 'slow_down':
      throw new OAuthError('slow_down', `polling too fast: wait at least ${outcome.interval} seconds between requests from now on`);
    case 'approved':
      break;
  }
  const code = outcome.code;
  const authTime = Math.floor((code.authTime ?? new Date(now)).getTime() / 1000);
  const response = await userTokenResponse(deps, client, {
    subject: code.userId,
    scopes: code.scopes,
    audiences: code.resources,
    grantId,
    authTime,
    dpopJkt,
  });
  if (refreshTokenAllowed(client, code.scopes)) {
    response.refresh_token = await issueRefreshToken(deps, {
      grantId,
      clientId: client.clientId,
      userId: code.userId,
      scopes: code.scopes,
      resources: code.resources,
      authTime: new Date(authTime * 1000),
      nonce: null,
      dpopJkt: refreshTokenBinding(client, dpopJkt),
    });
  }
  return response;
};

/** The registry entry (grants/registry.ts). */
export const deviceCodeGrant = defineGrant({
  grantType: 'urn:ietf:params:oauth:grant-type:device_code',
  parameters,
  clientAuthentication: 'required',
  clientTypes: ['confidential', 'public'],
  handle: deviceCode,
});
