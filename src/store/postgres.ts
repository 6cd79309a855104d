import pg from 'pg';
import type { Db, Queryable, QueryOptions, QueryResult } from './db.js';

export interface PostgresOptions {
  url: string;
  poolMax: number;
  statementTimeoutMs: number;
  onError?: ((err: Error) => void) | undefined;
}

/** Db over a pg.Pool, bounded in size and time so a sick database answers fast, not never. */
export function openPostgres(opts: PostgresOptions): Db {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolMax,
    connectionTimeoutMillis: Math.min(opts.statementTimeoutMs, 5000),
    idleTimeoutMillis: 30_000,
    statement_timeout: opts.statementTimeoutMs,
    query_timeout: opts.statementTimeoutMs + 1000,
    application_name: 'latchkey',
  });
  // An idle client losing its connection must not crash the process.
  pool.on('error', (err) => opts.onError?.(err));

  const wrap = (q: pg.Pool | pg.PoolClient): Queryable => ({
    async query<T>(sql: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult<T>> {
      const r = options?.name
        ? await q.query({ name: options.name, text: sql, values: params as unknown[] })
        : await q.query(sql, params as unknown[]);
      return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
    },
    async exec(sql: string): Promise<void> {
      await q.query(sql);
    },
  });
  return {
    kind: 'postgres',
    ...wrap(pool),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw err;
      } finally {
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
}
