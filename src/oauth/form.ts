import type { FormParams } from '../domain/form.js';

/** Most parameters any endpoint takes; more is not a real client. */
const MAX_PARAMS = 200;

export class FormTooLargeError extends Error {
  override name = 'FormTooLargeError';
  /** Stable, for logs and callers (the message may change). */
  readonly code = 'form_too_large';
}

/**
 * Input no protocol needs and PostgreSQL cannot store: a NUL character in a parameter (text and
 * jsonb columns refuse U+0000). Refused at the edge with invalid_request instead.
 */
export class NulCharacterError extends Error {
  /** Stable, for logs and callers (the message may change). */
  readonly code = 'nul_character';
  constructor() {
    super('parameters must not contain NUL characters (%00)');
  }
}

const NUL = '\u0000';

/**
 * application/x-www-form-urlencoded → a null-prototype object; a repeated name becomes an array
 * so that endpoints can refuse repetition (RFC 6749 §3.1) or accept it where an RFC allows.
 */
export function parseForm(body: string): FormParams {
  const out = Object.create(null) as FormParams;
  let n = 0;
  for (const [k, v] of new URLSearchParams(body)) {
    if (++n > MAX_PARAMS) throw new FormTooLargeError(`the form has more than ${MAX_PARAMS} parameters`);
    if (k.includes(NUL) || v.includes(NUL)) throw new NulCharacterError();
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [prev, v];
  }
  return out;
}
