import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InteractionDeps } from './deps.js';
import { hashToken, newOpaqueToken } from '../tokens/opaque.js';
import type { Session } from '../store/repositories/sessions.js';
import { parseCookies, serializeCookie } from './cookies.js';

/**
 * Browser state (docs/security.md item 12): a session cookie (HttpOnly, SameSite=Lax, Secure and
 * __Host- prefixed on an https issuer) whose value is 256 random bits, stored only as a hash,
 * and a browser cookie that binds pending interactions to the browser that started them.
 */
export function cookieNames(issuer: string) {
  const secure = issuer.startsWith('https://');
  const prefix = secure ? '__Host-' : '';
  return { secure, session: `${prefix}lk_session`, browser: `${prefix}lk_browser` };
}

export interface CurrentSession {
  session: Session;
  /** The raw cookie value. */
  cookie: string;
}

export async function currentSession(ctx: InteractionDeps, req: FastifyRequest): Promise<CurrentSession | undefined> {
  const { session: name } = cookieNames(ctx.config.issuer);
  const cookie = parseCookies(req.headers.cookie).get(name);
  if (!cookie || cookie.length > 100) return undefined;
  const session = await ctx.repos.sessions.find(hashToken(cookie), new Date(ctx.clock.now()));
  return session ? { session, cookie } : undefined;
}

/** Signs a user in: a new session id every time (rotation at login), the old one deleted. */
export async function startSession(
  ctx: InteractionDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  userId: string,
  amr: readonly string[],
): Promise<CurrentSession> {
  const names = cookieNames(ctx.config.issuer);
  const old = parseCookies(req.headers.cookie).get(names.session);
  if (old && old.length <= 100) await ctx.repos.sessions.delete(hashToken(old));
  const cookie = newOpaqueToken();
  const now = ctx.clock.now();
  const session: Session = {
    idHash: hashToken(cookie),
    userId,
    authTime: new Date(Math.floor(now / 1000) * 1000),
    expiresAt: new Date(now + ctx.config.sessionTtl * 1000),
    amr: [...amr],
  };
  await ctx.repos.sessions.create(session);
  reply.header('set-cookie', serializeCookie(names.session, cookie, { secure: names.secure, maxAge: ctx.config.sessionTtl }));
  return { session, cookie };
}

export async function endSession(ctx: InteractionDeps, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const names = cookieNames(ctx.config.issuer);
  const cookie = parseCookies(req.headers.cookie).get(names.session);
  if (cookie && cookie.length <= 100) await ctx.repos.sessions.delete(hashToken(cookie));
  reply.header('set-cookie', serializeCookie(names.session, '', { secure: names.secure, maxAge: 0 }));
}

/** The browser id cookie, set when missing. Returns its value. */
export function browserId(ctx: InteractionDeps, req: FastifyRequest, reply: FastifyReply): string {
  const names = cookieNames(ctx.config.issuer);
  const existing = parseCookies(req.headers.cookie).get(names.browser);
  if (existing && /^[\w-]{43}$/.test(existing)) return existing;
  const value = randomBytes(32).toString('base64url');
  reply.header('set-cookie', serializeCookie(names.browser, value, { secure: names.secure }));
  return value;
}

export function readBrowserId(ctx: Pick<InteractionDeps, 'config'>, req: FastifyRequest): string | undefined {
  return parseCookies(req.headers.cookie).get(cookieNames(ctx.config.issuer).browser);
}

export function safeEqual(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string') return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
