import type { FastifyPluginCallback } from 'fastify';
import type { Clock } from '../clock.js';
import type { Authenticator } from '../client-auth/index.js';
import type { Metrics } from '../observability/metrics.js';
import { ENDPOINT_PATHS } from './paths.js';
import { findGrant, type GrantTable } from '../grants/index.js';
import { clientTypeOf } from '../grants/types.js';
import { parseParams } from '../oauth/params.js';
import { arrivalMark } from '../grants/recent-rotations.js';
import type { GrantDeps } from '../grants/types.js';
import { invalidRequest, OAuthError, unauthorizedClient } from '../oauth/errors.js';
import { clientAuthInput, formParams, NO_STORE, type FormRoute } from './form.js';
import type { DpopVerifier } from './dpop.js';

export interface TokenEndpointOptions {
  clock: Clock;
  authenticator: Authenticator;
  metrics: Pick<Metrics, 'tokensIssued'>;
  /** The grant registry (grants/index.ts): dispatch goes by it alone. */
  grants: GrantTable;
  /** What the grants need, built once by the composition root. */
  grantDeps: GrantDeps;
  /** DPoP proofs (RFC 9449): the token endpoint's URL as clients address it, and the verifier. */
  dpop: { url: string; verifier: DpopVerifier };
}

/**
 * RFC 6749 §3.2. Data flows one way: find the grant in the registry → authenticate the client →
 * check the client may use it → parse the grant's parameters with its schema → its handler → respond. Token responses are never cached (RFC 6749 §5.1, docs/security.md item 17).
 */
export const tokenEndpoint: FastifyPluginCallback<TokenEndpointOptions> = (app, ctx, done) => {
  app.post<FormRoute>(ENDPOINT_PATHS.token, async (req, reply) => {
    // When the server began routing this request (Fastify starts reply.elapsedTime then, before the
    // body is read), on this process's monotonic clock: the refresh grant orders it against rotations.
    const arrival = arrivalMark() - reply.elapsedTime;
    const params = formParams(req);
    const grantType = params.grant_type;
    if (Array.isArray(grantType)) throw invalidRequest('the "grant_type" parameter is repeated; send it once');
    if (!grantType) throw invalidRequest('the "grant_type" parameter is required (e.g. grant_type=client_credentials)');
    const grant = findGrant(ctx.grants, grantType);
    const { client } = await ctx.authenticator.authenticate(clientAuthInput(req, params));
    if (!(client.metadata.grant_types as string[]).includes(grantType)) {
      throw unauthorizedClient(
        `client "${client.clientId}" is not allowed the ${grantType} grant; its grant_types are: ${client.metadata.grant_types.join(', ')}`,
      );
    }
    // Registration already refuses these pairs; checked again in case the registry changed since.
    if (!grant.clientTypes.includes(clientTypeOf(client))) {
      throw unauthorizedClient(`the ${grantType} grant needs an authenticated client; "${client.clientId}" is a public client`);
    }
    const parsed = parseParams(grant.parameters, params);
    // RFC 9449 §5: a valid proof binds what is issued to its key; the grant decides how.
    const proof = await ctx.dpop.verifier.verify(req, ctx.dpop.url, 'token');
    if (proof) reply.headers(ctx.dpop.verifier.responseHeaders());
    if (!proof && client.metadata.dpop_bound_access_tokens) {
      throw new OAuthError(
        'invalid_dpop_proof',
        `client "${client.clientId}" is registered with dpop_bound_access_tokens: send a DPoP proof with every token request (RFC 9449 §5.2)`,
      );
    }
    const response = await grant.handle(
      { client, params: parsed, arrival, ip: req.ip, ...(proof ? { dpopJkt: proof.jkt } : {}) },
      ctx.grantDeps,
    );
    ctx.metrics.tokensIssued.inc({ grant_type: grantType });
    return reply.headers(NO_STORE).send(response);
  });
  done();
};
