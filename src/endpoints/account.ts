/**
 * /account: the signed-in person's own page (issue 15 item 4) — who is signed in, their active
 * sessions (sign out the others), the applications they consented to (revoke), and two-step
 * verification (TOTP, RFC 6238: enrol, recovery codes, remove). Sections for passkeys and linked
 * providers go beside these (views/account.eta marks where).
 *
 * Who: the browser's single sign-on session (interaction/session.ts), the one the login page
 * starts; without one, /account/login signs in through the built-in client `latchkey-account`
 * (account-client.ts explains why a client). Every change needs a sign-in at most
 * ACCOUNT_RECENT_SIGN_IN old (default 10 minutes); an older session is sent through the login page
 * again with prompt=login (OIDC Core §3.1.2.1), which also asks for the second factor when enrolled.
 * Every form carries a CSRF token for this browser (interaction/csrf.ts, purpose `account`); every
 * page has the sign-in pages' headers (frame-ancestors 'none', no-store). Every change is a
 * security event, stored as an audit event; revoking an application goes through the admin
 * services' grant revocation (consent withdrawn, every token of the grant revoked, audited).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { z } from 'zod';
import { epochSeconds } from '../clock.js';
import { s256 } from '../tokens/pkce.js';
import { checkCsrf, csrfToken } from '../interaction/csrf.js';
import type { InteractionDeps } from '../interaction/deps.js';
import { renderPage, type AccountPageData } from '../interaction/pages.js';
import { hasSecondFactor } from '../interaction/second-factor.js';
import { parseCookies, serializeCookie } from '../interaction/cookies.js';
import { browserId, currentSession, type CurrentSession } from '../interaction/session.js';
import { AuthorizationPageError } from '../interaction/authorization-request.js';
import { FailureLimiter, minutes } from '../limits/failure-limiter.js';
import { loginBuckets } from '../interaction/login-throttle.js';
import type { User } from '../store/repositories/users.js';
import {
  hashRecoveryCode,
  looksLikeRecoveryCode,
  matchingStep,
  newRecoveryCodes,
  newTotpSecret,
  openTotpSecret,
  sealTotpSecret,
  totpUri,
} from '../users/totp.js';
import { browserErrorHandler } from './browser-errors.js';
import { isFormUrlEncoded } from './content-type.js';
import { ACCOUNT_CLIENT_ID, accountRedirectUri } from './account-client.js';
import { ACCOUNT_PATH, endpointUrl } from './paths.js';

/** What the account page needs of the admin services (the same grant revocation the admin API uses). */
export interface AccountGrants {
  list(q: { sub: string; limit: number }): Promise<{ client_id: string; consent: { scopes: string[] }[] }[]>;
  revoke(id: string, actor: { client_id?: string; sub?: string; ip?: string }): Promise<void>;
}

export type AccountEndpointOptions = InteractionDeps & { grants: AccountGrants };

const STATE_COOKIE = 'lk_account_signin';
const SIGN_IN_TTL = 600;

const csrfOnly = z.object({ csrf: z.string().max(200).optional() });
const codeForm = z.object({ csrf: z.string().max(200).optional(), otp: z.string().max(64).default('') });
const appForm = z.object({ csrf: z.string().max(200).optional(), client_id: z.string().min(1).max(255) });

const INVALID_FORM = () =>
  new AuthorizationPageError('Invalid form', 'The form was not filled in as expected. Go back and try again.', 400);

function form<S extends z.ZodType>(schema: S, req: FastifyRequest): z.output<S> {
  if (!isFormUrlEncoded(req.headers['content-type'] ?? '')) throw INVALID_FORM();
  const body = (req.body ?? {}) as Record<string, unknown>;
  const flat = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const r = schema.safeParse(flat);
  if (!r.success) throw INVALID_FORM();
  return r.data;
}

const when = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

export const accountEndpoint: FastifyPluginCallback<AccountEndpointOptions> = (app, ctx, done) => {
  const { issuer } = ctx.config;
  const secure = issuer.startsWith('https://');
  const stateCookie = `${secure ? '__Host-' : ''}${STATE_COOKIE}`;
  const limiter = new FailureLimiter(ctx.repos.rateLimits, ctx.clock, ctx.config.loginFailureWindow);
  const totpIssuer = new URL(issuer).host;

  browserErrorHandler(app, ctx);

  /** The signed-in person, or undefined. */
  async function who(req: FastifyRequest): Promise<{ current: CurrentSession; user: User } | undefined> {
    const current = await currentSession(ctx, req);
    const user = current ? await ctx.repos.users.findById(current.session.userId) : undefined;
    return current && user ? { current, user } : undefined;
  }

  const recent = (current: CurrentSession) =>
    epochSeconds(ctx.clock) - Math.floor(current.session.authTime.getTime() / 1000) <= ctx.config.accountRecentSignIn;

  const toSignIn = (reply: FastifyReply, again: boolean) =>
    reply
      .code(303)
      .header('location', `${issuer}${ACCOUNT_PATH}/login${again ? '?again=1' : ''}`)
      .header('cache-control', 'no-store')
      .send();

  /**
   * A change: signed in (else sign in), recently (else sign in again), and the form's CSRF token
   * right for this browser. Returns the person, or undefined once the reply was sent.
   */
  async function forChange<S extends z.ZodType>(req: FastifyRequest, reply: FastifyReply, schema: S) {
    const f = form(schema, req) as z.output<S> & { csrf?: string };
    checkCsrf(ctx, req, f.csrf, 'account');
    const w = await who(req);
    if (!w || !recent(w.current)) {
      await toSignIn(reply, w !== undefined);
      return undefined;
    }
    return { ...w, f };
  }

  async function page(
    req: FastifyRequest,
    reply: FastifyReply,
    w: { current: CurrentSession; user: User },
    extra: Partial<AccountPageData> = {},
    status = 200,
  ) {
    const browser = browserId(ctx, req, reply);
    const now = new Date(ctx.clock.now());
    const [sessions, grants, totp] = await Promise.all([
      ctx.repos.sessions.listForUser(w.user.id, now),
      ctx.grants.list({ sub: w.user.id, limit: 100 }),
      ctx.repos.totp.find(w.user.id),
    ]);
    const apps = [];
    for (const g of grants) {
      if (g.client_id === ACCOUNT_CLIENT_ID) continue;
      const c = await ctx.registry.client(g.client_id);
      apps.push({
        clientId: g.client_id,
        name: c?.metadata.client_name ?? g.client_id,
        scopes: [...new Set(g.consent.flatMap((x) => x.scopes))],
      });
    }
    const enabled = totp?.confirmedAt != null;
    return renderPage(
      reply,
      'account',
      {
        username: w.user.username,
        displayName: typeof w.user.claims.name === 'string' ? w.user.claims.name : w.user.username,
        csrf: csrfToken(ctx, browser, 'account'),
        sessions: sessions.map((s) => ({
          current: s.idHash === w.current.session.idHash,
          signedIn: when(s.authTime),
          expires: when(s.expiresAt),
          secondFactor: hasSecondFactor(s.amr),
        })),
        apps,
        totp: { enabled, recoveryCodesLeft: enabled ? await ctx.repos.totp.unusedRecoveryCodes(w.user.id) : 0 },
        ...extra,
      },
      { status },
    );
  }

  async function enrolPage(req: FastifyRequest, reply: FastifyReply, user: User, sealed: string, error?: string) {
    const secret = openTotpSecret(ctx.secrets.totpKey, user.id, sealed);
    const uri = totpUri(secret, totpIssuer, user.username);
    // The QR code is drawn here, as SVG markup made only of <path> elements from the URI's bits.
    const qrSvg = await QRCode.toString(uri, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
    return renderPage(
      reply,
      'account-totp',
      { csrf: csrfToken(ctx, browserId(ctx, req, reply), 'account'), qrSvg, uri, secret, ...(error ? { error } : {}) },
      { status: error ? 400 : 200 },
    );
  }

  /**
   * Checks a current TOTP code (once: its time step is recorded) or an unused recovery code,
   * throttled with the sign-in's buckets. 'locked' when the throttle refuses.
   */
  async function checkSecondFactor(req: FastifyRequest, user: User, typed: string): Promise<'ok' | 'wrong' | { locked: number }> {
    const buckets = loginBuckets(ctx.config, user.username, req.ip);
    const reservation = await limiter.reserve(buckets);
    if (!reservation.ok) return { locked: reservation.retryAfterSeconds };
    const t = await ctx.repos.totp.find(user.id);
    let ok = false;
    if (t?.confirmedAt && looksLikeRecoveryCode(typed)) {
      ok = await ctx.repos.totp.useRecoveryCode(user.id, hashRecoveryCode(user.id, typed), new Date(ctx.clock.now()));
      if (ok) ctx.events.emit({ type: 'recovery_code.used', userId: user.id, ip: req.ip, clientId: ACCOUNT_CLIENT_ID });
    } else if (t?.confirmedAt) {
      const step = matchingStep(openTotpSecret(ctx.secrets.totpKey, user.id, t.secretEnc), typed, ctx.clock.now());
      ok = step !== undefined && (await ctx.repos.totp.acceptStep(user.id, step));
    }
    if (ok) {
      await limiter.release(reservation);
      return 'ok';
    }
    ctx.events.emit({ type: 'mfa.failure', userId: user.id, ip: req.ip, clientId: ACCOUNT_CLIENT_ID, details: { where: 'account' } });
    return 'wrong';
  }

  /** Ten new recovery codes: returned to show once, stored hashed. */
  const recoveryCodes = (userId: string) => {
    const codes = newRecoveryCodes();
    return { codes, hashes: codes.map((c) => hashRecoveryCode(userId, c)) };
  };

  app.get(ACCOUNT_PATH, async (req, reply) => {
    const w = await who(req);
    if (!w) return toSignIn(reply, false);
    return page(req, reply, w);
  });

  /** Signs in (or again, with prompt=login) through the login page, as the built-in client. */
  app.get<{ Querystring: { again?: string } }>(`${ACCOUNT_PATH}/login`, async (req, reply) => {
    const state = randomBytes(32).toString('base64url');
    reply.header('set-cookie', serializeCookie(stateCookie, state, { secure, maxAge: SIGN_IN_TTL }));
    const url = new URL(endpointUrl(issuer, 'authorization'));
    url.search = new URLSearchParams({
      client_id: ACCOUNT_CLIENT_ID,
      redirect_uri: accountRedirectUri(issuer),
      response_type: 'code',
      scope: 'openid',
      state,
      // PKCE is required of every client here; the code is never redeemed (account-client.ts), so
      // the verifier is not kept.
      code_challenge: s256(randomBytes(32).toString('base64url')),
      code_challenge_method: 'S256',
      ...(req.query.again === '1' ? { prompt: 'login' } : {}),
    }).toString();
    return reply.code(303).header('location', url.toString()).header('cache-control', 'no-store').send();
  });

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>(`${ACCOUNT_PATH}/callback`, async (req, reply) => {
    const expected = parseCookies(req.headers.cookie).get(stateCookie);
    reply.header('set-cookie', serializeCookie(stateCookie, '', { secure, maxAge: 0 }));
    const { state, iss, error } = req.query;
    if (!expected || typeof state !== 'string' || state !== expected || iss !== issuer) {
      throw new AuthorizationPageError(
        'This sign-in has expired',
        'The sign-in was started in another browser, took too long, or was already finished. Open your account page again.',
        400,
      );
    }
    if (error !== undefined) throw new AuthorizationPageError('Sign-in was not completed', 'Open your account page to try again.', 400);
    return reply.code(303).header('location', `${issuer}${ACCOUNT_PATH}`).header('cache-control', 'no-store').send();
  });

  app.post(`${ACCOUNT_PATH}/sessions/end-others`, async (req, reply) => {
    const c = await forChange(req, reply, csrfOnly);
    if (!c) return reply;
    const ended = await ctx.repos.sessions.endOthers(c.user.id, c.current.session.idHash);
    ctx.events.emit({ type: 'account.sessions_ended', userId: c.user.id, ip: req.ip, clientId: ACCOUNT_CLIENT_ID, details: { ended } });
    return page(req, reply, c, { notice: ended === 1 ? 'Signed out of 1 other session.' : `Signed out of ${ended} other sessions.` });
  });

  app.post(`${ACCOUNT_PATH}/apps/revoke`, async (req, reply) => {
    const c = await forChange(req, reply, appForm);
    if (!c) return reply;
    const clientId = c.f.client_id;
    const known = await ctx.grants.list({ sub: c.user.id, limit: 100 });
    if (clientId === ACCOUNT_CLIENT_ID || !known.some((g) => g.client_id === clientId)) {
      return page(req, reply, c, { error: 'That application has no access to your account.' }, 404);
    }
    await ctx.grants.revoke(`${c.user.id}.${clientId}`, { client_id: ACCOUNT_CLIENT_ID, sub: c.user.id, ip: req.ip });
    const client = await ctx.registry.client(clientId);
    return page(req, reply, c, { notice: `${client?.metadata.client_name ?? clientId} no longer has access to your account.` });
  });

  app.post(`${ACCOUNT_PATH}/totp/enrol`, async (req, reply) => {
    const c = await forChange(req, reply, csrfOnly);
    if (!c) return reply;
    const sealed = sealTotpSecret(ctx.secrets.totpKey, c.user.id, newTotpSecret());
    if (!(await ctx.repos.totp.startEnrolment(c.user.id, sealed, new Date(ctx.clock.now())))) {
      return page(req, reply, c, { error: 'Two-step verification is already on. Remove it first to set up a new authenticator.' }, 409);
    }
    return enrolPage(req, reply, c.user, sealed);
  });

  app.post(`${ACCOUNT_PATH}/totp/confirm`, async (req, reply) => {
    const c = await forChange(req, reply, codeForm);
    if (!c) return reply;
    const t = await ctx.repos.totp.find(c.user.id);
    if (!t || t.confirmedAt) return page(req, reply, c, { error: 'There is no set-up waiting for a code. Start again.' }, 409);
    const buckets = loginBuckets(ctx.config, c.user.username, req.ip);
    const reservation = await limiter.reserve(buckets);
    if (!reservation.ok) {
      reply.header('retry-after', String(reservation.retryAfterSeconds));
      return enrolPage(req, reply, c.user, t.secretEnc, `Too many wrong codes. Try again in ${minutes(reservation.retryAfterSeconds)}.`);
    }
    const step = matchingStep(openTotpSecret(ctx.secrets.totpKey, c.user.id, t.secretEnc), c.f.otp, ctx.clock.now());
    if (step === undefined) return enrolPage(req, reply, c.user, t.secretEnc, 'That code is not right. Enter the code your app shows now.');
    await limiter.release(reservation);
    const { codes, hashes } = recoveryCodes(c.user.id);
    if (!(await ctx.repos.totp.confirm(c.user.id, t.secretEnc, step, new Date(ctx.clock.now()), hashes))) {
      return page(req, reply, c, { error: 'The set-up changed in another window. Start again.' }, 409);
    }
    ctx.events.emit({ type: 'totp.enrolled', userId: c.user.id, ip: req.ip, clientId: ACCOUNT_CLIENT_ID });
    ctx.events.emit({
      type: 'recovery_codes.regenerated',
      userId: c.user.id,
      ip: req.ip,
      clientId: ACCOUNT_CLIENT_ID,
      details: { count: codes.length },
    });
    return page(req, reply, c, { notice: 'Two-step verification is on.', recoveryCodes: codes });
  });

  app.post(`${ACCOUNT_PATH}/totp/remove`, async (req, reply) => {
    const c = await forChange(req, reply, codeForm);
    if (!c) return reply;
    const checked = await checkSecondFactor(req, c.user, c.f.otp.trim());
    if (checked !== 'ok') {
      if (typeof checked === 'object') reply.header('retry-after', String(checked.locked));
      const error =
        typeof checked === 'object'
          ? `Too many wrong codes. Try again in ${minutes(checked.locked)}.`
          : 'That code is not right, or it was already used. Two-step verification is still on.';
      return page(req, reply, c, { error }, typeof checked === 'object' ? 429 : 400);
    }
    await ctx.repos.totp.remove(c.user.id);
    ctx.events.emit({ type: 'totp.removed', userId: c.user.id, ip: req.ip, clientId: ACCOUNT_CLIENT_ID });
    return page(req, reply, c, { notice: 'Two-step verification is off.' });
  });

  app.post(`${ACCOUNT_PATH}/recovery-codes`, async (req, reply) => {
    const c = await forChange(req, reply, csrfOnly);
    if (!c) return reply;
    const { codes, hashes } = recoveryCodes(c.user.id);
    if (!(await ctx.repos.totp.regenerateRecoveryCodes(c.user.id, hashes, new Date(ctx.clock.now())))) {
      return page(req, reply, c, { error: 'Recovery codes come with two-step verification: turn it on first.' }, 409);
    }
    ctx.events.emit({
      type: 'recovery_codes.regenerated',
      userId: c.user.id,
      ip: req.ip,
      clientId: ACCOUNT_CLIENT_ID,
      details: { count: codes.length },
    });
    return page(req, reply, c, { notice: 'New recovery codes made; the old ones no longer work.', recoveryCodes: codes });
  });

  done();
};
