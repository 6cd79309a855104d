/**
 * One small interface over PostgreSQL: `pg.Pool` for a server, PGlite for the embedded database.
 * Repositories see only `Queryable`; all SQL lives under src/store/.
 */
export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

/** The row of a statement that always returns exactly one (an aggregate, INSERT … RETURNING). */
export function onlyRow<T>(r: QueryResult<T>): T {
  const [row] = r.rows;
  if (row === undefined) throw new Error('the statement returned no row');
  return row;
}

export interface QueryOptions {
  /**
   * Runs the statement as a named prepared statement on PostgreSQL, so each connection parses and
   * plans it once, not on every call: for the hot path's statements, whose planning costs more
   * than their execution (the refresh rotation's CTE: ~0.6 ms of server CPU per call unnamed, see
   * README "Benchmarks"). One name per SQL text. The statement must list its result columns (no
   * `*`): a prepared `SELECT *` fails with "cached plan must not change result type" once a
   * migration adds a column under a running server. PGlite ignores it.
   */
  name?: string;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult<T>>;
  /** Runs a script of several statements with no parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs fn inside BEGIN … COMMIT on one connection; rolls back when fn throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Thrown when the embedded database directory is held by another running process. */
export class DatabaseBusyError extends Error {
  override name = 'DatabaseBusyError';
  /** Stable, for logs and callers (the message may change). */
  readonly code = 'database_busy';
}

/**
 * True for errors that mean "the database is not reachable right now" rather than "your query
 * is wrong": they answer 503 temporarily_unavailable, never 500.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)) return true;
  // SQLSTATE classes 08 (connection exception), 53 (insufficient resources), 57P (operator
  // intervention: admin shutdown, cannot connect now), and 57014 (statement timeout).
  if (/^(08|53|57P)/.test(code) || code === '57014') return true;
  const msg = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection timeout|Cannot use a pool after calling end|^PGlite is closed/i.test(
    msg,
  );
}

/** Readiness: resolves when the database answers a trivial query (the SQL stays in store/). */
export async function pingDatabase(db: Pick<Queryable, 'query'>): Promise<void> {
  await db.query('SELECT 1');
}
