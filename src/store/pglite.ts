import { mkdirSync, readFileSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { DatabaseBusyError, type Db, type Queryable, type QueryResult } from './db.js';

const LOCK_FILE = 'latchkey.lock';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite is one Postgres backend inside this process: a second process opening the same
 * directory would corrupt it. A pid lock file makes the second opener fail at once with a clear
 * message instead of hanging or corrupting (CONTRACT.md CLI).
 */
function acquireLock(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(pid) && pid !== process.pid && pidAlive(pid)) {
        throw new DatabaseBusyError(
          `the embedded database in ${dir} is in use by a running Latchkey process (pid ${pid}); ` +
            'stop that server first, or run Latchkey with DATABASE_URL so several processes can share one PostgreSQL',
        );
      }
      unlinkSync(path); // stale lock from a process that died
    }
  }
  throw new DatabaseBusyError(`could not lock the embedded database in ${dir}`);
}

export async function openPglite(dataDir: string): Promise<Db> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const release = acquireLock(dataDir);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(join(dataDir, 'pgdata'));
  } catch (err) {
    release();
    throw err;
  }
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): Queryable => ({
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      const r = await q.query<T>(sql, params);
      // PGlite reports affectedRows 0 for a SELECT: count rows when the statement returns them.
      return { rows: r.rows, rowCount: r.fields.length > 0 ? r.rows.length : (r.affectedRows ?? 0) };
    },
    async exec(sql: string): Promise<void> {
      await q.exec(sql);
    },
  });
  return {
    kind: 'pglite',
    ...wrap(pglite),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) => pglite.transaction((tx) => fn(wrap(tx))),
    async close() {
      await pglite.close();
      release();
    },
  };
}
