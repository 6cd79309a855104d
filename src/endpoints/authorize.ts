import type { FormParams } from '../domain/form.js';
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import { isFormUrlEncoded } from './content-type.js';
import { ENDPOINT_PATHS } from './paths.js';
import type { FormRoute } from './form.js';
import { AuthorizationPageError, checkClientAndRedirect, validateAuthorizationRequest } from '../interaction/authorization-request.js';
import { continueAuthorization } from '../interaction/flow.js';
import { browserErrorHandler } from './browser-errors.js';
import { resolveIndirectRequest } from './pushed-request.js';
import type { InteractionDeps } from '../interaction/deps.js';

/** GET parameters come from the query; POST from a form body (OIDC Core §3.1.2.1). */
function authorizationParams(req: FastifyRequest<FormRoute>): FormParams {
  if (req.method === 'GET' || req.method === 'HEAD') return req.query ?? {};
  const type = req.headers['content-type'] ?? '';
  if (!isFormUrlEncoded(type)) {
    throw new AuthorizationPageError(
      'Invalid request',
      'The authorization request must be sent as a form (application/x-www-form-urlencoded).',
      415,
    );
  }
  return req.body ?? {};
}

export type AuthorizeEndpointOptions = InteractionDeps;

/**
 * RFC 6749 §3.1 / OIDC Core §3.1.2. Validation order (RFC 9700 §4.11): client_id and
 * redirect_uri first — failures are an HTML page and never a redirect — then everything else,
 * as an error response to the now-trusted redirect URI carrying `state` and `iss`.
 */
export const authorizeEndpoint: FastifyPluginCallback<AuthorizeEndpointOptions> = (app, ctx, done) => {
  browserErrorHandler(app, ctx);
  const handler = async (req: FastifyRequest<FormRoute>, reply: Parameters<typeof continueAuthorization>[2]) => {
    const params = authorizationParams(req);
    const clientId = typeof params.client_id === 'string' ? params.client_id : undefined;
    const found = clientId && clientId.length <= 255 ? await ctx.registry.client(clientId) : undefined;
    // RFC 9126 / RFC 9101: a request_uri from /par or a signed request object stands for the
    // parameters; only they are validated (outer ones other than client_id are ignored).
    const resolved = await resolveIndirectRequest(
      { requestObjects: ctx.requestObjects, pushedRequests: ctx.repos.pushedRequests, now: () => ctx.clock.now() },
      params,
      found,
    );
    const { client, redirectUri } = checkClientAndRedirect(resolved.params, found);
    const request = validateAuthorizationRequest(
      resolved.params,
      client,
      redirectUri,
      await ctx.registry.resourceMap(),
      ctx.config.pkceRequired,
      { pushed: resolved.pushed, signed: resolved.signed, requirePar: ctx.config.requirePar },
    );
    return continueAuthorization(ctx, req, reply, client, request);
  };
  app.get<FormRoute>(ENDPOINT_PATHS.authorization, handler);
  app.post<FormRoute>(ENDPOINT_PATHS.authorization, handler);
  done();
};
