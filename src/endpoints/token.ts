import type { FastifyInstance } from 'fastify';
import { ENDPOINT_PATHS, type AppContext } from '../app.js';
import { grantHandler } from '../grants/index.js';
import type { GrantDeps } from '../grants/types.js';
import { arrivalMark, RecentRotations } from '../grants/recent-rotations.js';
import { transactionOn } from '../store/transaction.js';
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
    transaction: transactionOn(ctx.db),
    recentRotations: new RecentRotations(),
    events: ctx.events,
    trust: trustDeps(ctx),
  };
  return (app: FastifyInstance) => {
    app.post(ENDPOINT_PATHS.token, async (req, reply) => {
      // When the server began routing this request (Fastify starts reply.elapsedTime then, before
      // the body is read): requests sent together are counted from when they reached us.
      const arrival = arrivalMark() - reply.elapsedTime;
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
      const response = await handler({ client, params, arrival, ip: req.ip }, deps);
      ctx.metrics.tokensIssued.inc({ grant_type: grantType });
      return reply.headers(NO_STORE).send(response);
    });
  };
}
