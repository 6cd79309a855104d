import type { FormParams } from '../domain/form.js';
import type { ClientRecord } from '../domain/client.js';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { isFormUrlEncoded } from './content-type.js';
import { ENDPOINT_PATHS } from './paths.js';
import type { FormRoute } from './form.js';
import { AuthorizationPageError } from '../interaction/authorization-request.js';
import { idTokenHintSubjectAndClient } from '../interaction/flow.js';
import { renderErrorPage, renderPage } from '../interaction/pages.js';
import { checkCsrf, CSRF_REFUSED, csrfToken } from '../interaction/csrf.js';
import { browserId, currentSession, endSession } from '../interaction/session.js';
import { browserErrorHandler } from './browser-errors.js';
import type { InteractionDeps } from '../interaction/deps.js';

const PARAMS = [
  'id_token_hint',
  'client_id',
  'post_logout_redirect_uri',
  'state',
  'logout_hint',
  'ui_locales',
  'csrf',
  'decision',
] as const;

function readParams(req: FastifyRequest<FormRoute>): Partial<Record<(typeof PARAMS)[number], string>> {
  let raw: FormParams;
  if (req.method === 'GET' || req.method === 'HEAD') raw = req.query ?? {};
  else {
    if (!isFormUrlEncoded(req.headers['content-type'])) {
      throw new AuthorizationPageError('Invalid request', 'The sign-out request must be sent as a form.', 415);
    }
    raw = req.body ?? {};
  }
  const out: Partial<Record<(typeof PARAMS)[number], string>> = {};
  for (const name of PARAMS) {
    const v = raw[name];
    if (Array.isArray(v)) throw new AuthorizationPageError('Invalid request', `The ${name} parameter is repeated.`);
    if (v !== undefined && v.length > 8192) throw new AuthorizationPageError('Invalid request', `The ${name} parameter is too long.`);
    if (v !== undefined && v !== '') out[name] = v;
  }
  return out;
}

export type EndSessionEndpointOptions = InteractionDeps;

/**
 * OIDC RP-Initiated Logout 1.0. The session ends at once when the request proves it comes from
 * the signed-in user's relying party (a valid id_token_hint for that user); otherwise the person
 * confirms on a page, so a cross-site link cannot sign anyone out. A post_logout_redirect_uri
 * must match one the client registered, exactly.
 */
export const endSessionEndpoint: FastifyPluginCallback<EndSessionEndpointOptions> = (app, ctx, done) => {
  async function handler(req: FastifyRequest<FormRoute>, reply: FastifyReply<FormRoute>) {
    const p = readParams(req);
    let hint: { sub: string; clientId: string } | undefined;
    if (p.id_token_hint) {
      hint = await idTokenHintSubjectAndClient(ctx, p.id_token_hint);
      if (!hint) throw new AuthorizationPageError('Invalid sign-out request', 'The id_token_hint was not issued by this server.');
    }
    if (hint && p.client_id && p.client_id !== hint.clientId) {
      throw new AuthorizationPageError('Invalid sign-out request', 'client_id does not match the id_token_hint.');
    }
    const clientId = p.client_id ?? hint?.clientId;
    let client: ClientRecord | undefined;
    if (clientId) {
      client = await ctx.registry.client(clientId);
      if (!client) throw new AuthorizationPageError('Unknown application', 'No application is registered with this client_id.');
    }
    let redirect: string | undefined;
    if (p.post_logout_redirect_uri) {
      if (!client)
        throw new AuthorizationPageError(
          'Invalid sign-out request',
          'post_logout_redirect_uri needs client_id or id_token_hint to say which application it belongs to.',
        );
      if (!client.metadata.post_logout_redirect_uris.includes(p.post_logout_redirect_uri)) {
        throw new AuthorizationPageError(
          'Invalid sign-out request',
          `The post_logout_redirect_uri is not registered for ${client.metadata.client_name ?? client.clientId}; you are not being sent there.`,
        );
      }
      redirect = p.post_logout_redirect_uri;
    }
    const clientName = client ? (client.metadata.client_name ?? client.clientId) : undefined;

    const done = async () => {
      await endSession(ctx, req, reply);
      if (redirect) {
        const url = new URL(redirect);
        if (p.state) url.searchParams.append('state', p.state);
        return reply.code(303).header('location', url.toString()).header('cache-control', 'no-store').send();
      }
      return renderPage(reply, 'signed-out', clientName ? { clientName } : {});
    };

    const current = await currentSession(ctx, req);
    if (!current) return done(); // nobody is signed in here: nothing to confirm
    if (p.decision !== undefined) {
      if (req.method !== 'POST') throw CSRF_REFUSED();
      checkCsrf(ctx, req, p.csrf, 'end-session');
      if (p.decision === 'logout') return done();
      return renderErrorPage(reply, 200, 'You are still signed in', 'You chose to stay signed in. You can close this page.');
    }
    if (hint && hint.sub === current.session.userId) return done();
    const hidden = (['client_id', 'post_logout_redirect_uri', 'state'] as const).flatMap((n) => {
      const value = n === 'client_id' ? clientId : p[n];
      return value === undefined ? [] : [{ name: n, value }];
    });
    return renderPage(reply, 'end-session', {
      action: ENDPOINT_PATHS.endSession,
      csrf: csrfToken(ctx, browserId(ctx, req, reply), 'end-session'),
      ...(clientName ? { clientName } : {}),
      hidden,
    });
  }

  browserErrorHandler(app, ctx);
  app.get<FormRoute>(ENDPOINT_PATHS.endSession, handler);
  app.post<FormRoute>(ENDPOINT_PATHS.endSession, handler);
  done();
};
