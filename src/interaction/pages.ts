/**
 * Browser-facing pages: Eta templates in views/, one stylesheet at /assets/latchkey.css, and the
 * headers every page carries (docs/security.md item 10).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyView from '@fastify/view';
import { Eta } from 'eta';

/** views/ at the repository root, wherever the process was started from. */
export const VIEWS_DIR = fileURLToPath(new URL('../../views/', import.meta.url));
export const STYLESHEET_PATH = '/assets/latchkey.css';
const STYLESHEET_FILE = fileURLToPath(new URL('../../views/assets/latchkey.css', import.meta.url));

/** Template names (files views/NAME.eta). */
export type PageTemplate =
  | 'login'
  | 'consent'
  | 'error'
  | 'end-session'
  | 'signed-out'
  | 'form-post'
  | 'device'
  | 'device-done'
  | 'otp'
  | 'mfa-required'
  | 'account'
  | 'account-totp';

/** Data each template expects. Every value is HTML-escaped by the templates. */
export interface PageData {
  login: { clientName: string; action: string; csrf: string; loginHint?: string; error?: string };
  consent: {
    clientName: string;
    userName: string;
    /** Scopes about the person (OpenID), not tied to an API. */
    scopes: { name: string; description: string }[];
    /** Each API asked for (RFC 8707 resource), by name, with its scopes. */
    resources?: { name: string; identifier: string; scopes: { name: string; description: string }[] }[];
    action: string;
    csrf: string;
    deviceCode?: string;
  };
  /** status: set by renderErrorPage; below 400 the page is informational (no error styling or advice). */
  error: { title: string; message: string; requestId?: string; status?: number };
  'end-session': { action: string; csrf: string; clientName?: string; hidden: { name: string; value: string }[] };
  'signed-out': { clientName?: string };
  'form-post': { action: string; params: { name: string; value: string }[]; nonce: string };
  device: { action: string; csrf: string; userCode?: string; error?: string };
  'device-done': { clientName: string; approved: boolean };
  otp: { clientName: string; action: string; csrf: string; error?: string };
  'mfa-required': { clientName: string; accountUrl: string };
  account: AccountPageData;
  'account-totp': AccountTotpPageData;
}

/** The account page (src/endpoints/account.ts). */
export interface AccountPageData {
  username: string;
  displayName: string;
  csrf: string;
  /** A sentence at the top after a change (e.g. "Two-step verification is on."). */
  notice?: string;
  error?: string;
  sessions: { current: boolean; signedIn: string; expires: string; secondFactor: boolean }[];
  apps: { clientId: string; name: string; scopes: string[] }[];
  totp: { enabled: boolean; recoveryCodesLeft: number };
  /** Recovery codes, shown once, right after they were made. */
  recoveryCodes?: string[];
}

/** Enrolment: the QR code (inline SVG, made on the server), the otpauth:// URI as text, the confirm form. */
export interface AccountTotpPageData {
  csrf: string;
  qrSvg: string;
  uri: string;
  secret: string;
  error?: string;
}

export interface RenderOptions {
  status?: number;
  /** Allows inline scripts carrying this nonce (the form_post page); otherwise no script runs. */
  scriptNonce?: string;
}

const NONCE = /^[A-Za-z0-9+/_=-]{16,128}$/;

/** The Content-Security-Policy of a page. No form-action: Chrome applies it to the redirect that follows a form POST. */
export function pageCsp(scriptNonce?: string): string {
  const csp = ["default-src 'none'", "style-src 'self'", "img-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"];
  if (scriptNonce !== undefined) {
    if (!NONCE.test(scriptNonce)) throw new Error('script nonce must be 16-128 base64 characters');
    csp.push(`script-src 'nonce-${scriptNonce}'`);
  }
  return csp.join('; ');
}

/** Registers @fastify/view (Eta, views/) and the stylesheet route. Call once per app, before routes that render. */
export async function registerPages(app: FastifyInstance): Promise<void> {
  const eta = new Eta({ views: VIEWS_DIR, autoEscape: true, cache: true });
  await app.register(fastifyView, {
    engine: { eta },
    root: VIEWS_DIR,
    // Compile each template once, except while developing the templates themselves.
    production: process.env.NODE_ENV !== 'development',
  });

  registerFavicon(app);
  const css = readFileSync(STYLESHEET_FILE);
  const etag = `"${createHash('sha256').update(css).digest('base64url').slice(0, 22)}"`;
  app.get(STYLESHEET_PATH, async (req, reply) => {
    reply.headers({
      'content-type': 'text/css; charset=utf-8',
      'cache-control': 'public, max-age=86400',
      etag,
    });
    const inm = req.headers['if-none-match'];
    if (typeof inm === 'string' && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
      return reply.code(304).send();
    }
    return reply.send(css);
  });
}

/** Browsers ask every origin for a favicon; answer with nothing rather than a 404. */
export function registerFavicon(app: FastifyInstance): void {
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).header('cache-control', 'public, max-age=86400').send());
}

/**
 * Page headers. The global ones also come from helmet (src/endpoints/security-headers.ts);
 * a page states them all itself so that it is right wherever it is rendered (also in an app without
 * helmet, as in test/unit/pages.test.ts), and its CSP replaces the API one.
 */
function setPageHeaders(reply: FastifyReply, scriptNonce?: string): void {
  reply.headers({
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': pageCsp(scriptNonce),
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  });
}

/** Last-resort page when a template itself fails: no data, nothing to escape. */
const FALLBACK_HTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Something went wrong · Latchkey</title><link rel="stylesheet" href="${STYLESHEET_PATH}"></head><body><main class="card"><h1>Something went wrong</h1><p>The page could not be shown. Go back to the application and try again.</p></main><footer class="site-footer">Latchkey</footer></body></html>`;

/**
 * Renders views/TEMPLATE.eta inside the layout with the page headers. Resolves once the reply is
 * sent, so a handler can `return renderPage(...)`.
 */
export async function renderPage<T extends PageTemplate>(
  reply: FastifyReply,
  template: T,
  data: PageData[T],
  opts?: RenderOptions,
): Promise<FastifyReply>;
export async function renderPage(reply: FastifyReply, template: string, data: object, opts?: RenderOptions): Promise<FastifyReply>;
export async function renderPage(reply: FastifyReply, template: string, data: object, opts: RenderOptions = {}): Promise<FastifyReply> {
  setPageHeaders(reply, opts.scriptNonce);
  const context = opts.scriptNonce !== undefined && !('nonce' in data) ? { ...data, nonce: opts.scriptNonce } : data;
  let html: string;
  try {
    html = await reply.viewAsync(template, context);
  } catch (err) {
    reply.log.error({ err, template }, 'page template failed');
    setPageHeaders(reply);
    return reply.code(500).send(FALLBACK_HTML);
  }
  return reply.code(opts.status ?? 200).send(html);
}

/** A readable HTML error page (never a stack trace). */
export function renderErrorPage(
  reply: FastifyReply,
  status: number,
  title: string,
  message: string,
  requestId?: string,
): Promise<FastifyReply> {
  return renderPage(reply, 'error', requestId === undefined ? { title, message, status } : { title, message, requestId, status }, {
    status,
  });
}
