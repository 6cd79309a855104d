/**
 * The admin console's browser state (issue 14 item 7; docs/security.md item 12 for the sign-in
 * pages' cookies, which these follow):
 *
 * - the console session cookie: 256 random bits, stored only as a SHA-256 hash
 *   (console_sessions), HttpOnly, SameSite=Strict (no other site can make a request that carries
 *   it), Secure and `__Host-` prefixed on an https issuer. Separate from the single sign-on
 *   session: it idles out after CONSOLE_IDLE_TIMEOUT and ends at CONSOLE_SESSION_TTL.
 * - the sign-in state cookie, for the few seconds of the authorization code flow: a random
 *   `state` (RFC 6749 §10.12) and where to go afterwards. The PKCE verifier and the nonce are
 *   derived from the state under the server's CSRF key, so they are never stored or sent, and
 *   knowing the state (it is in the URL) does not give them away.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config.js';
import type { ServerSecrets } from '../../keys/secret.js';
import type { ConsoleSessionsRepository } from '../../store/repositories/console-sessions.js';
import { parseCookies, serializeCookie } from '../../interaction/cookies.js';
import { hashToken, newOpaqueToken } from '../../tokens/opaque.js';

export interface ConsoleSessionDeps {
  config: Pick<Config, 'issuer' | 'consoleIdleTimeout' | 'consoleSessionTtl'>;
  clock: Clock;
  secrets: Pick<ServerSecrets, 'csrfKey'>;
  consoleSessions: ConsoleSessionsRepository;
}

export function consoleCookieNames(issuer: string) {
  const secure = issuer.startsWith('https://');
  const prefix = secure ? '__Host-' : '';
  return { secure, session: `${prefix}lk_console`, signIn: `${prefix}lk_console_signin` };
}

/** A live console session: whose it is, and the cookie value (its forms' CSRF tokens derive from it). */
export interface ConsoleSession {
  userId: string;
  cookie: string;
}

const COOKIE = /^[\w-]{43}$/;

/** The session this request carries, its idle deadline moved forward; undefined when none is live. */
export async function readConsoleSession(deps: ConsoleSessionDeps, req: FastifyRequest): Promise<ConsoleSession | undefined> {
  const cookie = parseCookies(req.headers.cookie).get(consoleCookieNames(deps.config.issuer).session);
  if (!cookie || !COOKIE.test(cookie)) return undefined;
  const now = deps.clock.now();
  const found = await deps.consoleSessions.touch(hashToken(cookie), new Date(now), new Date(now + deps.config.consoleIdleTimeout * 1000));
  return found ? { userId: found.userId, cookie } : undefined;
}

/** A new console session for `userId` (a new id every sign-in; the old one, if any, deleted). */
export async function startConsoleSession(
  deps: ConsoleSessionDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  userId: string,
): Promise<ConsoleSession> {
  const names = consoleCookieNames(deps.config.issuer);
  const old = parseCookies(req.headers.cookie).get(names.session);
  if (old && COOKIE.test(old)) await deps.consoleSessions.delete(hashToken(old));
  const cookie = newOpaqueToken();
  const now = deps.clock.now();
  await deps.consoleSessions.create({
    idHash: hashToken(cookie),
    userId,
    idleUntil: new Date(now + deps.config.consoleIdleTimeout * 1000),
    expiresAt: new Date(now + deps.config.consoleSessionTtl * 1000),
  });
  // No Max-Age: the cookie goes with the browser; the server decides when the session is over.
  reply.header('set-cookie', serializeCookie(names.session, cookie, { secure: names.secure, sameSite: 'Strict' }));
  return { userId, cookie };
}

export async function endConsoleSession(deps: ConsoleSessionDeps, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const names = consoleCookieNames(deps.config.issuer);
  const cookie = parseCookies(req.headers.cookie).get(names.session);
  if (cookie && COOKIE.test(cookie)) await deps.consoleSessions.delete(hashToken(cookie));
  reply.header('set-cookie', serializeCookie(names.session, '', { secure: names.secure, sameSite: 'Strict', maxAge: 0 }));
}

/** Where the console may send the operator after signing in: one of its own pages, nothing else. */
export function safeReturnPath(path: unknown): string {
  return typeof path === 'string' && /^\/admin(\/[\w\-/]*)?$/.test(path) && !path.startsWith('/admin/api') ? path : '/admin';
}

export interface SignInState {
  state: string;
  returnTo: string;
}

/** The PKCE verifier and nonce of a sign-in, derived from its state (see the module comment). */
export function signInSecrets(deps: Pick<ConsoleSessionDeps, 'secrets'>, state: string): { verifier: string; nonce: string } {
  const derive = (what: string) =>
    createHmac('sha256', deps.secrets.csrfKey).update(`latchkey console ${what} v1\0${state}`).digest('base64url');
  // 43 base64url characters: a valid RFC 7636 §4.1 code_verifier.
  return { verifier: derive('pkce'), nonce: derive('nonce') };
}

const SIGN_IN_TTL = 600;

export function startSignIn(deps: Pick<ConsoleSessionDeps, 'config'>, reply: FastifyReply, returnTo: string): SignInState {
  const names = consoleCookieNames(deps.config.issuer);
  const state = randomBytes(32).toString('base64url');
  const value = `${state}.${Buffer.from(safeReturnPath(returnTo)).toString('base64url')}`;
  // Lax: the callback is a top-level navigation at the end of a redirect chain.
  reply.header('set-cookie', serializeCookie(names.signIn, value, { secure: names.secure, maxAge: SIGN_IN_TTL }));
  return { state, returnTo };
}

/** The sign-in this browser started, cleared as it is read (a state is good for one callback). */
export function takeSignIn(deps: Pick<ConsoleSessionDeps, 'config'>, req: FastifyRequest, reply: FastifyReply): SignInState | undefined {
  const names = consoleCookieNames(deps.config.issuer);
  const raw = parseCookies(req.headers.cookie).get(names.signIn);
  reply.header('set-cookie', serializeCookie(names.signIn, '', { secure: names.secure, maxAge: 0 }));
  const m = raw ? /^([\w-]{43})\.([\w-]{0,400})$/.exec(raw) : null;
  const [, state, returnTo] = m ?? [];
  if (state === undefined || returnTo === undefined) return undefined;
  return { state, returnTo: safeReturnPath(Buffer.from(returnTo, 'base64url').toString('utf8')) };
}
