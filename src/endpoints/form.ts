import type { FormParams } from '../domain/form.js';
import type { FastifyRequest } from 'fastify';
import { isFormUrlEncoded } from './content-type.js';
import { OAuthError } from '../oauth/errors.js';

/**
 * Fastify route generics for endpoints that read parameters: @fastify/formbody parses a form body
 * into FormParams (src/oauth/form.ts), and the query string parses to the same shape. Either may be
 * absent (a POST without a body), hence `| undefined`.
 */
export interface FormRoute {
  Body: FormParams | undefined;
  Querystring: FormParams | undefined;
}

/**
 * The form body of an API POST (RFC 6749 §3.2, RFC 7662 §2.1, RFC 7009 §2.1 all require
 * application/x-www-form-urlencoded). Parameters in the query string are not read: credentials
 * and tokens never travel in a URL (docs/security.md item 21).
 */
export function formParams(req: FastifyRequest<FormRoute>): FormParams {
  const type = req.headers['content-type'];
  if (!isFormUrlEncoded(type)) {
    throw new OAuthError(
      'invalid_request',
      `send the parameters as application/x-www-form-urlencoded (got ${type ? 'another Content-Type' : 'no Content-Type'})`,
      { status: type ? 415 : 400 },
    );
  }
  return req.body ?? (Object.create(null) as FormParams);
}

/** What client authentication needs from a request. */
export function clientAuthInput(req: FastifyRequest, params: FormParams) {
  return { authorization: req.headers.authorization, params, ip: req.ip };
}

export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;
