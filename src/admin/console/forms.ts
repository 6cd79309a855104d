/**
 * What the console's keys, resources and trusted-issuer pages share: reading urlencoded form
 * fields, pinning a service's refusal to the form field it is about, the Post/Redirect/Get
 * confirmation, and turning an edited document into the merge patch the services take.
 */
import type { FastifyReply } from 'fastify';
import type { AdminError } from '../services/errors.js';

export type Form = Record<string, string | string[] | undefined>;

/** One field's text (the first if repeated), at most `max` characters. */
export const field = (f: Form, name: string, max = 20_000): string => {
  const v = f[name];
  const s = Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
  return s.slice(0, max);
};

/** One entry a line (or separated by spaces or commas), empty ones dropped. */
export const entries = (s: string): string[] =>
  s
    .split(/[\s,]+/)
    .map((l) => l.trim())
    .filter(Boolean);

/** Field name → its error messages, joined. */
export type FieldErrors = Record<string, string>;

export const addError = (errors: FieldErrors, name: string, message: string) => {
  errors[name] = errors[name] ? `${errors[name]} ${message}` : message;
};

/**
 * A service's refusal as errors next to the fields: each JSON Pointer's first member is mapped by
 * `fieldOf` (unknown ones, and a refusal naming no field, go to `fallback`).
 */
export function errorsOf(err: AdminError, fieldOf: (member: string) => string | undefined, fallback: string): FieldErrors {
  const errors: FieldErrors = {};
  if (!err.errors.length) addError(errors, fallback, err.detail);
  for (const e of err.errors) {
    const member = (e.pointer ?? '').split('/')[1] ?? '';
    addError(errors, fieldOf(member) ?? fallback, e.detail);
  }
  return errors;
}

/** Post/Redirect/Get: 303 to `path` with a `done` code the page turns into its confirmation. */
export function doneRedirect(reply: FastifyReply, path: string, done: string, params: Record<string, string> = {}) {
  const q = new URLSearchParams({ done, ...params }).toString();
  return reply.code(303).header('location', `${path}?${q}`).header('cache-control', 'no-store').send();
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The JSON merge patch (RFC 7396) that turns `before` into `after`: members `after` lacks become
 * null (removed), objects present in both are patched member by member (a merge patch merges
 * them, so a member dropped inside one must be nulled too), everything else is replaced.
 */
export function replacementPatch(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const k of Object.keys(before)) if (!(k in after)) patch[k] = null;
  for (const [k, v] of Object.entries(after)) {
    const old = before[k];
    patch[k] = isPlainObject(old) && isPlainObject(v) ? replacementPatch(old, v) : v;
  }
  return patch;
}
