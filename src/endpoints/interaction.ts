import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { isFormUrlEncoded } from './content-type.js';
import { z } from 'zod';
import type { FormRoute } from './form.js';
import { AuthorizationPageError, AuthorizationRedirectError } from '../interaction/authorization-request.js';
import { finishAuthorization, interactionPath, needsConsent, signedInUserContradictsHint, targetOf } from '../interaction/flow.js';
import { FailureLimiter, filledBy, minutes } from '../limits/failure-limiter.js';
import { loginBuckets } from '../interaction/login-throttle.js';
import { renderPage } from '../interaction/pages.js';
import { describeScopes } from '../interaction/scope-descriptions.js';
import { NO_RESOURCE, requestedConsent } from '../interaction/consent.js';
import { checkCsrf, csrfToken } from '../interaction/csrf.js';
import { readBrowserId, safeEqual, startSession } from '../interaction/session.js';
import { isDeviceRequest, type Interaction } from '../store/repositories/interactions.js';
import { formatUserCode } from '../device/user-code.js';
import { hashToken } from '../tokens/opaque.js';
import { PasswordVerifier, PasswordVerifierBusyError } from '../users/password-verifier.js';
import { PasswordHasher, passwordHashParameters } from '../users/password.js';
import { upgradePasswordHash } from '../users/password-upgrade.js';
import { browserErrorHandler } from './browser-errors.js';
import { ACCOUNT_PATH } from './paths.js';
import type { InteractionDeps } from '../interaction/deps.js';
import type { User } from '../store/repositories/users.js';
import type { ClientRecord } from '../domain/client.js';
import { AMR_PASSWORD, AMR_SECOND_FACTOR, SECOND_FACTOR_TTL, secondFactorRequired } from '../interaction/second-factor.js';
import { dummyWork, hashRecoveryCode, looksLikeRecoveryCode, matchingStep, openTotpSecret } from '../users/totp.js';

const EXPIRED = new AuthorizationPageError(
  'This sign-in has expired',
  'This sign-in link has expired, was already used, or was opened in another browser. Go back to the application and start again.',
  400,
);

const loginForm = z.object({
  csrf: z.string().max(200).optional(),
  username: z.string().max(200).default(''),
  password: z.string().max(1024).default(''),
});
/** The interaction pages: the :id path parameter and a form body (FormRoute). */
interface InteractionRoute extends FormRoute {
  Params: { id: string };
}

const otpForm = z.object({ csrf: z.string().max(200).optional(), otp: z.string().max(64).default('') });

const consentForm = z.object({ csrf: z.string().max(200).optional(), decision: z.enum(['allow', 'deny']).optional() });

function form<S extends z.ZodType>(schema: S, req: FastifyRequest<InteractionRoute>): z.output<S> {
  const type = req.headers['content-type'] ?? '';
  if (!isFormUrlEncoded(type)) throw EXPIRED;
  const body = req.body ?? {};
  const flat = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const r = schema.safeParse(flat);
  if (!r.success) throw new AuthorizationPageError('Invalid form', 'The form was not filled in as expected. Go back and try again.', 400);
  return r.data;
}

export type InteractionEndpointsOptions = InteractionDeps;

/**
 * The pages between /authorize and the redirect back: sign-in and consent. Each interaction is
 * bound to the browser that started it (a cookie), and each form carries a CSRF token for that
 * interaction in that browser (interaction/csrf.ts).
 */
type Loaded = Interaction & { browser: string };

export const interactionEndpoints: FastifyPluginCallback<InteractionEndpointsOptions> = (app, ctx, done) => {
  const limiter = new FailureLimiter(ctx.repos.rateLimits, ctx.clock, ctx.config.loginFailureWindow);
  const hasher = new PasswordHasher(passwordHashParameters(ctx.config));
  const verifier = new PasswordVerifier(hasher, ctx.config.passwordVerifyConcurrency, ctx.config.passwordVerifyQueue, (load) => {
    ctx.metrics.passwordChecks.set({ state: 'running' }, load.running);
    ctx.metrics.passwordChecks.set({ state: 'waiting' }, load.waiting);
  });

  /** The interaction, with the browser cookie it is bound to (its forms' CSRF tokens derive from it). */
  async function load(req: FastifyRequest<InteractionRoute>): Promise<Loaded> {
    const { id } = req.params;
    if (!/^[\w-]{1,64}$/.test(id)) throw EXPIRED;
    const interaction = await ctx.repos.interactions.find(id, new Date(ctx.clock.now()));
    const browser = readBrowserId(ctx, req);
    if (!interaction || !browser || !safeEqual(hashToken(browser), interaction.browserHash)) throw EXPIRED;
    return { ...interaction, browser };
  }

  async function client(interaction: Interaction) {
    const c = await ctx.registry.client(interaction.clientId);
    if (!c) throw new AuthorizationPageError('Unknown application', 'The application that started this sign-in no longer exists.', 400);
    return c;
  }

  const loginPage = async (
    reply: FastifyReply,
    i: Loaded,
    clientName: string,
    extra: { error?: string; status?: number; username?: string } = {},
  ) => {
    const loginHint = loginHintOf(i, extra.username);
    return renderPage(
      reply,
      'login',
      {
        clientName,
        action: `${interactionPath(i.id)}/login`,
        csrf: csrfToken(ctx, i.browser, `interaction:${i.id}`),
        ...(loginHint ? { loginHint } : {}),
        ...(extra.error ? { error: extra.error } : {}),
      },
      { status: extra.status ?? 200 },
    );
  };

  /** Every password-check slot and waiting place is taken: 503, come back in a few seconds (RFC 9110 §15.6.4). */
  const busyPage = (reply: FastifyReply, i: Loaded, clientName: string, username: string) => {
    ctx.metrics.passwordChecksRefused.inc();
    reply.header('retry-after', '5');
    return loginPage(reply, i, clientName, {
      status: 503,
      username,
      error: 'Too many people are signing in right now. Try again in a few seconds.',
    });
  };

  /** The resources the tokens will be for: the request's, or the device code's. */
  const resourcesOf = (i: Interaction): readonly string[] =>
    isDeviceRequest(i.request) ? (i.request.resources ?? []) : i.request.resources;

  const loginHintOf = (i: Interaction, typed?: string) => typed ?? (isDeviceRequest(i.request) ? undefined : i.request.loginHint);

  async function consentPage(reply: FastifyReply, i: Loaded) {
    const c = await client(i);
    const user = i.userId ? await ctx.repos.users.findById(i.userId) : undefined;
    if (!user) throw EXPIRED;
    const known = await ctx.registry.resourceMap();
    const requested = requestedConsent(i.request.scopes, resourcesOf(i), known);
    const resources = [...requested].flatMap(([identifier, scopes]) => {
      if (identifier === NO_RESOURCE) return [];
      const r = known.get(identifier);
      return [
        {
          name: r?.name ?? identifier,
          identifier,
          scopes: describeScopes([...scopes], new Map(Object.entries(r?.scope_descriptions ?? {}))),
        },
      ];
    });
    return renderPage(reply, 'consent', {
      clientName: c.metadata.client_name ?? c.clientId,
      userName: user.claims.name ?? user.username,
      scopes: describeScopes([...(requested.get(NO_RESOURCE) ?? [])]),
      resources,
      action: `${interactionPath(i.id)}/consent`,
      csrf: csrfToken(ctx, i.browser, `interaction:${i.id}`),
      ...(isDeviceRequest(i.request) ? { deviceCode: formatUserCode(i.request.userCode) } : {}),
    });
  }

  /** Finishes once: the interaction is taken atomically, so a double submit cannot issue twice. */
  async function finish(reply: FastifyReply, i: Interaction, userId: string, authTime: Date, amr: readonly string[]) {
    const taken = await ctx.repos.interactions.take(i.id);
    if (!taken) throw EXPIRED;
    const [c, user] = [await client(i), await ctx.repos.users.findById(userId)];
    if (!user) throw EXPIRED;
    if (isDeviceRequest(i.request)) return decideDevice(reply, i, 'approved', user.id, authTime);
    return finishAuthorization(ctx, reply, c, i.request, user, Math.floor(authTime.getTime() / 1000), amr);
  }

  /** RFC 8628: the person's decision goes to the device code; the device learns it by polling. */
  async function decideDevice(reply: FastifyReply, i: Interaction, decision: 'approved' | 'denied', userId: string, authTime: Date) {
    if (!isDeviceRequest(i.request)) throw EXPIRED;
    const ok = await ctx.repos.deviceCodes.decide(i.request.deviceCodeHash, decision, userId, authTime, new Date(ctx.clock.now()));
    if (!ok)
      throw new AuthorizationPageError(
        'This code has expired',
        'The code has expired or was already used. Start again on your device.',
        400,
      );
    const c = await client(i);
    return renderPage(reply, 'device-done', { clientName: c.metadata.client_name ?? c.clientId, approved: decision === 'approved' });
  }

  browserErrorHandler(app, ctx);

  app.get<InteractionRoute>('/interaction/:id', async (req, reply) => {
    const i = await load(req);
    if (!i.userId) {
      const c = await client(i);
      if (awaitingSecondFactor(i)) return otpPage(reply, i, c.metadata.client_name ?? c.clientId);
      return loginPage(reply, i, c.metadata.client_name ?? c.clientId);
    }
    return consentPage(reply, i);
  });

  app.post<InteractionRoute>('/interaction/:id/login', async (req, reply) => {
    const i = await load(req);
    const f = form(loginForm, req);
    checkCsrf(ctx, req, f.csrf, `interaction:${i.id}`);
    const c = await client(i);
    const clientName = c.metadata.client_name ?? c.clientId;
    // Busy: refused before any database work, so a flood costs little more than its parsing.
    if (verifier.full) return busyPage(reply, i, clientName, f.username);
    // The attempt is counted BEFORE the password is checked, atomically in every bucket: N
    // simultaneous guesses cannot all pass a limit read before any of them was recorded.
    const buckets = loginBuckets(ctx.config, f.username, req.ip);
    const reservation = await limiter.reserve(buckets);
    if (!reservation.ok) {
      reply.header('retry-after', String(reservation.retryAfterSeconds));
      return loginPage(reply, i, clientName, {
        status: 429,
        username: f.username,
        error: `Too many failed sign-in attempts. Try again in ${minutes(reservation.retryAfterSeconds)}.`,
      });
    }
    let user;
    let ok: boolean;
    try {
      user = f.username ? await ctx.repos.users.findByUsername(f.username) : undefined;
      ok = user ? await verifier.verify(user.passwordHash, f.password) : await verifier.verifyDummy(f.password);
    } catch (err) {
      // Not checked (the server is busy, the database failed): not a failed attempt either.
      await limiter.release(reservation).catch(() => {});
      if (!(err instanceof PasswordVerifierBusyError)) throw err;
      return busyPage(reply, i, clientName, f.username);
    }
    if (!ok || !user) {
      // The reserved attempt stays counted: it was a failure.
      ctx.events.emit({ type: 'login.failure', ...(user ? { userId: user.id } : {}), ip: req.ip, clientId: i.clientId });
      for (const b of filledBy(reservation, buckets)) {
        ctx.events.emit({
          type: 'login.lockout',
          ...(user && b.kind === 'account' ? { userId: user.id } : {}),
          ip: req.ip,
          details: { limit: b.kind, failures: b.limit, window_seconds: limiter.windowSeconds },
        });
      }
      // One message for every failure: it never says whether the account exists.
      return loginPage(reply, i, clientName, { status: 401, username: f.username, error: 'The username or password is incorrect.' });
    }
    await limiter.release(reservation);
    ctx.events.emit({ type: 'login.success', userId: user.id, ip: req.ip, clientId: i.clientId });
    // A hash with outdated parameters is replaced now, while the password is known.
    await upgradePasswordHash({ hasher, verifier, users: ctx.repos.users }, user, f.password);
    // The relying party named someone else with id_token_hint (OIDC Core §3.1.2.6): no code,
    // and no session for this person started on its behalf.
    if (!isDeviceRequest(i.request) && (await signedInUserContradictsHint(ctx, i.request, user.id))) {
      if (!(await ctx.repos.interactions.take(i.id))) throw EXPIRED;
      throw new AuthorizationRedirectError(
        'login_required',
        'the user who signed in is not the one id_token_hint names',
        targetOf(i.request),
      );
    }
    // Enrolled in two-step verification: no session yet; the interaction waits (briefly, in this
    // browser only) for the code, on the same page address.
    const totp = await ctx.repos.totp.find(user.id);
    if (totp?.confirmedAt) {
      await ctx.repos.interactions.awaitSecondFactor(i.id, user.id, new Date(ctx.clock.now() + SECOND_FACTOR_TTL * 1000));
      return reply
        .code(303)
        .header('location', `${ctx.config.issuer}${interactionPath(i.id)}`)
        .send();
    }
    return signedIn(req, reply, i, c, user, AMR_PASSWORD);
  });

  /**
   * The person proved who they are (`amr`): a new session (the id rotates at every sign-in), then
   * consent or the code. When the client needs a second factor they do not have, the session is
   * kept (so they can set it up on the account page) but the application gets nothing.
   */
  async function signedIn(req: FastifyRequest, reply: FastifyReply, i: Loaded, c: ClientRecord, user: User, amr: readonly string[]) {
    const { session } = await startSession(ctx, req, reply, user.id, amr);
    if (secondFactorRequired(c, i.request) && !amr.includes('otp')) {
      if (!(await ctx.repos.interactions.take(i.id))) throw EXPIRED;
      return renderPage(
        reply,
        'mfa-required',
        { clientName: c.metadata.client_name ?? c.clientId, accountUrl: ACCOUNT_PATH },
        { status: 403 },
      );
    }
    await ctx.repos.interactions.setUser(i.id, user.id, session.authTime, amr);
    // A device always asks for confirmation naming the client, so a phishing code cannot
    // be approved silently (RFC 8628 §5.4).
    if (isDeviceRequest(i.request) || (await needsConsent(ctx, c, user.id, i.request))) {
      return reply
        .code(303)
        .header('location', `${ctx.config.issuer}${interactionPath(i.id)}`)
        .send();
    }
    return finish(reply, i, user.id, session.authTime, amr);
  }

  const awaitingSecondFactor = (i: Interaction): boolean =>
    i.userId === null && i.mfaUserId !== null && i.mfaUntil !== null && i.mfaUntil.getTime() > ctx.clock.now();

  const otpPage = (reply: FastifyReply, i: Loaded, clientName: string, extra: { error?: string; status?: number } = {}) =>
    renderPage(
      reply,
      'otp',
      {
        clientName,
        action: `${interactionPath(i.id)}/otp`,
        csrf: csrfToken(ctx, i.browser, `interaction:${i.id}`),
        ...(extra.error ? { error: extra.error } : {}),
      },
      { status: extra.status ?? 200 },
    );

  /**
   * The second factor: a TOTP code (RFC 6238) or a recovery code. Throttled with the password's
   * buckets (the account and the address; docs/security.md items 38-39), counted before the check.
   * A code is good once: its time step is recorded by one compare-and-set UPDATE, so a replay —
   * in this process or another — is refused; a recovery code is marked used the same way.
   */
  app.post<InteractionRoute>('/interaction/:id/otp', async (req, reply) => {
    const i = await load(req);
    const f = form(otpForm, req);
    checkCsrf(ctx, req, f.csrf, `interaction:${i.id}`);
    if (!awaitingSecondFactor(i) || i.mfaUserId === null) throw EXPIRED;
    const user = await ctx.repos.users.findById(i.mfaUserId);
    if (!user) throw EXPIRED;
    const c = await client(i);
    const clientName = c.metadata.client_name ?? c.clientId;
    const buckets = loginBuckets(ctx.config, user.username, req.ip);
    const reservation = await limiter.reserve(buckets);
    if (!reservation.ok) {
      reply.header('retry-after', String(reservation.retryAfterSeconds));
      return otpPage(reply, i, clientName, {
        status: 429,
        error: `Too many failed sign-in attempts. Try again in ${minutes(reservation.retryAfterSeconds)}.`,
      });
    }
    let ok = false;
    let recovery = false;
    try {
      const typed = f.otp.trim();
      const totp = await ctx.repos.totp.find(user.id);
      if (totp?.confirmedAt && looksLikeRecoveryCode(typed)) {
        recovery = true;
        ok = await ctx.repos.totp.useRecoveryCode(user.id, hashRecoveryCode(user.id, typed), new Date(ctx.clock.now()));
      } else if (totp?.confirmedAt) {
        const step = matchingStep(openTotpSecret(ctx.secrets.totpKey, user.id, totp.secretEnc), typed, ctx.clock.now());
        ok = step !== undefined && (await ctx.repos.totp.acceptStep(user.id, step));
      } else {
        dummyWork();
      }
    } catch (err) {
      await limiter.release(reservation).catch(() => {});
      throw err;
    }
    if (!ok) {
      ctx.events.emit({
        type: 'mfa.failure',
        userId: user.id,
        ip: req.ip,
        clientId: i.clientId,
        details: { method: recovery ? 'recovery_code' : 'totp' },
      });
      for (const b of filledBy(reservation, buckets)) {
        ctx.events.emit({
          type: 'login.lockout',
          ...(b.kind === 'account' ? { userId: user.id } : {}),
          ip: req.ip,
          details: { limit: b.kind, failures: b.limit, window_seconds: limiter.windowSeconds },
        });
      }
      return otpPage(reply, i, clientName, {
        status: 401,
        error: 'That code is not right, or it was already used. Enter the current code.',
      });
    }
    await limiter.release(reservation);
    if (recovery) {
      const left = await ctx.repos.totp.unusedRecoveryCodes(user.id);
      ctx.events.emit({ type: 'recovery_code.used', userId: user.id, ip: req.ip, clientId: i.clientId, details: { remaining: left } });
    }
    ctx.events.emit({
      type: 'mfa.success',
      userId: user.id,
      ip: req.ip,
      clientId: i.clientId,
      details: { method: recovery ? 'recovery_code' : 'totp' },
    });
    return signedIn(req, reply, i, c, user, AMR_SECOND_FACTOR);
  });

  app.post<InteractionRoute>('/interaction/:id/consent', async (req, reply) => {
    const i = await load(req);
    const f = form(consentForm, req);
    checkCsrf(ctx, req, f.csrf, `interaction:${i.id}`);
    if (!i.userId || !i.authTime) throw EXPIRED;
    if (f.decision === 'deny') {
      if (!(await ctx.repos.interactions.take(i.id))) throw EXPIRED;
      if (isDeviceRequest(i.request)) return decideDevice(reply, i, 'denied', i.userId, i.authTime);
      throw new AuthorizationRedirectError('access_denied', 'the user denied the request', targetOf(i.request));
    }
    if (f.decision !== 'allow') throw new AuthorizationPageError('Invalid form', 'Choose Allow or Deny.', 400);
    const consent = requestedConsent(i.request.scopes, resourcesOf(i), await ctx.registry.resourceMap());
    await ctx.repos.consents.grant(i.userId, i.clientId, consent);
    // One event per resource, so each line says which scopes were granted where (no resource:
    // the OpenID scopes, about the person).
    for (const [resource, scopes] of consent) {
      ctx.events.emit({
        type: 'consent.granted',
        userId: i.userId,
        clientId: i.clientId,
        ip: req.ip,
        details: resource === NO_RESOURCE ? { scopes } : { resource, scopes },
      });
    }
    return finish(reply, i, i.userId, i.authTime, i.amr ?? AMR_PASSWORD);
  });
  done();
};
