/**
 * One Latchkey process on a fresh PostgreSQL database, provisioned from a bootstrap file with what
 * the soak needs: a service client (client_credentials), a first-party web client (authorization
 * code + refresh tokens, skip_consent so no consent page), one resource and one user.
 * Reuses the bench helpers (read-only imports) for the child process, the database and cleanup.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { spawnChild, waitForHttp200, type ChildHandle } from '../bench/lib/child.js';
import { childEnv } from '../test/support/env.js';
import { freePort } from '../test/support/ports.js';
import type { Teardown } from '../test/support/teardown.js';
import { createBenchDatabase } from '../bench/lib/postgres.js';

export const API = 'https://api.example.com';
export const CALLBACK = 'http://127.0.0.1:8080/cb';

export interface Credentials {
  svc: { id: string; secret: string };
  web: { id: string; secret: string };
  user: { username: string; password: string };
}

export interface RunningServer {
  baseUrl: string;
  child: ChildHandle;
  databaseName: string;
  serverVersion: string;
  creds: Credentials;
  /** VmRSS of the server process in kB, from /proc/PID/status; undefined once it is gone. */
  rssKb(): number | undefined;
  /** Size of the soak's database in bytes. */
  databaseBytes(): Promise<number>;
  stop(): Promise<void>;
}

export function readRssKb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function startLatchkey(opts: {
  repoRoot: string;
  tmpDir: string;
  adminDatabaseUrl: string;
  /** Gets the steps that stop the server and drop its database, however the run ends. */
  teardown: Teardown;
}): Promise<RunningServer> {
  const secret = () => randomBytes(32).toString('base64url');
  const creds: Credentials = {
    svc: { id: 'soak-svc', secret: secret() },
    web: { id: 'soak-web', secret: secret() },
    user: { username: 'soak-user', password: secret() },
  };
  const bootstrap = {
    resources: [{ identifier: API, scopes: ['api:read', 'api:write'] }],
    clients: [
      {
        client_id: creds.svc.id,
        client_secret: creds.svc.secret,
        client_name: 'soak service',
        grant_types: ['client_credentials'],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'api:read',
        audiences: [API],
      },
      {
        client_id: creds.web.id,
        client_secret: creds.web.secret,
        client_name: 'soak web app',
        redirect_uris: [CALLBACK],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile offline_access api:read',
        audiences: [API],
        skip_consent: true,
      },
    ],
    users: [{ username: creds.user.username, password: creds.user.password, claims: { name: 'Soak User' } }],
  };

  const db = await createBenchDatabase(opts.adminDatabaseUrl).catch((err: unknown) => {
    throw new Error((err instanceof Error ? err.message : String(err)).replace('BENCH_DATABASE_URL', 'SOAK_DATABASE_URL'), { cause: err });
  });
  opts.teardown.add(`drop database ${db.name}`, () => db.drop());
  const bootstrapFile = join(opts.tmpDir, 'latchkey-bootstrap.json');
  writeFileSync(bootstrapFile, JSON.stringify(bootstrap, null, 2), { mode: 0o600 });
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawnChild('Latchkey', ['--enable-source-maps', 'dist/main.js'], {
    cwd: opts.repoRoot,
    env: childEnv(process.env, {
      PORT: String(port),
      HOST: '127.0.0.1',
      ISSUER: baseUrl,
      DATABASE_URL: db.url,
      LATCHKEY_SECRET: randomBytes(36).toString('base64url'), // 48 characters
      LATCHKEY_BOOTSTRAP: bootstrapFile,
      LOG_LEVEL: 'warn',
    }),
  });
  opts.teardown.add('stop Latchkey', () => child.stop());
  await waitForHttp200(`${baseUrl}/readyz`, child);
  return {
    baseUrl,
    child,
    databaseName: db.name,
    serverVersion: db.serverVersion,
    creds,
    rssKb: () => (child.pid !== undefined && !child.exitInfo() ? readRssKb(child.pid) : undefined),
    async databaseBytes() {
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        const r = await c.query<{ n: string }>('SELECT pg_database_size(current_database())::text AS n');
        return Number(r.rows[0]!.n);
      } finally {
        await c.end();
      }
    },
    async stop() {
      await child.stop();
      await db.drop();
    },
  };
}
