import type { FastifyPluginCallback } from 'fastify';
import { z } from 'zod';
import { ENDPOINT_PATHS } from './paths.js';
import { formatUserCode, newUserCode } from '../device/user-code.js';
import { OAuthError, unauthorizedClient } from '../oauth/errors.js';
import { parseParams, repeatable } from '../oauth/params.js';
import { requestedScopes } from '../oauth/requested-scopes.js';
import { hashToken, newOpaqueToken } from '../tokens/opaque.js';
import { clientAuthInput, formParams, NO_STORE, type FormRoute } from './form.js';
import type { Config } from '../config.js';
import type { Clock } from '../clock.js';
import type { Authenticator } from '../client-auth/index.js';
import type { Registry } from '../clients/registry.js';
import type { Repositories } from '../store/repositories/index.js';
import { FailureLimiter } from '../limits/failure-limiter.js';
import { pendingRequestBuckets } from '../limits/pending-requests.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const parameters = z.object({ scope: z.string().optional(), resource: repeatable });

export interface DeviceAuthorizationEndpointOptions {
  config: Pick<
    Config,
    | 'issuer'
    | 'deviceCodeInterval'
    | 'deviceCodeTtl'
    | 'authorizationRequestLimitIp'
    | 'authorizationRequestLimitClient'
    | 'authorizationRequestWindow'
  >;
  clock: Clock;
  authenticator: Authenticator;
  registry: Pick<Registry, 'resourceMap'>;
  repos: Pick<Repositories, 'deviceCodes' | 'rateLimits'>;
}

/**
 * RFC 8628 §3.1–3.2: confidential clients authenticate, public clients send client_id. The
 * device code is 256 random bits stored as a hash; the user code is unique among live codes.
 */
export const deviceAuthorizationEndpoint: FastifyPluginCallback<DeviceAuthorizationEndpointOptions> = (app, ctx, done) => {
  const limiter = new FailureLimiter(ctx.repos.rateLimits, ctx.clock, ctx.config.authorizationRequestWindow);
  app.post<FormRoute>(ENDPOINT_PATHS.deviceAuthorization, async (req, reply) => {
    const params = formParams(req);
    const { client } = await ctx.authenticator.authenticate(clientAuthInput(req, params));
    if (!client.metadata.grant_types.includes(DEVICE_GRANT)) {
      throw unauthorizedClient(`client "${client.clientId}" is not allowed the device authorization grant (${DEVICE_GRANT})`);
    }
    const p = parseParams(parameters, params);
    const { scopes, audiences } = requestedScopes(client, p.scope, p.resource, await ctx.registry.resourceMap());
    // Device codes are rows anyone with a public client_id can make us store: bounded per address
    // and per client; past it, 429 slow_down with Retry-After (RFC 8628 §3.5's word for "too fast").
    const reservation = await limiter.reserve(pendingRequestBuckets(ctx.config, 'device_authorization', client.clientId, req.ip));
    if (!reservation.ok) {
      throw new OAuthError(
        'slow_down',
        `too many device authorization requests from this address or for this client; retry after ${reservation.retryAfterSeconds} seconds`,
        { status: 429, headers: { 'retry-after': String(reservation.retryAfterSeconds) } },
      );
    }
    const now = ctx.clock.now();
    const deviceCode = newOpaqueToken();
    let userCode: string;
    for (let attempt = 0; ; attempt++) {
      if (attempt === 10) throw new OAuthError('temporarily_unavailable', 'could not allocate a unique user code; retry', { status: 503 });
      userCode = newUserCode();
      const created = await ctx.repos.deviceCodes.create({
        deviceCodeHash: hashToken(deviceCode),
        userCode,
        clientId: client.clientId,
        scopes,
        resources: audiences,
        intervalSeconds: ctx.config.deviceCodeInterval,
        createdAt: new Date(now),
        expiresAt: new Date(now + ctx.config.deviceCodeTtl * 1000),
      });
      if (created) break;
    }
    const verificationUri = `${ctx.config.issuer}${ENDPOINT_PATHS.device}`;
    const shown = formatUserCode(userCode);
    return reply.headers(NO_STORE).send({
      device_code: deviceCode,
      user_code: shown,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${shown}`,
      expires_in: ctx.config.deviceCodeTtl,
      interval: ctx.config.deviceCodeInterval,
    });
  });
  done();
};
