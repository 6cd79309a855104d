/**
 * What an admin service refuses, in terms both front ends share: the admin API turns each into
 * RFC 9457 problem details (src/admin/api/problem.ts), the console into a message on the page.
 * No HTTP here beyond the status each kind maps to.
 */

/** One field at fault: a JSON Pointer into the request body (RFC 6901), or a query/path parameter's name. */
export interface FieldError {
  pointer?: string;
  field?: string;
  detail: string;
}

export type AdminErrorKind =
  | 'invalid' // the input is wrong (400)
  | 'unauthorized' // no valid token (401)
  | 'forbidden' // a valid token without the right (403)
  | 'not_found' // no such item (404)
  | 'method_not_allowed' // (405)
  | 'conflict' // the item exists already, or the change contradicts its state (409)
  | 'precondition_failed' // If-Match does not match the current ETag (412)
  | 'payload_too_large' // (413)
  | 'unsupported_media_type'; // (415)

export const STATUS_OF: Record<AdminErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
};

export class AdminError extends Error {
  override name = 'AdminError';
  constructor(
    readonly kind: AdminErrorKind,
    readonly detail: string,
    readonly errors: readonly FieldError[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

export const notFound = (what: string, id: string) => new AdminError('not_found', `there is no ${what} "${id}"`);

/** One body field wrong: `pointer` is a JSON Pointer such as "/redirect_uris/0". */
export const invalidField = (pointer: string, detail: string) =>
  new AdminError('invalid', `${pointer.slice(1).replace(/\//g, '.') || 'the body'}: ${detail}`, [{ pointer, detail }]);

/** RFC 6901 §3: "~" and "/" in a member name are escaped. */
export const jsonPointer = (path: readonly PropertyKey[]): string =>
  path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

/** What is read of a zod issue (zod's own, or fastify-type-provider-zod's copy of it). */
export interface IssueLike {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
  keys?: readonly string[];
}

/** A zod error's issues as field errors, each naming its member (an unknown member is named itself). */
export function fieldErrorsOf(issues: readonly IssueLike[], where: 'body' | 'query' | 'params' = 'body'): FieldError[] {
  const flat = issues.flatMap((i): IssueLike[] =>
    i.code === 'unrecognized_keys' && i.keys?.length
      ? i.keys.map((k) => ({ path: [...i.path, k], message: 'unknown field; remove it (a misspelt field is refused, not ignored)' }))
      : [i],
  );
  return flat.map((i) =>
    where === 'body' ? { pointer: jsonPointer(i.path), detail: i.message } : { field: i.path.map(String).join('.'), detail: i.message },
  );
}

/** A zod failure on a request body as one AdminError naming every field. */
export function invalidBody(issues: readonly IssueLike[]): AdminError {
  const errors = fieldErrorsOf(issues);
  const detail = errors.map((e) => `${e.pointer ? e.pointer.slice(1).replace(/\//g, '.') || 'body' : e.field}: ${e.detail}`).join('; ');
  return new AdminError('invalid', detail || 'the request body is not valid', errors);
}
