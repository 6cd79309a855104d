import type { ClientRecord } from '../domain/client.js';
import { FailureLimiter } from '../limits/failure-limiter.js';
import { pendingRequestBuckets } from '../limits/pending-requests.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import type { InteractionDeps } from './deps.js';
import { epochSeconds } from '../clock.js';
import type { User } from '../store/repositories/users.js';
import { buildIdTokenClaims, signIdToken } from '../tokens/id-token.js';
import { idTokenUserClaims } from '../oauth/claim-release.js';
import { hashToken, newId, newOpaqueToken } from '../tokens/opaque.js';
import { verifyOwnJwt } from '../tokens/verify-own.js';
import { AuthorizationRedirectError, type RedirectTarget } from './authorization-request.js';
import type { AuthorizationRequest } from '../domain/authorization-request.js';
import { sendAuthorizationResponse } from './authorization-response.js';
import { consentMissing, requestedConsent } from './consent.js';
import { browserId, currentSession } from './session.js';
import { hasSecondFactor, secondFactorRequired, SECOND_FACTOR_TTL } from './second-factor.js';

export const targetOf = (r: AuthorizationRequest): RedirectTarget => ({
  redirectUri: r.redirectUri,
  responseMode: r.responseMode,
  ...(r.state !== undefined ? { state: r.state } : {}),
});

export const interactionPath = (id: string) => `/interaction/${id}`;

/** The `sub` of an id_token_hint we issued (OIDC Core §3.1.2.1: an expired one is fine). */
export async function idTokenHintSubject(ctx: InteractionDeps, hint: string): Promise<string | undefined> {
  return (await idTokenHintSubjectAndClient(ctx, hint))?.sub;
}

/** The `sub` and client (`aud`) of an ID token we issued, expired or not. */
export async function idTokenHintSubjectAndClient(
  ctx: InteractionDeps,
  hint: string,
): Promise<{ sub: string; clientId: string } | undefined> {
  let exp: number | undefined;
  try {
    exp = decodeJwt(hint).exp;
  } catch {
    return undefined;
  }
  // Verify as of just before its expiry, so an expired hint still proves who it named.
  const at = exp !== undefined ? Math.min(ctx.clock.now(), (exp - 1) * 1000) : ctx.clock.now();
  const v = await verifyOwnJwt(hint, ctx.keystore, { issuer: ctx.config.issuer, now: at, requireJti: false });
  if (!v || v.typ === 'at+jwt') return undefined; // an access token is not an ID token
  const { sub, aud } = v.payload;
  const clientId = Array.isArray(aud) ? aud[0] : aud;
  return typeof sub === 'string' && typeof clientId === 'string' ? { sub, clientId } : undefined;
}

/**
 * OIDC Core §3.1.2.1 max_age: a sign-in older than max_age seconds must be repeated. max_age=0
 * always asks again (as prompt=login does): auth_time has whole-second granularity, so a sign-in
 * made within the current second would otherwise count as 0 seconds old and pass.
 */
export function signInTooOld(maxAge: number, authTime: number, nowSec: number): boolean {
  return maxAge === 0 || nowSec - authTime > maxAge;
}

/**
 * OIDC Core §3.1.2.1 / §3.1.2.6: when the request carries an id_token_hint, the person who signs
 * in must be the one it names; anyone else is login_required, never a code. A hint that no longer
 * verifies names nobody, so it matches nobody.
 */
export async function signedInUserContradictsHint(ctx: InteractionDeps, request: AuthorizationRequest, userId: string): Promise<boolean> {
  if (request.idTokenHintSub !== undefined) return request.idTokenHintSub !== userId;
  if (!request.idTokenHint) return false;
  return (await idTokenHintSubject(ctx, request.idTokenHint)) !== userId;
}

/** Whether the person must consent to the request's scopes at its resources for `client` (first-party clients never ask). */
export async function needsConsent(
  ctx: InteractionDeps,
  client: ClientRecord,
  userId: string,
  request: AuthorizationRequest,
): Promise<boolean> {
  if (client.metadata.skip_consent) return false;
  if (request.prompt.includes('consent')) return true;
  const requested = requestedConsent(request.scopes, request.resources, await ctx.registry.resourceMap());
  return consentMissing(requested, await ctx.repos.consents.granted(userId, client.clientId));
}

/**
 * After validation: sign-in and consent as needed (OIDC Core §3.1.2.3), or straight to the code
 * when the person is signed in and has consented. prompt=none never shows a page.
 */
export async function continueAuthorization(
  ctx: InteractionDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  client: ClientRecord,
  request: AuthorizationRequest,
): Promise<FastifyReply> {
  const target = targetOf(request);
  const current = await currentSession(ctx, req);
  const user = current ? await ctx.repos.users.findById(current.session.userId) : undefined;
  const nowSec = epochSeconds(ctx.clock);

  let hintSub: string | undefined;
  if (request.idTokenHint) {
    hintSub = await idTokenHintSubject(ctx, request.idTokenHint);
    if (!hintSub) throw new AuthorizationRedirectError('invalid_request', 'id_token_hint is not an ID token issued by this server', target);
  }

  const authTime = current ? Math.floor(current.session.authTime.getTime() / 1000) : 0;
  const needLogin =
    !user ||
    request.prompt.includes('login') ||
    request.prompt.includes('select_account') ||
    (request.maxAge !== undefined && signInTooOld(request.maxAge, authTime, nowSec)) ||
    (hintSub !== undefined && hintSub !== user.id);

  // Step-up: the client requires the second factor or the request asks for it (acr_values), and
  // this session was signed in with the password only. Asked for on the interaction page.
  const needSecondFactor = !needLogin && secondFactorRequired(client, request) && !hasSecondFactor(current?.session.amr);

  if (request.prompt.includes('none')) {
    // OIDC Core §3.1.2.6: the second factor needs a page, which prompt=none forbids.
    if (!needLogin && needSecondFactor) {
      throw new AuthorizationRedirectError(
        'interaction_required',
        'prompt=none was requested but the sign-in needs a second factor',
        target,
      );
    }
    if (needLogin) {
      const why = !user
        ? 'nobody is signed in'
        : hintSub !== undefined && hintSub !== user.id
          ? 'a different user is signed in'
          : 'the sign-in is older than max_age';
      throw new AuthorizationRedirectError('login_required', `prompt=none was requested but ${why}`, target);
    }
    if (await needsConsent(ctx, client, user.id, request)) {
      throw new AuthorizationRedirectError(
        'consent_required',
        'prompt=none was requested but the user has not consented to these scopes',
        target,
      );
    }
  }

  if (!needLogin && !needSecondFactor && current && !(await needsConsent(ctx, client, user.id, request))) {
    return finishAuthorization(ctx, reply, client, request, user, authTime, current.session.amr);
  }

  // Interaction rows are bounded per address and per client (AUTHORIZATION_REQUEST_LIMIT_*).
  // client_id and redirect_uri are known good here, so the refusal goes to the client
  // (RFC 6749 §4.1.2.1), not a page.
  const limiter = new FailureLimiter(ctx.repos.rateLimits, ctx.clock, ctx.config.authorizationRequestWindow);
  const reservation = await limiter.reserve(pendingRequestBuckets(ctx.config, 'authorize', client.clientId, req.ip));
  if (!reservation.ok) {
    throw new AuthorizationRedirectError(
      'temporarily_unavailable',
      `too many authorization requests from this address or for this client; retry after ${reservation.retryAfterSeconds} seconds`,
      target,
    );
  }
  const id = newId();
  const browser = browserId(ctx, req, reply);
  // The pending sign-in keeps the hint's verified subject, not the hint (up to 8 KB).
  const { idTokenHint: _hint, ...pending } = request;
  await ctx.repos.interactions.create({
    id,
    browserHash: hashToken(browser),
    clientId: client.clientId,
    request: hintSub === undefined ? pending : { ...pending, idTokenHintSub: hintSub },
    expiresAt: new Date(ctx.clock.now() + ctx.config.interactionTtl * 1000),
  });
  // Signed in (no login needed) means there is a current session.
  if (!needLogin && current) {
    if (needSecondFactor) {
      await ctx.repos.interactions.awaitSecondFactor(id, user.id, new Date(ctx.clock.now() + SECOND_FACTOR_TTL * 1000));
    } else {
      await ctx.repos.interactions.setUser(id, user.id, current.session.authTime, current.session.amr);
    }
  }
  return reply
    .code(303)
    .header('location', `${ctx.config.issuer}${interactionPath(id)}`)
    .header('cache-control', 'no-store')
    .send();
}

/**
 * Issues the code (and, for `code id_token`, the ID token) and sends the response. The code is
 * 256 random bits stored as a hash, bound to client, redirect URI and PKCE challenge, and lives
 * AUTHORIZATION_CODE_TTL seconds (docs/security.md items 14, 16).
 */
export async function finishAuthorization(
  ctx: InteractionDeps,
  reply: FastifyReply,
  client: ClientRecord,
  request: AuthorizationRequest,
  user: User,
  authTime: number,
  amr: readonly string[],
): Promise<FastifyReply> {
  const now = ctx.clock.now();
  const code = newOpaqueToken();
  const grantId = newId();
  const resources = await ctx.registry.resourceMap();
  const longestToken = Math.max(
    ctx.config.accessTokenTtl,
    ctx.config.idTokenTtl,
    ...request.resources.map((r) => resources.get(r)?.access_token_ttl ?? 0),
  );
  await ctx.transaction(async (tx) => {
    await tx.grants.create({
      id: grantId,
      clientId: client.clientId,
      userId: user.id,
      // Tokens issued from this grant carry its id: the row must outlive them.
      expiresAt: new Date(now + (ctx.config.authorizationCodeTtl + longestToken + ctx.config.clockSkew) * 1000),
    });
    await tx.codes.create({
      codeHash: hashToken(code),
      grantId,
      clientId: client.clientId,
      userId: user.id,
      redirectUri: request.redirectUri,
      scopes: request.scopes,
      resources: request.resources,
      nonce: request.nonce ?? null,
      codeChallenge: request.codeChallenge ?? null,
      dpopJkt: request.dpopJkt ?? null,
      authTime: new Date(authTime * 1000),
      amr: [...amr],
      expiresAt: new Date(now + ctx.config.authorizationCodeTtl * 1000),
    });
  });
  const params: Record<string, string> = { code };
  if (request.responseType === 'code id_token') {
    const alg = client.metadata.id_token_signed_response_alg ?? 'RS256';
    params.id_token = signIdToken(
      buildIdTokenClaims({
        issuer: ctx.config.issuer,
        subject: user.id,
        clientId: client.clientId,
        issuedAt: Math.floor(now / 1000),
        ttl: ctx.config.idTokenTtl,
        authTime,
        amr,
        ...(request.nonce ? { nonce: request.nonce } : {}),
        code,
        // The same claims as the token endpoint's ID token (src/oauth/claim-release.ts).
        userClaims: idTokenUserClaims(user, request.scopes, client.metadata),
      }),
      ctx.keystore.signingKey(alg),
    );
  }
  return sendAuthorizationResponse(reply, ctx.config.issuer, targetOf(request), params);
}
