import type { FastifyPluginCallback } from 'fastify';
import type { Config } from '../config.js';
import type { Clock } from '../clock.js';
import type { Authenticator } from '../client-auth/index.js';
import type { Registry } from '../clients/registry.js';
import type { FormParams } from '../domain/form.js';
import type { Repositories } from '../store/repositories/index.js';
import { endpointUrl, ENDPOINT_PATHS } from './paths.js';
import { clientAuthInput, formParams, NO_STORE, type FormRoute } from './form.js';
import { validateAuthorizationRequest } from '../interaction/authorization-request.js';
import { matchRedirectUri } from '../oauth/redirect-uri.js';
import { invalidRequest, OAuthError } from '../oauth/errors.js';
import { hashToken, newOpaqueToken } from '../tokens/opaque.js';
import { verifyRequestObject, type RequestObjectDeps } from '../trust/request-object.js';
import { FailureLimiter } from '../limits/failure-limiter.js';
import { pendingRequestBuckets } from '../limits/pending-requests.js';
import { PAR_REQUEST_URI_PREFIX } from './pushed-request.js';

/** Client authentication parameters: they authenticate the push and are not part of the request (RFC 9126 §2.1). */
const AUTH_PARAMS = ['client_secret', 'client_assertion', 'client_assertion_type'];

export interface ParEndpointOptions {
  config: Pick<
    Config,
    'issuer' | 'parTtl' | 'pkceRequired' | 'authorizationRequestLimitIp' | 'authorizationRequestLimitClient' | 'authorizationRequestWindow'
  >;
  clock: Clock;
  authenticator: Authenticator;
  registry: Pick<Registry, 'resourceMap'>;
  repos: Pick<Repositories, 'pushedRequests' | 'rateLimits'>;
  requestObjects: RequestObjectDeps;
}

/**
 * RFC 9126 pushed authorization requests. The client authenticates exactly as at /token (the one
 * authenticator; a client assertion may also name this endpoint's URL as `aud`, §2), the request
 * — its parameters, or those of the signed request object in `request` (§3, RFC 9101) — is
 * validated in full now, so errors come back as JSON (§2.3), and it is stored bound to the
 * client under the hash of a random request_uri good for PAR_TTL seconds and one use (§2.2, §4).
 */
export const parEndpoint: FastifyPluginCallback<ParEndpointOptions> = (app, ctx, done) => {
  const limiter = new FailureLimiter(ctx.repos.rateLimits, ctx.clock, ctx.config.authorizationRequestWindow);
  const url = endpointUrl(ctx.config.issuer, 'pushedAuthorizationRequest');
  app.post<FormRoute>(ENDPOINT_PATHS.pushedAuthorizationRequest, async (req, reply) => {
    const params = formParams(req);
    const { client } = await ctx.authenticator.authenticate({ ...clientAuthInput(req, params), endpointUrl: url });
    if (params.request_uri !== undefined) {
      throw invalidRequest('the "request_uri" parameter cannot be pushed (RFC 9126 §2.1); send the authorization parameters themselves');
    }
    const now = ctx.clock.now();
    let effective: FormParams;
    let signed = false;
    if (params.request !== undefined) {
      if (Array.isArray(params.request)) throw invalidRequest('the "request" parameter is repeated; send it once');
      effective = await verifyRequestObject(ctx.requestObjects, client, params.request, now);
      signed = true;
    } else {
      effective = Object.create(null) as FormParams;
      for (const [name, value] of Object.entries(params)) if (!AUTH_PARAMS.includes(name)) effective[name] = value;
    }
    effective.client_id = client.clientId;

    // Without a browser to show a page to, a bad redirect_uri is an error answered here.
    const redirectUri = effective.redirect_uri;
    if (Array.isArray(redirectUri)) throw invalidRequest('the "redirect_uri" parameter is repeated; send it once');
    if (!redirectUri) throw invalidRequest('the "redirect_uri" parameter is required');
    if (!matchRedirectUri(client.metadata.redirect_uris, redirectUri)) {
      throw invalidRequest(`redirect_uri is not registered for client "${client.clientId}"`);
    }
    validateAuthorizationRequest(effective, client, redirectUri, await ctx.registry.resourceMap(), ctx.config.pkceRequired, {
      pushed: true,
      signed,
      requirePar: false,
    });

    // Rows anyone with a public client_id can make us store: bounded per address and per client.
    const reservation = await limiter.reserve(pendingRequestBuckets(ctx.config, 'par', client.clientId, req.ip));
    if (!reservation.ok) {
      throw new OAuthError(
        'temporarily_unavailable',
        `too many pushed authorization requests from this address or for this client; retry after ${reservation.retryAfterSeconds} seconds`,
        { status: 429, headers: { 'retry-after': String(reservation.retryAfterSeconds) } },
      );
    }
    const secret = newOpaqueToken();
    await ctx.repos.pushedRequests.create(
      hashToken(secret),
      { clientId: client.clientId, params: effective, signed },
      new Date(now + ctx.config.parTtl * 1000),
    );
    return reply
      .code(201)
      .headers(NO_STORE)
      .send({ request_uri: `${PAR_REQUEST_URI_PREFIX}${secret}`, expires_in: ctx.config.parTtl });
  });
  done();
};
