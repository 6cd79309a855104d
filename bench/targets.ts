/**
 * The servers the bench measures. Each runs in its own child process (Latchkey compiled, as
 * `npm start` runs it: `node --enable-source-maps dist/main.js`; the others through tsx),
 * provisioned from the merged scenario fixtures.
 *
 *   latchkey            Latchkey on PostgreSQL, WORKERS=1: one process (the subject)
 *   latchkey-workers2   the same with WORKERS=2 (node:cluster: a primary and two workers)
 *   oidc-provider       node-oidc-provider 9, in-memory storage (memory-adapter.ts)
 *   oidc-provider-pg    node-oidc-provider 9 on PostgreSQL (postgres-adapter.ts), own database
 *   sign-ceiling        a bare Fastify route that signs one ES256 JWT with crypto.sign: the ceiling
 *   bare-fastify        a bare Fastify route returning constant JSON: a reference row
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
import { processCount } from './lib/load.js';
import { createBenchDatabase } from './lib/postgres.js';
import { toLatchkeyBootstrap, type Fixtures } from './fixtures.js';

export type TargetId = 'latchkey' | 'latchkey-workers2' | 'oidc-provider' | 'oidc-provider-pg' | 'sign-ceiling' | 'bare-fastify';

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
  /** For the tables; a target may make it more precise once started (what actually ran). */
  label: string;
  /**
   * 'subject': Latchkey as shipped, compared with every other target; 'variant': Latchkey
   * configured otherwise (compared where a goal says); 'competitor': another OAuth server;
   * 'ceiling': no OAuth work beyond what every token costs, bounding what any server could reach
   * here; 'reference': less than that, for orientation.
   */
  readonly role: 'subject' | 'variant' | 'competitor' | 'ceiling' | 'reference';
  /** Works on PostgreSQL: the machine's PostgreSQL CPU during its runs is its cost (else not shown). */
  readonly postgres?: boolean;
  start(ctx: TargetContext): Promise<RunningTarget>;
}

/**
 * Latchkey with `WORKERS=workers`. WORKERS is always set, since its default with DATABASE_URL is
 * the number of CPUs. How many processes really serve is read from /proc once it is ready (a
 * build without the setting ignores it and runs one), and said in the label and details.
 */
function latchkeyTarget(id: TargetId, label: string, role: Target['role'], workers: number): Target {
  const target: Target = {
    id,
    label,
    role,
    postgres: true,
    async start(ctx) {
      const db = await createBenchDatabase(ctx.adminDatabaseUrl);
      ctx.teardown.add(`drop database ${db.name}`, () => db.drop());
      const bootstrap = join(ctx.tmpDir, `${id}-bootstrap.json`);
      writeFileSync(bootstrap, JSON.stringify(toLatchkeyBootstrap(ctx.fixtures), null, 2), { mode: 0o600 });
      const port = await freePort();
      const child = spawnChild(
        label,
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
            WORKERS: String(workers),
            // The code and refresh scenarios mint their codes before measuring; the default 60 s
            // lifetime would expire them before the last round. 600 s is the most Latchkey allows.
            AUTHORIZATION_CODE_TTL: '600',
            // autocannon keeps sending on a connection after the response that says
            // `Connection: close`; past MAX_REQUESTS_PER_SOCKET Node answers those 503 (a real
            // client reconnects). At 4,000+ req/s over 20 connections a 5 s round passes 1,000.
            MAX_REQUESTS_PER_SOCKET: '0',
            // Every request of the bench comes from 127.0.0.1: the per-address cap on pending
            // sign-ins (200) would refuse the login scenario's stock of interactions.
            AUTHORIZATION_REQUEST_LIMIT_IP: '1000000',
          }),
        },
      );
      ctx.teardown.add(`stop ${label}`, () => child.stop());
      const baseUrl = `http://127.0.0.1:${port}`;
      await waitForHttp200(`${baseUrl}/readyz`, child);
      // With node:cluster the primary forks its workers; the first may answer before the others are up.
      const wanted = workers > 1 ? workers + 1 : 1;
      let processes = processCount(child.pid);
      for (let i = 0; i < 50 && processes < wanted; i++) {
        await new Promise((r) => setTimeout(r, 200));
        processes = processCount(child.pid);
      }
      const serving = processes > 1 ? processes - 1 : 1; // a primary with workers serves through the workers
      let ran = processes > 1 ? `${processes} processes (a primary and ${serving} workers)` : 'one process';
      if (workers > 1 && processes < wanted) {
        ran += ` — WORKERS=${workers} had no effect: this build ${processes === 1 ? 'has no WORKERS setting' : 'started fewer workers'}`;
        target.label = `${label} (ran ${processes === 1 ? 'one process' : `${serving} workers`})`;
      }
      return {
        baseUrl,
        details: `PostgreSQL ${db.serverVersion} (fresh database ${db.name}), WORKERS=${workers}: ${ran}; default settings except AUTHORIZATION_CODE_TTL=600, MAX_REQUESTS_PER_SOCKET=0 (no per-connection cap), AUTHORIZATION_REQUEST_LIMIT_IP=1000000 (one load-generator address)`,
        child,
        async stop() {
          await child.stop();
          await db.drop();
        },
      };
    },
  };
  return target;
}

const latchkey = latchkeyTarget('latchkey', 'Latchkey', 'subject', 1);
const latchkeyWorkers2 = latchkeyTarget('latchkey-workers2', 'Latchkey WORKERS=2', 'variant', 2);

function oidcProviderTarget(id: TargetId, label: string, storage: 'memory' | 'postgres'): Target {
  return {
    id,
    label,
    role: 'competitor',
    postgres: storage === 'postgres',
    async start(ctx) {
      const fixtures = join(ctx.tmpDir, `${id}-fixtures.json`);
      writeFileSync(fixtures, JSON.stringify(ctx.fixtures), { mode: 0o600 });
      let db: Awaited<ReturnType<typeof createBenchDatabase>> | undefined;
      if (storage === 'postgres') {
        db = await createBenchDatabase(ctx.adminDatabaseUrl);
        const created = db;
        ctx.teardown.add(`drop database ${db.name}`, () => created.drop());
      }
      const port = await freePort();
      const child = spawnChild(label, ['--import', 'tsx', 'bench/servers/oidc-provider-server.ts'], {
        cwd: ctx.repoRoot,
        env: childEnv(process.env, {
          PORT: String(port),
          BENCH_FIXTURES: fixtures,
          BENCH_STORAGE: storage,
          ...(db ? { DATABASE_URL: db.url } : {}),
        }),
      });
      ctx.teardown.add(`stop ${label}`, () => child.stop());
      const baseUrl = `http://127.0.0.1:${port}`;
      await waitForHttp200(`${baseUrl}/.well-known/openid-configuration`, child);
      const version = (createRequire(import.meta.url)('oidc-provider/package.json') as { version: string }).version;
      const where = db
        ? `PostgreSQL ${db.serverVersion} (fresh database ${db.name}; bench adapter over pg: one JSONB table keyed by model and id, prepared statements, a pool of 10, every write committed)`
        : "in-memory storage (bench adapter without the built-in one's 1,000-entry LRU cap)";
      return {
        baseUrl,
        details: `oidc-provider ${version}, ${where}, JWT access tokens (ES256), codes live 600 s, refresh tokens rotate on every use`,
        child,
        async stop() {
          await child.stop();
          await db?.drop();
        },
      };
    },
  };
}

const oidcProvider = oidcProviderTarget('oidc-provider', 'node-oidc-provider', 'memory');
const oidcProviderPg = oidcProviderTarget('oidc-provider-pg', 'node-oidc-provider on PostgreSQL', 'postgres');

const signCeiling: Target = {
  id: 'sign-ceiling',
  label: 'signing ceiling',
  role: 'ceiling',
  async start(ctx) {
    const port = await freePort();
    const child = spawnChild('signing ceiling', ['--import', 'tsx', 'bench/servers/sign-ceiling-server.ts'], {
      cwd: ctx.repoRoot,
      env: childEnv(process.env, { PORT: String(port) }),
    });
    ctx.teardown.add('stop signing ceiling', () => child.stop());
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForHttp200(`${baseUrl}/readyz`, child);
    return {
      baseUrl,
      details:
        'Fastify 5 + @fastify/formbody, POST /token signs one RFC 9068 ES256 JWT (crypto.sign over a KeyObject, ieee-p1363) and nothing else: no client authentication, no storage',
      child,
      stop: () => child.stop(),
    };
  },
};

const bareFastify: Target = {
  id: 'bare-fastify',
  label: 'bare Fastify route',
  role: 'reference',
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
export const TARGETS: readonly Target[] = [latchkey, latchkeyWorkers2, oidcProvider, oidcProviderPg, signCeiling, bareFastify];

export function targetById(id: TargetId): Target {
  const t = TARGETS.find((x) => x.id === id);
  if (!t) throw new Error(`unknown target ${id}`);
  return t;
}
