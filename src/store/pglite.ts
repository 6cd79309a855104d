import { readFileSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { ensurePrivateDirectory, restrictTree } from '../platform/private-files.js';
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
 * message instead of hanging or corrupting (docs/contract.md CLI).
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

/**
 * Opens the embedded database in `dataDir`, which is made private first: mode 0700 (or start-up
 * stops saying why it cannot be), a 0077 umask for what PGlite creates from now on, and group and
 * other permissions taken off every file in it after opening and after closing. `onNotice`
 * hears when DATA_DIR itself had to be tightened.
 */
export async function openPglite(dataDir: string, onNotice: (message: string) => void = () => {}): Promise<Db> {
  const notice = ensurePrivateDirectory(dataDir);
  if (notice) onNotice(notice);
  const release = acquireLock(dataDir);
  // Process-wide on purpose: PGlite creates directories (and Postgres files) for as long as it
  // runs, and nothing this process writes needs to be readable by other users.
  process.umask(0o077);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(join(dataDir, 'pgdata'));
    // Routine, not news: PGlite writes some files 0644 or 0666 on every start.
    restrictTree(dataDir);
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
      try {
        await pglite.close();
        // Files Postgres wrote while running (WAL segments, relation files) lose group/other access too.
        restrictTree(dataDir);
      } finally {
        release();
      }
    },
  };
}
