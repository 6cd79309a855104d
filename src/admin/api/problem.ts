import { STATUS_CODES } from 'node:http';
import { errorCodes, type FastifyReply, type FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { classifyError } from '../../endpoints/error-classifier.js';
import { AdminError, STATUS_OF, fieldErrorsOf, type FieldError } from '../services/errors.js';

/**
 * RFC 9457 problem details, the one shape of every admin API error. `type` is "about:blank"
 * (§4.2.1: the status says it all, so `title` is the status phrase); `code` is a stable
 * extension member for programs, `errors` names each field at fault (a JSON Pointer into the
 * body, or a query/path parameter), `instance` the request's path.
 */
export interface Problem {
  type: 'about:blank';
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  errors?: FieldError[];
  request_id: string;
}

export const PROBLEM_JSON = 'application/problem+json; charset=utf-8';

interface Classified {
  status: number;
  code: string;
  detail: string;
  errors: FieldError[];
  headers: Record<string, string>;
  log?: string;
}

const CODE_OF_STATUS: Record<number, string> = Object.fromEntries(Object.entries(STATUS_OF).map(([k, v]) => [v, k]));

function classify(error: unknown, opts: { bodyLimit: number; requestId: string }): Classified {
  if (error instanceof AdminError) {
    return { status: STATUS_OF[error.kind], code: error.kind, detail: error.detail, errors: [...error.errors], headers: error.headers };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext === 'body' ? 'body' : error.validationContext === 'params' ? 'params' : 'query';
    const errors = fieldErrorsOf(
      error.validation.map((v) => ({
        path: v.instancePath.split('/').filter((p) => p !== ''),
        message: v.message ?? 'is not valid',
        code: v.keyword,
        ...(Array.isArray((v.params as { keys?: unknown }).keys) ? { keys: (v.params as { keys: string[] }).keys } : {}),
      })),
      where,
    );
    const detail = errors.map((e) => `${e.pointer !== undefined ? e.pointer || '(body)' : e.field}: ${e.detail}`).join('; ');
    return { status: 400, code: 'invalid', detail, errors, headers: {} };
  }
  if (error instanceof errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE) {
    return {
      status: 415,
      code: 'unsupported_media_type',
      detail: 'send the body as application/json (PATCH also takes application/merge-patch+json)',
      errors: [],
      headers: {},
    };
  }
  if (error instanceof errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY) {
    return { status: 400, code: 'invalid', detail: 'the body is empty; send a JSON object', errors: [], headers: {} };
  }
  if (error instanceof SyntaxError || error instanceof errorCodes.FST_ERR_CTP_INVALID_JSON_BODY) {
    return { status: 400, code: 'invalid', detail: `the body is not valid JSON (${error.message})`, errors: [], headers: {} };
  }
  // Everything else as every other endpoint classifies it (body too large, NUL, database down, bugs).
  const c = classifyError(error, opts);
  return {
    status: c.oauth.status,
    code: CODE_OF_STATUS[c.oauth.status] ?? (c.oauth.status >= 500 ? 'server_error' : 'invalid'),
    detail: c.oauth.description,
    errors: [],
    headers: c.oauth.headers,
    ...(c.log === 'error' ? { log: c.logMessage ?? 'unexpected error' } : {}),
  };
}

/** The problem document for an error (the console shows its `detail` and `errors` too). */
export function problemOf(
  error: unknown,
  req: Pick<FastifyRequest, 'url' | 'id'>,
  bodyLimit: number,
): Problem & { headers: Record<string, string>; log?: string } {
  const c = classify(error, { bodyLimit, requestId: req.id });
  return {
    type: 'about:blank',
    title: STATUS_CODES[c.status] ?? 'Error',
    status: c.status,
    detail: c.detail,
    instance: req.url.split('?', 1)[0] ?? req.url,
    code: c.code,
    ...(c.errors.length ? { errors: c.errors } : {}),
    request_id: req.id,
    headers: c.headers,
    ...(c.log ? { log: c.log } : {}),
  };
}

/** Writes the error as application/problem+json; faults (5xx) are logged with their stack. */
export function sendProblem(req: FastifyRequest, reply: FastifyReply, error: unknown, bodyLimit: number): FastifyReply {
  const { headers, log, ...problem } = problemOf(error, req, bodyLimit);
  if (log) req.log.error({ err: error }, log);
  else if (problem.status >= 500) req.log.error({ err: error }, 'admin API error');
  // The serializer of a route's response schema must not see the problem: send it as a string.
  return reply
    .code(problem.status)
    .headers({ 'cache-control': 'no-store', ...headers })
    .type(PROBLEM_JSON)
    .serializer((p) => JSON.stringify(p))
    .send(problem);
}
