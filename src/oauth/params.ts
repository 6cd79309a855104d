import type { FormParams } from '../domain/form.js';
import { z } from 'zod';
import { invalidRequest } from './errors.js';
import { describeIssues } from './issues.js';

/** Parameters that RFC 8707 (`resource`) and RFC 8693 (`audience`) allow to repeat. */
const REPEATABLE = new Set(['resource', 'audience']);

/**
 * Validates form parameters with a zod schema. A repeated parameter is an error (RFC 6749 §3.1,
 * §3.2) except the repeatable ones, which arrive as arrays; unknown parameters are ignored (and, being
 * request input, never repeated back in an error_description: RFC 6749 §5.2).
 */
export function parseParams<S extends z.ZodType>(schema: S, params: FormParams): z.output<S> {
  const flat: Record<string, string | string[]> = {};
  // Parameters the schema does not declare are ignored, repeated or not, and never named back.
  const known = schema instanceof z.ZodObject ? (schema.shape as Record<string, unknown>) : undefined;
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || (known && !Object.hasOwn(known, k))) continue;
    if (Array.isArray(v) && !REPEATABLE.has(k)) throw invalidRequest(`the "${k}" parameter is repeated; send it once`);
    flat[k] = REPEATABLE.has(k) && !Array.isArray(v) ? [v] : v;
  }
  const r = schema.safeParse(flat);
  if (!r.success) throw invalidRequest(describeIssues(r.error));
  return r.data;
}

/** A required, non-empty string parameter. */
export const required = (name: string) =>
  z
    .string({ error: (i) => (i.input === undefined ? `the "${name}" parameter is required` : `"${name}" must be a string`) })
    .min(1, `the "${name}" parameter must not be empty`);

/** A repeatable parameter, as an array of values. */
export const repeatable = z.array(z.string()).default([]);
