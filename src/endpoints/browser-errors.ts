import type { FastifyError, FastifyInstance } from 'fastify';
import type { InteractionDeps } from '../interaction/deps.js';
import { AuthorizationPageError, AuthorizationRedirectError } from '../interaction/authorization-request.js';
import { sendAuthorizationResponse } from '../interaction/authorization-response.js';
import { renderErrorPage } from '../interaction/pages.js';
import { OAuthError } from '../oauth/errors.js';
import { FormTooLargeError, NulCharacterError } from '../oauth/form.js';
import { isDatabaseUnavailable } from '../store/db.js';

/**
 * Browser endpoints answer errors a person can read: an HTML page, or — once the redirect URI is
 * known good — an error response to the client. Never JSON, never a stack trace.
 */
export function browserErrorHandler(app: FastifyInstance, ctx: InteractionDeps): void {
  app.setErrorHandler(async (error: FastifyError | Error, req, reply) => {
    if (error instanceof AuthorizationRedirectError) {
      ctx.metrics.errors.inc({ error: error.code });
      return sendAuthorizationResponse(reply, ctx.config.issuer, error.target, { error: error.code, error_description: error.description });
    }
    if (error instanceof AuthorizationPageError) {
      return renderErrorPage(reply, error.status, error.title, error.message, req.id);
    }
    if (error instanceof OAuthError) {
      return renderErrorPage(reply, error.status, 'Request refused', error.description, req.id);
    }
    if (error instanceof FormTooLargeError)
      return renderErrorPage(reply, 413, 'Request too large', 'The form sent had too many fields.', req.id);
    if (error instanceof NulCharacterError)
      return renderErrorPage(reply, 400, 'Invalid request', 'The request contained characters that are not allowed.', req.id);
    const fe = error as FastifyError;
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return renderErrorPage(reply, 413, 'Request too large', 'The form sent was too large.', req.id);
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return renderErrorPage(reply, 415, 'Unsupported request', 'The form was sent in a format this page does not accept.', req.id);
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return renderErrorPage(reply, fe.statusCode, 'Bad request', 'The request could not be read.', req.id);
    }
    if (isDatabaseUnavailable(error)) {
      req.log.error({ err: error }, 'database unavailable');
      reply.header('retry-after', '5');
      return renderErrorPage(
        reply,
        503,
        'Temporarily unavailable',
        'The sign-in service cannot reach its database right now. Please try again in a moment.',
        req.id,
      );
    }
    req.log.error({ err: error }, 'unexpected error');
    return renderErrorPage(
      reply,
      500,
      'Something went wrong',
      'An unexpected error occurred. Please go back to the application and try again.',
      req.id,
    );
  });
}
