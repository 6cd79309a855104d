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
import type { AuditEventRecord } from '../../store/repositories/audit-events.js';
import { consoleCsrf, isAdmin, type ConsoleDeps, type Operator } from './deps.js';
import { endConsoleSession, readConsoleSession } from './session.js';
import { consoleMessage, signInRoutes } from './sign-in.js';
import { appRoutes, layoutData } from './apps.js';
import { keyRoutes } from './keys.js';
import { resourceRoutes } from './resources.js';
import { trustedIssuerRoutes } from './trusted-issuers.js';
import { userRoutes } from './users.js';

const EVENTS_PAGE = 50;

/** An audit event as a table row: who, what, on what, and the details as compact JSON. */
function eventRow(e: AuditEventRecord) {
  const who = [e.actor.sub ? `user ${e.actor.sub}` : '', e.actor.client_id ? `client ${e.actor.client_id}` : '', e.actor.ip ?? '']
    .filter(Boolean)
    .join(' · ');
  const detail = JSON.stringify(e.detail);
  return {
    id: e.id,
    time: e.time.toISOString().replace('T', ' ').slice(0, 19),
    type: e.type,
    actor: who || '—',
    target: e.target ? `${e.target.type} ${e.target.id}` : '—',
    detail: detail === '{}' ? '' : detail.length > 300 ? `${detail.slice(0, 300)}…` : detail,
  };
}

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
    const [clients, users, keys, events] = await Promise.all([
      deps.repos.clients.list(),
      deps.repos.users.list(),
      deps.repos.keys.listAll(),
      deps.services.events.list({ limit: 10 }),
    ]);
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
      events: events.slice(0, 10).map(eventRow),
    });
  });

  /** Audit events, newest first, filtered like GET /admin/api/v1/events; 50 a page. */
  app.get<{ Querystring: Record<string, string | undefined> }>('/admin/events', async (req, reply) => {
    const op = operatorOf(req);
    const q = req.query;
    const field = (name: string) => {
      const v = q[name];
      return typeof v === 'string' && v.trim() && v.length <= 255 ? v.trim() : undefined;
    };
    const after = field('after');
    const page = await deps.services.events.list({
      type: field('type'),
      subject: field('subject'),
      clientId: field('client_id'),
      ...(after && /^\d{1,19}$/.test(after) ? { after } : {}),
      limit: EVENTS_PAGE,
    });
    const rows = page.slice(0, EVENTS_PAGE);
    const filters = { type: field('type') ?? '', subject: field('subject') ?? '', client_id: field('client_id') ?? '' };
    const last = rows.at(-1);
    const next =
      page.length > EVENTS_PAGE && last
        ? `/admin/events?${new URLSearchParams({ ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)), after: last.id }).toString()}`
        : undefined;
    return renderPage(reply, 'console/events', { ...layoutData(op, 'events', 'Audit events'), filters, events: rows.map(eventRow), next });
  });

  appRoutes(app, deps, operatorOf);
  keyRoutes(app, deps, operatorOf);
  resourceRoutes(app, deps, operatorOf);
  trustedIssuerRoutes(app, deps, operatorOf);
  userRoutes(app, deps, operatorOf);
  done();
};
