import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface BenchDatabase {
  readonly name: string;
  /** Connection URL for the new database (same server and credentials as the admin URL). */
  readonly url: string;
  readonly serverVersion: string;
  drop(): Promise<void>;
}

export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Creates `latchkey_bench_<random>` through the admin connection. */
export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  const name = `latchkey_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`cannot connect to PostgreSQL at ${redact(adminUrl)} (set BENCH_DATABASE_URL): ${(err as Error).message}`, {
      cause: err,
    });
  }
  let serverVersion: string;
  try {
    serverVersion = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    serverVersion,
    async drop() {
      if (dropped) return;
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        // FORCE (PostgreSQL 13+) ends any connection a killed child may have left behind.
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        dropped = true;
      } finally {
        await c.end();
      }
    },
  };
}

export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
