/**
 * The one CSRF defence of every form page: login, consent, device code entry, logout
 * confirmation (RFC 6749 §10.12; OWASP "signed double-submit cookie", HMAC variant).
 *
 * A form's token is HMAC-SHA256, under the server's CSRF key (derived from LATCHKEY_SECRET, so
 * every process agrees), of the browser cookie and what the form is for. Nothing is stored: the
 * browser cookie is 256 random bits, HttpOnly and SameSite=Lax, so a cross-site page can neither
 * read it nor compute the token, and a token taken from one form or one browser is worth nothing
 * on another. Every POST handler calls checkCsrf before acting; the comparison is timing-safe.
 * (No Origin check on top: the pages send Referrer-Policy: no-referrer, under which browsers
 * send `Origin: null` even on same-origin form posts.)
 */
import { createHmac } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { InteractionDeps } from './deps.js';
import { AuthorizationPageError } from './authorization-request.js';
import { readBrowserId, safeEqual } from './session.js';

/** What a form is for: its token is valid for that form only. */
export type CsrfPurpose = `interaction:${string}` | 'device' | 'end-session' | 'console' | 'account';

/** The token for `purpose` in the browser holding the browser cookie `browser`. */
export function csrfToken(ctx: Pick<InteractionDeps, 'secrets'>, browser: string, purpose: CsrfPurpose): string {
  return createHmac('sha256', ctx.secrets.csrfKey).update(`latchkey csrf v2\0${purpose}\0${browser}`).digest('base64url');
}

/** The refusal: a page a person can read, never a redirect (the request may not be theirs). */
export const CSRF_REFUSED = (): AuthorizationPageError =>
  new AuthorizationPageError(
    'This form has expired',
    'The form was not sent from this site, or it has expired. Go back, reload the page and try again.',
    403,
  );

/** Throws CSRF_REFUSED unless `submitted` is the token for `purpose` in this request's browser. */
export function checkCsrf(
  ctx: Pick<InteractionDeps, 'secrets' | 'config'>,
  req: FastifyRequest,
  submitted: unknown,
  purpose: CsrfPurpose,
): void {
  const browser = readBrowserId(ctx, req);
  if (!browser || typeof submitted !== 'string' || !safeEqual(submitted, csrfToken(ctx, browser, purpose))) throw CSRF_REFUSED();
}
