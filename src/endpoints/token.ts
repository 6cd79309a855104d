import type { FastifyInstance } from 'fastify';
import { ENDPOINT_PATHS, type AppContext } from '../app.js';
import { grantHandler } from '../grants/index.js';
import type { GrantDeps } from '../grants/types.js';
import { trustDeps } from '../trust/deps.js';
import { invalidRequest, unauthorizedClient } from '../oauth/errors.js';
import { clientAuthInput, formParams, NO_STORE } from './form.js';

/**
 * RFC 6749 §3.2. Data flows one way: parse → authenticate the client → the grant's handler →
 * respond. Token responses are never cached (RFC 6749 §5.1, SECURITY.md item 17).
 */
export function tokenEndpoint(ctx: AppContext) {
  const deps: GrantDeps = {
    clock: ctx.clock,
    issuer: ctx.config.issuer,
    keystore: ctx.keystore,
    registry: ctx.registry,
    accessTokenTtl: ctx.config.accessTokenTtl,
    accessTokenSigningAlg: ctx.config.accessTokenSigningAlg,
    idTokenTtl: ctx.config.idTokenTtl,
    userinfoUrl: `${ctx.config.issuer}${ENDPOINT_PATHS.userinfo}`,
    codes: ctx.repos.codes,
    grants: ctx.repos.grants,
    refreshTokens: ctx.repos.refreshTokens,
    refreshTokenIdleTtl: ctx.config.refreshTokenIdleTtl,
    refreshTokenAbsoluteTtl: ctx.config.refreshTokenAbsoluteTtl,
    refreshTokenRotation: ctx.config.refreshTokenRotation,
    refreshTokenGrace: ctx.config.refreshTokenGrace,
    deviceCodes: ctx.repos.deviceCodes,
    trust: trustDeps(ctx),
  };
  return (app: FastifyInstance) => {
    app.post(ENDPOINT_PATHS.token, async (req, reply) => {
      const receivedAt = ctx.clock.now();
      const params = formParams(req);
      const grantType = params.grant_type;
      if (Array.isArray(grantType)) throw invalidRequest('the "grant_type" parameter is repeated; send it once');
      if (!grantType) throw invalidRequest('the "grant_type" parameter is required (e.g. grant_type=client_credentials)');
      const handler = grantHandler(grantType);
      const { client } = await ctx.authenticator.authenticate(clientAuthInput(req, params));
      if (!(client.metadata.grant_types as string[]).includes(grantType)) {
        throw unauthorizedClient(
          `client "${client.clientId}" is not allowed the ${grantType} grant; its grant_types are: ${client.metadata.grant_types.join(', ')}`,
        );
      }
      const response = await handler({ client, params, receivedAt }, deps);
      ctx.metrics.tokensIssued.inc({ grant_type: grantType });
      return reply.headers(NO_STORE).send(response);
    });
  };
}
