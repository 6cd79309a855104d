import { rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { createAppContext, type AppContext } from '../../src/app.js';
import { applyBootstrap, bootstrapSchema } from '../../src/bootstrap.js';
import { PasswordHasher, passwordHashParameters } from '../../src/users/password.js';
import type { Clock } from '../../src/clock.js';
import type { SecurityEvents } from '../../src/observability/security-events.js';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/server.js';
import type { GrantTable } from '../../src/grants/index.js';
import { freePort } from '../support/ports.js';
import { freshPgliteDataDir } from './pglite-template.js';

export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123456789';

// Moved to test/support/ (shared with bench/ and soak/); re-exported for tests written against this path.
export { freePort };
export { basicAuth as basic } from '../support/basic-auth.js';

/**
 * A database for one test server: a fresh PostgreSQL database on the DATABASE_URL server when
 * that is set (so test files never see each other's rows), else a fresh embedded data dir (a copy
 * of a just-initialised cluster: see pglite-template.ts).
 */
export async function freshDatabaseEnv(): Promise<{ env: Record<string, string>; drop: () => Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (base) {
    const name = `latchkey_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(base);
    url.pathname = `/${name}`;
    return {
      env: { DATABASE_URL: url.toString(), LATCHKEY_SECRET: process.env.LATCHKEY_SECRET ?? TEST_SECRET },
      drop: async () => {
        const c = new pg.Client({ connectionString: base });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      },
    };
  }
  const dir = await freshPgliteDataDir();
  return {
    env: { DATA_DIR: dir },
    drop: () => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

export interface TestServer {
  url: string;
  dbEnv: Record<string, string>;
  issuer: string;
  ctx: AppContext;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Starts the real server (real database, real keys) on a random loopback port. */
export async function startServer(
  opts: {
    bootstrap?: unknown;
    env?: Record<string, string>;
    clock?: Clock;
    shareDatabaseWith?: TestServer;
    /** Where the server's security events go (e.g. collectSecurityEvents(), to assert on them). */
    events?: SecurityEvents;
    /** A grant registry other than the built-in one (a test's extra grant). */
    grants?: GrantTable;
    /** A logger to read the server's log lines (e.g. an error's private detail); none by default. */
    logger?: FastifyBaseLogger;
    /** Rewrites the fresh database's DATABASE_URL (e.g. through a proxy that counts round trips). */
    databaseUrl?: (url: string) => string;
  } = {},
): Promise<TestServer> {
  const port = await freePort();
  // A second server on the same PostgreSQL database: another Latchkey process, as in production.
  const db = opts.shareDatabaseWith ? { env: opts.shareDatabaseWith.dbEnv, drop: async () => {} } : await freshDatabaseEnv();
  const config = loadConfig({
    PORT: String(port),
    ISSUER: `http://127.0.0.1:${port}`,
    LOG_LEVEL: 'silent',
    JWKS_URI_ALLOW_PRIVATE: 'true',
    ...db.env,
    ...(opts.databaseUrl && db.env.DATABASE_URL ? { DATABASE_URL: opts.databaseUrl(db.env.DATABASE_URL) } : {}),
    ...opts.env,
  });
  const ctx = await createAppContext(config, {
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.events ? { events: opts.events } : {}),
    ...(opts.grants ? { grants: opts.grants } : {}),
  });
  if (opts.bootstrap)
    await applyBootstrap(
      ctx.db,
      ctx.secrets,
      bootstrapSchema.parse(opts.bootstrap),
      new PasswordHasher(passwordHashParameters(ctx.config)),
    );
  const app = await buildServer(ctx, { logger: opts.logger ?? false, ...(opts.grants ? { grants: opts.grants } : {}) });
  await app.listen({ port, host: '127.0.0.1' });
  return {
    url: `http://127.0.0.1:${port}`,
    dbEnv: db.env,
    issuer: config.issuer,
    ctx,
    app,
    async close() {
      await app.close();
      await ctx.db.close();
      await db.drop();
    },
  };
}

/**
 * A parsed JSON response body. Tests read its members directly, as they do what fetch's
 * Response.json() returns (typed any): the assertions on them are the checks (eslint.config.js).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonBody = any;

/** POST a form and return status, headers and parsed JSON (or text). */
export async function postForm(
  url: string,
  form: Record<string, string | string[]> | string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: JsonBody }> {
  let body: string;
  if (typeof form === 'string') body = form;
  else {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
    body = p.toString();
  }
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : '';
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/**
 * A logger whose JSON lines a test can read: `detail(requestId)` is the private detail the server
 * logged for a refused request (an invalid_client's reason, which its response does not say).
 */
export function capturingLogger(): { logger: FastifyBaseLogger; detail(requestId: string | null): string | undefined } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return {
    logger,
    detail: (requestId) => {
      const line = lines.find((l) => l.reqId === requestId && typeof l.detail === 'string');
      return line?.detail as string | undefined;
    },
  };
}
