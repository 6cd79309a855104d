/**
 * The servers the bench measures. Each runs in its own child process (Latchkey compiled, as
 * `npm start` runs it: `node --enable-source-maps dist/main.js`; the competitors through tsx),
 * provisioned from the merged scenario fixtures; autocannon runs in the bench process.
 *
 * To add a target: give it an id in TargetId, an entry in TARGETS, and list it in the scenarios
 * that should measure it.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { spawnChild, waitForHttp200, type ChildHandle } from './lib/child.js';
import { childEnv } from '../test/support/env.js';
import { freePort } from '../test/support/ports.js';
import type { Teardown } from '../test/support/teardown.js';
import { createBenchDatabase } from './lib/postgres.js';
import { toLatchkeyBootstrap, type Fixtures } from './fixtures.js';

export type TargetId = 'latchkey' | 'oidc-provider' | 'bare-fastify';

export interface TargetContext {
  /** The repository root (the children's working directory). */
  repoRoot: string;
  /** A private temporary directory for this run, removed at the end. */
  tmpDir: string;
  fixtures: Fixtures;
  /** Admin URL of the PostgreSQL server the Latchkey target creates its database on. */
  adminDatabaseUrl: string;
  /** Where a target registers what must be undone however the run ends (stop the child, drop the database). */
  teardown: Teardown;
}

export interface RunningTarget {
  readonly baseUrl: string;
  /** One line for the report, e.g. which database or signing algorithm is in play. */
  readonly details: string;
  readonly child: ChildHandle;
  /** Stops the process and releases what start() created. Idempotent. */
  stop(): Promise<void>;
}

export interface Target {
  readonly id: TargetId;
  readonly label: string;
  /** 'ceiling' targets do no OAuth work; they bound what any server could reach here. */
  readonly role: 'subject' | 'competitor' | 'ceiling';
  start(ctx: TargetContext): Promise<RunningTarget>;
}

const latchkey: Target = {
  id: 'latchkey',
  label: 'Latchkey',
  role: 'subject',
  async start(ctx) {
    const db = await createBenchDatabase(ctx.adminDatabaseUrl);
    ctx.teardown.add(`drop database ${db.name}`, () => db.drop());
    const bootstrap = join(ctx.tmpDir, 'latchkey-bootstrap.json');
    writeFileSync(bootstrap, JSON.stringify(toLatchkeyBootstrap(ctx.fixtures), null, 2), { mode: 0o600 });
    const port = await freePort();
    const child = spawnChild(
      'Latchkey',
      [...(process.env.BENCH_LATCHKEY_NODE_ARGS ?? '').split(' ').filter(Boolean), '--enable-source-maps', 'dist/main.js'],
      {
        cwd: ctx.repoRoot,
        env: childEnv(process.env, {
          PORT: String(port),
          HOST: '127.0.0.1',
          DATABASE_URL: db.url,
          LATCHKEY_SECRET: randomBytes(36).toString('base64url'), // 48 characters
          LATCHKEY_BOOTSTRAP: bootstrap,
          LOG_LEVEL: 'warn',
          // The code and refresh scenarios mint their codes before measuring; the default 60 s
          // lifetime would expire them before the last round. 600 s is the most Latchkey allows.
          AUTHORIZATION_CODE_TTL: '600',
        }),
      },
    );
    ctx.teardown.add('stop Latchkey', () => child.stop());
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForHttp200(`${baseUrl}/readyz`, child);
    return {
      baseUrl,
      details: `PostgreSQL ${db.serverVersion} (fresh database ${db.name}), default settings except AUTHORIZATION_CODE_TTL=600`,
      child,
      async stop() {
        await child.stop();
        await db.drop();
      },
    };
  },
};

const oidcProvider: Target = {
  id: 'oidc-provider',
  label: 'node-oidc-provider',
  role: 'competitor',
  async start(ctx) {
    const fixtures = join(ctx.tmpDir, 'oidc-provider-fixtures.json');
    writeFileSync(fixtures, JSON.stringify(ctx.fixtures), { mode: 0o600 });
    const port = await freePort();
    const child = spawnChild('node-oidc-provider', ['--import', 'tsx', 'bench/servers/oidc-provider-server.ts'], {
      cwd: ctx.repoRoot,
      env: childEnv(process.env, { PORT: String(port), BENCH_FIXTURES: fixtures }),
    });
    ctx.teardown.add('stop node-oidc-provider', () => child.stop());
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForHttp200(`${baseUrl}/.well-known/openid-configuration`, child);
    const version = (createRequire(import.meta.url)('oidc-provider/package.json') as { version: string }).version;
    return {
      baseUrl,
      details: `oidc-provider ${version}, in-memory storage (bench adapter without the built-in one's 1,000-entry LRU cap), JWT access tokens (ES256), codes live 600 s, refresh tokens rotate on every use`,
      child,
      stop: () => child.stop(),
    };
  },
};

const bareFastify: Target = {
  id: 'bare-fastify',
  label: 'bare Fastify route',
  role: 'ceiling',
  async start(ctx) {
    const port = await freePort();
    const child = spawnChild('bare Fastify', ['--import', 'tsx', 'bench/servers/bare-fastify-server.ts'], {
      cwd: ctx.repoRoot,
      env: childEnv(process.env, { PORT: String(port) }),
    });
    ctx.teardown.add('stop bare Fastify', () => child.stop());
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForHttp200(`${baseUrl}/readyz`, child);
    return {
      baseUrl,
      details: 'Fastify 5 + @fastify/formbody, POST /token returns a constant JSON body',
      child,
      stop: () => child.stop(),
    };
  },
};

/** In the order they are started. Each scenario's `targets` orders its table and its first round. */
export const TARGETS: readonly Target[] = [latchkey, oidcProvider, bareFastify];

export function targetById(id: TargetId): Target {
  const t = TARGETS.find((x) => x.id === id);
  if (!t) throw new Error(`unknown target ${id}`);
  return t;
}
