/**
 * The admin console at /admin (issue 14 items 7–10): server-rendered Eta pages (views/console/),
 * one small stylesheet served from here, no script, nothing from elsewhere. Every page carries the
 * sign-in pages' headers (interaction/pages.ts: CSP frame-ancestors 'none', X-Frame-Options DENY,
 * no-store); every POST checks a CSRF token bound to the console session; every page but the
 * sign-in ones needs a live console session of a user who has the `admin` role — checked on every
 * request, so taking the role away (or deleting the user) shuts the door at once.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyError, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthorizationCodeDeps } from '../../grants/authorization-code.js';
import { classifyError } from '../../endpoints/error-classifier.js';
import { renderPage } from '../../interaction/pages.js';
import { keyStatus } from '../../keys/lifecycle.js';
import { consoleCsrf, isAdmin, type ConsoleDeps, type Operator } from './deps.js';
import { endConsoleSession, readConsoleSession } from './session.js';
import { consoleMessage, signInRoutes } from './sign-in.js';
import { appRoutes, layoutData } from './apps.js';

export type ConsoleOptions = ConsoleDeps & { grantDeps: AuthorizationCodeDeps };

export const CONSOLE_STYLESHEET = '/admin/assets/console.css';
const STYLESHEET_FILE = fileURLToPath(new URL('../../../views/assets/console.css', import.meta.url));

/** Paths open without a console session: the sign-in itself and the stylesheet. */
const OPEN_PATHS = new Set(['/admin/login', '/admin/callback', '/admin/logout', CONSOLE_STYLESHEET]);

export const consolePlugin: FastifyPluginCallback<ConsoleOptions> = (app, opts, done) => {
  const deps = { ...opts, consoleSessions: opts.repos.consoleSessions };
  /** The operator of each request, set by the guard below (per plugin instance: no module state). */
  const operators = new WeakMap<object, Operator>();
  const operatorOf = (req: object): Operator => {
    const op = operators.get(req);
    if (!op) throw new Error('console route reached without the console guard');
    return op;
  };

  app.setErrorHandler(async (error: FastifyError | Error, req, reply) => {
    const c = classifyError(error, { bodyLimit: deps.config.bodyLimit, requestId: req.id });
    if (c.log === 'error') req.log.error({ err: error }, c.logMessage ?? 'unexpected error');
    return renderPage(
      reply,
      'console/message',
      { title: c.page.title, message: c.page.message, status: c.page.status, requestId: req.id },
      { status: c.page.status },
    );
  });

  const css = readFileSync(STYLESHEET_FILE);
  const etag = `"${createHash('sha256').update(css).digest('base64url').slice(0, 22)}"`;
  app.get(CONSOLE_STYLESHEET, async (_req, reply) =>
    reply.headers({ 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600', etag }).send(css),
  );

  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?', 1)[0] ?? req.url;
    if (OPEN_PATHS.has(path)) return;
    const session = await readConsoleSession(deps, req);
    if (!session) {
      if (req.method === 'GET' || req.method === 'HEAD') {
        return reply
          .code(303)
          .header('location', `/admin/login?return=${encodeURIComponent(path)}`)
          .header('cache-control', 'no-store')
          .send();
      }
      return consoleMessage(reply, 401, 'Your console session has ended', 'Sign in again, then repeat what you were doing.');
    }
    const user = await deps.repos.users.findById(session.userId);
    if (!user || !isAdmin(user)) {
      await endConsoleSession(deps, req, reply);
      return renderPage(
        reply,
        'console/refused',
        { username: user?.username ?? '', switchUrl: '/admin/login?prompt=login' },
        { status: 403 },
      );
    }
    operators.set(req, { user, session, csrf: consoleCsrf(deps, session) });
  });

  signInRoutes(app, deps);

  app.get('/admin', async (req, reply) => {
    const op = operatorOf(req);
    const now = deps.clock.now();
    const [clients, users, keys] = await Promise.all([deps.repos.clients.list(), deps.repos.users.list(), deps.repos.keys.listAll()]);
    return renderPage(reply, 'console/dashboard', {
      ...layoutData(op, 'dashboard', 'Dashboard'),
      counts: { clients: clients.length, users: users.length, admins: users.filter(isAdmin).length },
      keys: keys
        .map((k) => ({
          kid: k.kid,
          alg: k.alg,
          status: keyStatus(k, now, keys),
          activeFrom: k.active_from.toISOString(),
          publishUntil: k.publish_until?.toISOString() ?? '',
        }))
        .filter((k) => k.status !== 'expired'),
    });
  });

  appRoutes(app, deps, operatorOf);
  done();
};
