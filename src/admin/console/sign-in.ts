/**
 * The console's sign-in (issue 14 item 7): Latchkey's own authorization code flow with PKCE and a
 * nonce, as the built-in client `latchkey-console` (console-client.ts). The callback redeems the
 * code in-process through the authorization_code grant itself (one atomic consumption, replay
 * detection, redirect_uri and PKCE checks: the same code path as /token), reads the subject from
 * the ID token it just issued, checks the nonce, and lets in only users whose roles contain
 * `admin` — re-checked on every request (guard.ts), so removing the role takes effect at once.
 */
import { decodeJwt } from 'jose';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authorizationCodeGrant, type AuthorizationCodeDeps } from '../../grants/authorization-code.js';
import { arrivalMark } from '../../grants/recent-rotations.js';
import { OAuthError } from '../../oauth/errors.js';
import { s256 } from '../../tokens/pkce.js';
import { renderPage } from '../../interaction/pages.js';
import { endpointUrl } from '../../endpoints/paths.js';
import { CONSOLE_CLIENT_ID, consoleRedirectUri } from './console-client.js';
import {
  endConsoleSession,
  readConsoleSession,
  signInSecrets,
  startConsoleSession,
  startSignIn,
  takeSignIn,
  safeReturnPath,
  type ConsoleSessionDeps,
} from './session.js';
import { checkConsoleCsrf, isAdmin, type ConsoleDeps } from './deps.js';

interface CallbackQuery {
  Querystring: Record<string, string | string[] | undefined>;
}

const one = (v: string | string[] | undefined): string | undefined => (typeof v === 'string' && v.length <= 4096 ? v : undefined);

export function signInRoutes(app: FastifyInstance, deps: ConsoleDeps & { grantDeps: AuthorizationCodeDeps } & ConsoleSessionDeps): void {
  const { issuer } = deps.config;

  /** Starts the code flow; `prompt=login` lets someone signed in as a non-admin switch accounts. */
  app.get<CallbackQuery>('/admin/login', async (req, reply) => {
    const { state } = startSignIn(deps, reply, safeReturnPath(one(req.query.return)));
    const { verifier, nonce } = signInSecrets(deps, state);
    const url = new URL(endpointUrl(issuer, 'authorization'));
    url.search = new URLSearchParams({
      client_id: CONSOLE_CLIENT_ID,
      redirect_uri: consoleRedirectUri(issuer),
      response_type: 'code',
      scope: 'openid',
      state,
      nonce,
      code_challenge: s256(verifier),
      code_challenge_method: 'S256',
      ...(one(req.query.prompt) === 'login' ? { prompt: 'login' } : {}),
    }).toString();
    return reply.code(303).header('location', url.toString()).header('cache-control', 'no-store').send();
  });

  app.get<CallbackQuery>('/admin/callback', async (req, reply) => {
    const signIn = takeSignIn(deps, req, reply);
    const state = one(req.query.state);
    if (!signIn || state !== signIn.state) {
      return consoleMessage(
        reply,
        400,
        'This sign-in has expired',
        'The sign-in was started in another browser, took too long, or was already finished.',
      );
    }
    // RFC 9207: the response says which server sent it; only ours is expected here.
    if (one(req.query.iss) !== issuer) return consoleMessage(reply, 400, 'Sign-in failed', 'The answer did not come from this server.');
    const error = one(req.query.error);
    if (error !== undefined) {
      return consoleMessage(
        reply,
        error === 'access_denied' ? 403 : 400,
        'Sign-in was not completed',
        error === 'access_denied' ? 'The sign-in was cancelled.' : 'The sign-in could not be completed.',
      );
    }
    const code = one(req.query.code);
    if (code === undefined) return consoleMessage(reply, 400, 'Sign-in failed', 'The answer carried no authorization code.');
    const client = await deps.registry.client(CONSOLE_CLIENT_ID);
    if (!client) throw new Error('the built-in latchkey-console client is missing; restart the server to recreate it');
    const { verifier, nonce } = signInSecrets(deps, signIn.state);
    let idToken: string | undefined;
    try {
      const tokens = await authorizationCodeGrant.handle(
        {
          client,
          params: { code, redirect_uri: consoleRedirectUri(issuer), code_verifier: verifier, resource: [] },
          arrival: arrivalMark(),
          ip: req.ip,
        },
        deps.grantDeps,
      );
      idToken = tokens.id_token;
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      req.log.info({ error: err.code, detail: err.detail ?? err.description }, 'console sign-in refused');
      return consoleMessage(reply, 400, 'Sign-in failed', 'The sign-in could not be completed. Start again.');
    }
    // Our own ID token, issued in this process a moment ago: decoding is enough; the nonce ties
    // it to this browser's sign-in.
    const claims = idToken ? decodeJwt(idToken) : undefined;
    if (!claims || typeof claims.sub !== 'string' || claims.nonce !== nonce) {
      return consoleMessage(reply, 400, 'Sign-in failed', 'The sign-in could not be completed. Start again.');
    }
    const user = await deps.repos.users.findById(claims.sub);
    if (!user || !isAdmin(user)) {
      deps.events.emit({
        type: 'console.sign_in_refused',
        clientId: CONSOLE_CLIENT_ID,
        userId: claims.sub,
        ip: req.ip,
        details: { reason: 'not_admin' },
      });
      return renderPage(
        reply,
        'console/refused',
        { username: user?.username ?? '', switchUrl: '/admin/login?prompt=login' },
        { status: 403 },
      );
    }
    await startConsoleSession(deps, req, reply, user.id);
    deps.events.emit({ type: 'console.sign_in', clientId: CONSOLE_CLIENT_ID, userId: user.id, ip: req.ip });
    return reply.code(303).header('location', signIn.returnTo).header('cache-control', 'no-store').send();
  });

  /** Ends the console session only: the person stays signed in to their applications. */
  app.post<{ Body: Record<string, unknown> | undefined }>('/admin/logout', async (req, reply) => {
    const session = await readConsoleSession(deps, req);
    if (session) {
      checkConsoleCsrf(deps, session, req.body?.csrf);
      deps.events.emit({ type: 'console.sign_out', clientId: CONSOLE_CLIENT_ID, userId: session.userId, ip: req.ip });
    }
    await endConsoleSession(deps, req, reply);
    return renderPage(reply, 'console/signed-out', {});
  });
}

/** A console page with a title, a sentence and a way to start again. */
export function consoleMessage(reply: FastifyReply, status: number, title: string, message: string): Promise<FastifyReply> {
  return renderPage(reply, 'console/message', { title, message, status }, { status });
}

export type { FastifyRequest };
