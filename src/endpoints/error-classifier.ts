import { errorCodes } from 'fastify';
import { AuthorizationPageError } from '../interaction/authorization-request.js';
import { OAuthError } from '../oauth/errors.js';
import { FormTooLargeError, NulCharacterError } from '../oauth/form.js';
import { isDatabaseUnavailable } from '../store/db.js';

/** How an error is answered: the OAuth error (API endpoints) and the page (browser endpoints). */
export interface ClassifiedError {
  /** The JSON answer of an API endpoint (RFC 6749 §5.2). */
  oauth: OAuthError;
  /** The page a person sees on a browser endpoint. */
  page: { status: number; title: string; message: string; headers: Record<string, string> };
  /** How the server logs it: a fault to look at, or nothing (a refused request is not a fault). */
  log: 'error' | 'none';
  /** The log message of a fault. */
  logMessage?: string;
}

const page = (status: number, title: string, message: string, headers: Record<string, string> = {}) => ({
  status,
  title,
  message,
  headers,
});

/**
 * The one classifier of errors (issue 12 item 4): API endpoints answer its `oauth`, browser
 * endpoints its `page`. Fastify's own errors are recognised by class (its exported errorCodes),
 * never by comparing strings. Anything unknown is a server_error whose details only the log sees.
 */
export function classifyError(error: unknown, opts: { bodyLimit: number; requestId: string }): ClassifiedError {
  if (error instanceof OAuthError) {
    return { oauth: error, page: page(error.status, 'Request refused', error.description, error.headers), log: 'none' };
  }
  if (error instanceof AuthorizationPageError) {
    return {
      oauth: new OAuthError('invalid_request', error.message, { status: error.status }),
      page: page(error.status, error.title, error.message),
      log: 'none',
    };
  }
  if (error instanceof FormTooLargeError) {
    return {
      oauth: new OAuthError('invalid_request', error.message, { status: 413 }),
      page: page(413, 'Request too large', 'The form sent had too many fields.'),
      log: 'none',
    };
  }
  if (error instanceof NulCharacterError) {
    return {
      oauth: new OAuthError('invalid_request', error.message),
      page: page(400, 'Invalid request', 'The request contained characters that are not allowed.'),
      log: 'none',
    };
  }
  if (error instanceof errorCodes.FST_ERR_CTP_BODY_TOO_LARGE) {
    return {
      oauth: new OAuthError('invalid_request', `the request body is larger than ${opts.bodyLimit} bytes`, { status: 413 }),
      page: page(413, 'Request too large', 'The form sent was too large.'),
      log: 'none',
    };
  }
  if (error instanceof errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE) {
    return {
      // The Content-Type sent is not repeated back (RFC 6749 §5.2: the description is ours).
      oauth: new OAuthError('invalid_request', 'this content type is not accepted; send application/x-www-form-urlencoded', {
        status: 415,
      }),
      page: page(415, 'Unsupported request', 'The form was sent in a format this page does not accept.'),
      log: 'none',
    };
  }
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return {
      oauth: new OAuthError('invalid_request', 'the request could not be read', {
        status,
        detail: error instanceof Error ? error.message : String(error),
      }),
      page: page(status, 'Bad request', 'The request could not be read.'),
      log: 'none',
    };
  }
  if (isDatabaseUnavailable(error)) {
    const headers = { 'retry-after': '5' };
    return {
      oauth: new OAuthError('temporarily_unavailable', 'the server cannot reach its database right now; retry shortly', {
        status: 503,
        headers,
      }),
      page: page(
        503,
        'Temporarily unavailable',
        'The sign-in service cannot reach its database right now. Please try again in a moment.',
        headers,
      ),
      log: 'error',
      logMessage: 'database unavailable',
    };
  }
  return {
    oauth: new OAuthError('server_error', `an unexpected error occurred; quote request id ${opts.requestId} to the operator`),
    page: page(500, 'Something went wrong', 'An unexpected error occurred. Please go back to the application and try again.'),
    log: 'error',
    logMessage: 'unexpected error',
  };
}
