import type { FastifyError, FastifyInstance } from 'fastify';
import type { InteractionDeps } from '../interaction/deps.js';
import { AuthorizationRedirectError } from '../interaction/authorization-request.js';
import { sendAuthorizationResponse } from '../interaction/authorization-response.js';
import { renderErrorPage } from '../interaction/pages.js';
import { requestInputs } from '../oauth/error-description.js';
import { classifyError } from './error-classifier.js';

/**
 * Browser endpoints answer errors a person can read: an HTML page, or — once the redirect URI is
 * known good — an error response to the client. Never JSON, never a stack trace.
 */
export function browserErrorHandler(app: FastifyInstance, ctx: InteractionDeps): void {
  app.setErrorHandler(async (error: FastifyError | Error, req, reply) => {
    if (error instanceof AuthorizationRedirectError) {
      ctx.metrics.errors.inc({ error: error.code });
      // The same serialization as the API's: RFC 6749 §4.1.2.1's error_description, made safe.
      return sendAuthorizationResponse(reply, ctx.config.issuer, error.target, error.toJSON(requestInputs(req.query, req.body)));
    }
    const c = classifyError(error, { bodyLimit: ctx.config.bodyLimit, requestId: req.id });
    if (c.log === 'error') req.log.error({ err: error }, c.logMessage ?? 'unexpected error');
    if (c.oauth.detail !== undefined) req.log.info({ error: c.oauth.code, detail: c.oauth.detail }, 'request refused');
    for (const [name, value] of Object.entries(c.page.headers)) {
      if (name === 'retry-after') reply.header(name, value);
    }
    return renderErrorPage(reply, c.page.status, c.page.title, c.page.message, req.id);
  });
}
