import type { Config } from '../config.js';
import type { Db } from './db.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

/**
 * DATABASE_URL set: a PostgreSQL server; unset: the embedded PGlite under DATA_DIR. `onNotice`
 * hears what was changed to keep DATA_DIR private (worth a warning in the log).
 */
export function openDb(config: Config, onError?: (err: Error) => void, onNotice?: (message: string) => void): Promise<Db> {
  if (config.databaseUrl) {
    return Promise.resolve(
      openPostgres({
        url: config.databaseUrl,
        poolMax: config.dbPoolMax,
        statementTimeoutMs: config.dbStatementTimeoutMs,
        onError,
      }),
    );
  }
  return openPglite(config.dataDir, onNotice);
}
