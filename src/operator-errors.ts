import { ConfigError } from './config.js';
import { KeyDecryptionError } from './keys/encryption.js';
import { DataDirError } from './platform/private-files.js';
import { DatabaseBusyError, isDatabaseUnavailable } from './store/db.js';

/**
 * Failures an operator can fix — a setting, a file, a port, the database — each described in one
 * line that names the setting and says what to do. The server (exit 78 for configuration, else 1)
 * and the CLI print these; anything else is a bug, and its stack trace is worth having.
 */

/** A start-up failure whose message is already the one line to print. */
export class StartupError extends Error {
  override name = 'StartupError';
  /** Stable, for logs and callers (the message may change). */
  readonly code = 'startup_failed';
}

/** The `name` of errors whose message is already written for an operator (classes of modules loaded lazily). */
const OPERATOR_ERROR_NAMES = new Set(['BootstrapError']);

function describe(err: Error): string {
  // net.connect to a host with several addresses fails with an AggregateError whose message is empty.
  if (!err.message && err instanceof AggregateError) {
    return err.errors.map((e: unknown) => (e instanceof Error ? describe(e) : String(e))).join(', ');
  }
  const code = (err as { code?: unknown }).code;
  return err.message || (typeof code === 'string' ? code : err.name);
}

/** SQLSTATE classes of a database that answered but refused us: 28 invalid authorization, 3D no such database. */
const REFUSED = /^(28|3D)/;

/** One line for an error an operator can act on, or undefined for a bug. */
export function operatorMessage(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  if (
    err instanceof StartupError ||
    err instanceof ConfigError ||
    err instanceof DataDirError ||
    err instanceof DatabaseBusyError ||
    err instanceof KeyDecryptionError ||
    OPERATOR_ERROR_NAMES.has(err.name)
  ) {
    return err.message;
  }
  const code = (err as { code?: unknown }).code;
  // The URL is not repeated: it may hold a password.
  // 57014 query_canceled: DB_STATEMENT_TIMEOUT_MS ran out (or someone ran pg_cancel_backend): the
  // database was reached, so "cannot reach" would send the operator to check the wrong thing.
  if (code === '57014') {
    return `the database cancelled a statement (it ran longer than DB_STATEMENT_TIMEOUT_MS, or an operator cancelled it): ${describe(err)}`;
  }
  if (isDatabaseUnavailable(err)) return `cannot reach the database (DATABASE_URL): ${describe(err)}`;
  if (typeof code === 'string' && REFUSED.test(code)) return `the database refused the connection (DATABASE_URL): ${describe(err)}`;
  return undefined;
}

/** Where a listener was to listen, named by the settings that chose it. */
export interface ListenTarget {
  portSetting: string;
  hostSetting: string;
  port: number;
  host: string;
}

/** A failed listen() as one line naming PORT/HOST (or METRICS_PORT/METRICS_HOST) and what to do. */
export function listenFailure(err: unknown, t: ListenTarget): StartupError | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  const where = `${t.portSetting}=${t.port} on ${t.hostSetting}=${t.host}`;
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError(
        `${where}: the port is already in use; stop the process listening there, or set ${t.portSetting} to a free port`,
      );
    case 'EACCES':
      return new StartupError(
        `${where}: not allowed to listen on this port; use a port above 1023 (with a proxy in front), or grant the process CAP_NET_BIND_SERVICE`,
      );
    case 'EADDRNOTAVAIL':
      return new StartupError(
        `${where}: ${t.host} is not an address of this machine; set ${t.hostSetting} to one of its addresses (or 0.0.0.0 / 127.0.0.1)`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError(`${where}: ${t.host} cannot be resolved; set ${t.hostSetting} to an address or a resolvable name`);
    default:
      return undefined;
  }
}
