import { readFileSync } from 'node:fs';
import type { Config } from '../config.js';
import type { ServerSecrets } from '../keys/secret.js';
import type { SecurityEvents } from '../observability/security-events.js';
import type { Db } from '../store/db.js';
import type { AdminBackend } from './backend.js';

/** An expected failure: main prints `latchkey: <message>` (one line) and exits with `exitCode`. */
export class CliError extends Error {
  override name = 'CliError';
  /** Stable, for logs and callers (the message may change). */
  readonly code = 'cli_failed';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Bad arguments: exit 2, like most Unix tools. */
export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string) {
    super(message, 2);
  }
}

/** A key's kid as listings show it; undefined when it has none (or one that is not a string or number). */
export function kidLabel(k: Readonly<Record<string, unknown>>): string | undefined {
  return typeof k.kid === 'string' || typeof k.kid === 'number' ? String(k.kid) : undefined;
}

export type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean; short?: string };
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** What a command gets: everything is opened lazily so argument mistakes fail before the database starts. */
export interface Session {
  readonly config: Config;
  readonly json: boolean;
  /**
   * What the commands manage, through the admin API with LATCHKEY_URL (API mode) or the database
   * (direct mode): src/cli/backend.ts. Commands use this rather than db() unless they only make
   * sense on the database (`directOnly`).
   */
  readonly admin: AdminBackend;
  /** The store, opened on first call and migrated unless `migrate: false`; main closes it. Direct mode only. */
  db(opts?: { migrate?: boolean }): Promise<Db>;
  /**
   * LATCHKEY_SECRET-derived keys (embedded mode: generated into DATA_DIR on first use), checked
   * against the database: a secret that cannot open its signing keys is refused, as the server
   * refuses it (client secrets hashed with it would never verify).
   */
  secrets(): Promise<ServerSecrets>;
  /** Text-mode output (ignored in --json mode). */
  print(text: string): void;
  /** The command's --json result; exactly one per command. */
  printJson(value: unknown): void;
  /** A non-fatal note on stderr, in both modes (stdout stays machine-readable). */
  warn(text: string): void;
  /** Security events (a key rotation, a withdrawn consent, a password change): one JSON log line each on stderr. */
  readonly events: SecurityEvents;
  /**
   * Standard input as text (for --password-stdin): all of a pipe or file; on a terminal, one line
   * typed after `prompt` without echo. Invalid UTF-8 or more than `maxBytes` bytes is a UsageError.
   */
  readStdin(opts: { prompt: string; maxBytes: number }): Promise<string>;
}

export interface Command {
  /** e.g. ['clients', 'create'] or ['migrate']. */
  path: string[];
  summary: string;
  /** Usage after `latchkey <path>`, e.g. `ID` or `--type TYPE --name NAME [options]`. */
  usage: string;
  /** Option lines for --help (without the global ones). */
  help?: string;
  /** A paragraph for --help after the options: what the arguments mean, an example. */
  notes?: string;
  options?: Record<string, OptionSpec>;
  /** Set when the command works on the database itself: in API mode it is refused with this reason. */
  directOnly?: string;
  /** Names of the required positional arguments, exactly this many. */
  args?: string[];
  /** `arg(name)` is the positional argument named in `args` (dispatch has checked they are all there). */
  run(s: Session, values: Values, arg: (name: string) => string): Promise<void>;
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function strs(values: Values, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Fixed-width columns for text-mode tables. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export const iso = (d: Date | null | undefined): string => (d ? d.toISOString() : '-');

/** A --jwks-file: a JWK Set, or a bare public JWK (exporting one key is the common case). */
export function readJwksFile(path: string): unknown {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --jwks-file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`--jwks-file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (json && typeof json === 'object' && !Array.isArray(json) && 'kty' in json && !('keys' in json)) json = { keys: [json] };
  const keys = (json as { keys?: unknown } | null)?.keys;
  if (Array.isArray(keys) && keys.length === 0) throw new UsageError(`--jwks-file ${path} holds no keys`);
  return json;
}
