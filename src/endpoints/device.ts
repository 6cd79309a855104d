import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import { isFormUrlEncoded } from './content-type.js';
import { z } from 'zod';
import { ENDPOINT_PATHS } from './paths.js';
import type { FormRoute } from './form.js';
import { formatUserCode, normalizeUserCode } from '../device/user-code.js';
import { AuthorizationPageError } from '../interaction/authorization-request.js';
import { interactionPath } from '../interaction/flow.js';
import { renderPage } from '../interaction/pages.js';
import { checkCsrf, csrfToken } from '../interaction/csrf.js';
import { browserId, currentSession } from '../interaction/session.js';
import { FailureLimiter, addressKey, minutes, type Bucket } from '../limits/failure-limiter.js';
import { hashToken, newId } from '../tokens/opaque.js';
import { browserErrorHandler } from './browser-errors.js';
import { hasSecondFactor, secondFactorRequired, SECOND_FACTOR_TTL } from '../interaction/second-factor.js';
import type { InteractionDeps } from '../interaction/deps.js';

const entryForm = z.object({ csrf: z.string().max(200).optional(), user_code: z.string().max(64).default('') });

export type DeviceEndpointOptions = InteractionDeps;

/**
 * The verification_uri (RFC 8628 §3.3): a person types the code from the device, signs in if
 * needed, and confirms on a page naming the client. A pre-filled link only fills the box: the
 * person still submits it and confirms, so a phishing link cannot approve anything by itself.
 * Wrong codes are throttled per browser and per address (§5.1: IPv4 address, IPv6 /64), in
 * PostgreSQL. The global count is soft: a hard one refused everyone once full, so a handful of
 * addresses could lock every person out of their devices (1000 wrong codes from 34 addresses did).
 * Past DEVICE_ENTRY_LIMIT_GLOBAL wrong codes in the window, each address gets a tenth of its usual
 * allowance instead: a distributed guesser slows down, a person's first try still goes through.
 */
export const deviceEndpoint: FastifyPluginCallback<DeviceEndpointOptions> = (app, ctx, done) => {
  const limiter = new FailureLimiter(ctx.repos.rateLimits, ctx.clock, ctx.config.deviceEntryWindow);
  const global: Bucket = { key: 'device:global', limit: ctx.config.deviceEntryLimitGlobal };
  /** Many wrong codes everywhere lately (known from this process's own failures, no read needed). */
  const underAttack = () => limiter.retryAfter([global]) > 0;
  const buckets = (browser: string, ip: string): Bucket[] => [
    { key: `device:browser:${hashToken(browser)}`, limit: ctx.config.deviceEntryLimitSession },
    {
      key: `device:ip:${addressKey(ip)}`,
      limit: underAttack() ? Math.max(1, Math.floor(ctx.config.deviceEntryLimitIp / 10)) : ctx.config.deviceEntryLimitIp,
    },
  ];

  const page = (reply: FastifyReply, browser: string, opts: { userCode?: string; error?: string; status?: number } = {}) =>
    renderPage(
      reply,
      'device',
      {
        action: ENDPOINT_PATHS.device,
        csrf: csrfToken(ctx, browser, 'device'),
        ...(opts.userCode ? { userCode: opts.userCode } : {}),
        ...(opts.error ? { error: opts.error } : {}),
      },
      { status: opts.status ?? 200 },
    );

  browserErrorHandler(app, ctx);

  app.get<FormRoute>(ENDPOINT_PATHS.device, async (req, reply) => {
    const q = req.query ?? {};
    const prefill = typeof q.user_code === 'string' ? normalizeUserCode(q.user_code) : undefined;
    return page(reply, browserId(ctx, req, reply), prefill ? { userCode: formatUserCode(prefill) } : {});
  });

  app.post<FormRoute>(ENDPOINT_PATHS.device, async (req, reply) => {
    if (!isFormUrlEncoded(req.headers['content-type'])) {
      throw new AuthorizationPageError('Invalid request', 'The code must be sent from the form on this page.', 415);
    }
    const body = req.body ?? {};
    const parsed = entryForm.safeParse(Object.fromEntries(Object.entries(body).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v])));
    if (!parsed.success) throw new AuthorizationPageError('Invalid form', 'The form was not filled in as expected. Go back and try again.');
    checkCsrf(ctx, req, parsed.data.csrf, 'device');
    const browser = browserId(ctx, req, reply);
    const typed = parsed.data.user_code;
    // Counted before the lookup, atomically: parallel guesses cannot all pass a limit read
    // before any of them was recorded. A code that exists gives the attempt back.
    const reservation = await limiter.reserve(buckets(browser, req.ip));
    if (!reservation.ok) {
      reply.header('retry-after', String(reservation.retryAfterSeconds));
      return page(reply, browser, {
        status: 429,
        userCode: typed,
        error: `Too many wrong codes. Try again in ${minutes(reservation.retryAfterSeconds)}.`,
      });
    }
    const code = normalizeUserCode(typed);
    const now = ctx.clock.now();
    let found;
    try {
      found = code ? await ctx.repos.deviceCodes.findLiveByUserCode(code, new Date(now)) : undefined;
    } catch (err) {
      await limiter.release(reservation).catch(() => {});
      throw err;
    }
    if (!found) {
      // Counted, never refused on: it only tightens the per-address allowance (above).
      await limiter.recordFailure([global]);
      return page(reply, browser, {
        status: 400,
        userCode: typed,
        error: 'That code is not valid or has expired. Check the code on your device, or start again there.',
      });
    }
    await limiter.release(reservation);
    if (found.status !== 'pending') {
      return page(reply, browser, {
        status: 400,
        error: 'That code has already been used. Start again on your device to get a new one.',
      });
    }
    const id = newId();
    await ctx.repos.interactions.create({
      id,
      browserHash: hashToken(browser),
      clientId: found.clientId,
      request: {
        kind: 'device',
        deviceCodeHash: found.deviceCodeHash,
        userCode: found.userCode,
        scopes: found.scopes,
        resources: found.resources,
      },
      expiresAt: new Date(Math.min(now + ctx.config.interactionTtl * 1000, found.expiresAt.getTime())),
    });
    // Signed in already: straight to the confirmation page; otherwise sign in first.
    const current = await currentSession(ctx, req);
    if (current) {
      // A client that requires the second factor gets it from a password-only session too (step-up).
      const client = await ctx.registry.client(found.clientId);
      if (client && secondFactorRequired(client, {}) && !hasSecondFactor(current.session.amr)) {
        await ctx.repos.interactions.awaitSecondFactor(id, current.session.userId, new Date(now + SECOND_FACTOR_TTL * 1000));
      } else {
        await ctx.repos.interactions.setUser(id, current.session.userId, current.session.authTime, current.session.amr);
      }
    }
    return reply
      .code(303)
      .header('location', `${ctx.config.issuer}${interactionPath(id)}`)
      .header('cache-control', 'no-store')
      .send();
  });
  done();
};
