import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { systemClock } from '../clock.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import type { ServerSecrets } from '../keys/secret.js';
import { loggerOptions } from '../observability/logger.js';
import { logSecurityEvents, type SecurityEvents } from '../observability/security-events.js';
import { operatorMessage } from '../operator-errors.js';
import type { Db } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { apiBackend } from './backend-api.js';
import { databaseBackend } from './backend-db.js';
import { clientCommands } from './clients.js';
import { CliError, UsageError, type Command, type OptionSpec, type Session, type Values } from './common.js';
import { importCommands } from './import.js';
import { keyCommands } from './keys.js';
import { migrateCommands } from './migrate.js';
import { readProcessStdin, type StdinOptions } from './stdin.js';
import { resourceCommands } from './resources.js';
import { trustCommands } from './trust.js';
import { userCommands } from './users.js';

const COMMANDS: Command[] = [
  ...clientCommands,
  ...resourceCommands,
  ...userCommands,
  ...keyCommands,
  ...migrateCommands,
  ...importCommands,
  ...trustCommands,
];
const GROUPS: Record<string, string> = {
  clients: 'manage OAuth clients',
  resources: 'manage the APIs (resource servers) tokens are for, and how the consent page describes them',
  users: 'manage the user accounts people log in with (the OIDC subjects)',
  keys: 'manage signing keys',
  trust: 'manage trusted issuers (JWT-bearer assertions, token-exchange JWTs)',
};

const GLOBAL_OPTIONS: Record<string, OptionSpec> = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } };
const GLOBAL_HELP = ['  --json                 print the result as JSON on stdout', '  -h, --help             show this help'].join('\n');

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Standard input as text; only commands with --password-stdin read it. */
  readStdin(opts: StdinOptions): Promise<string>;
}

const processIo: Io = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  env: process.env,
  readStdin: readProcessStdin,
};

const name = (c: Command) => `latchkey ${c.path.join(' ')}`;
const isHelpFlag = (a: string) => a === '--help' || a === '-h';

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.path.join(' ').length));
  return `Usage: latchkey <command> [options]

Administers a Latchkey authorization server: OAuth clients, user accounts, resources, signing keys.

Commands:
${COMMANDS.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`).join('\n')}

Options:
${GLOBAL_HELP}
  --version              print the version
  --client-id ID         API mode: the admin client (instead of LATCHKEY_CLIENT_ID); its secret comes
                         from LATCHKEY_CLIENT_SECRET or, when that is unset, standard input

Every command has --help. Two modes:
- API mode, when LATCHKEY_URL is set (the base URL of a running Latchkey): commands go through its
  admin API (/admin/api/v1) with a client_credentials token of the client LATCHKEY_CLIENT_ID /
  LATCHKEY_CLIENT_SECRET, which needs "audiences": ["<ISSUER>/admin/api"] and the scope
  latchkey:admin (latchkey:admin:read only reads). Works while the server runs, embedded or not.
  LATCHKEY_TIMEOUT: seconds to wait for an answer (default 30).
- Direct mode otherwise (bootstrap, recovery): the database itself, configured by the server's
  environment variables: DATABASE_URL (PostgreSQL; LATCHKEY_SECRET is then required) or DATA_DIR
  (embedded database, default ./data), LATCHKEY_SECRET, ACCESS_TOKEN_TTL, KEY_ROTATION_DELAY, ...
  The embedded database can be opened by one process at a time: stop the server, or use API mode.

Passwords are never command-line arguments (they would show in ps and shell history): users create
and users set-password read them from standard input with --password-stdin, e.g.
  printf '%s' "$PASSWORD" | latchkey users create --username alice --email alice@example.com --password-stdin

Exit status: 0 success, 1 error, 2 bad arguments, 78 bad configuration.
`;
}

function groupHelp(group: string): string {
  const cmds = COMMANDS.filter((c) => c.path[0] === group);
  const sub = (c: Command) => c.path.slice(1).join(' ');
  const width = Math.max(...cmds.map((c) => sub(c).length));
  return `Usage: latchkey ${group} <subcommand> [options]

${GROUPS[group]}

Subcommands:
${cmds.map((c) => `  ${sub(c).padEnd(width)}  ${c.summary}`).join('\n')}

Options:
${GLOBAL_HELP}

Run \`latchkey ${group} <subcommand> --help\` for details.
`;
}

function commandHelp(c: Command): string {
  return `Usage: ${name(c)}${c.usage ? ` ${c.usage}` : ''} [--json]

${c.summary.charAt(0).toUpperCase()}${c.summary.slice(1)}.

Options:
${c.help ? `${c.help}\n` : ''}${GLOBAL_HELP}
${c.notes ? `\n${c.notes}\n` : ''}`;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Stack traces are for bugs; an error an operator can fix is one line they can act on. */
function reason(err: unknown): { message: string; code: number } {
  if (err instanceof CliError) return { message: err.message, code: err.exitCode };
  if (err instanceof ConfigError) return { message: err.message, code: 78 }; // EX_CONFIG, as the server
  return { message: operatorMessage(err) ?? describe(err), code: 1 };
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // net.connect to a host with several addresses fails with an AggregateError whose message is empty.
  if (!err.message && err instanceof AggregateError) return err.errors.map(describe).join(', ');
  const code = (err as { code?: unknown }).code;
  return err.message || (typeof code === 'string' ? code : err.name);
}

const oneLine = (s: string) =>
  s
    .replace(/:\s*\n\s*/g, ': ')
    .replace(/\s*\n\s*/g, '; ')
    .trim();

interface OwnedSession extends Session {
  close(): Promise<void>;
  output(): string;
}

/** Seconds an API-mode request may take (LATCHKEY_TIMEOUT). */
const DEFAULT_TIMEOUT = 30;

/** API mode's settings from the environment (and --client-id); undefined: direct mode. */
function apiSettings(env: NodeJS.ProcessEnv, clientIdOption: string | undefined, warn: (t: string) => void) {
  const raw = env.LATCHKEY_URL;
  if (raw === undefined || raw === '') {
    if (clientIdOption !== undefined) throw new UsageError('--client-id before the command is for API mode: set LATCHKEY_URL too');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`LATCHKEY_URL must be an absolute http(s) URL, e.g. https://login.example.com (got "${raw}")`, 78);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username || url.password) {
    throw new CliError(`LATCHKEY_URL must be an http(s) URL without query, fragment or credentials (got "${raw}")`, 78);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || url.hostname.startsWith('127.');
  if (url.protocol === 'http:' && !loopback) {
    warn(`LATCHKEY_URL ${url.origin} is not https: the client secret and the admin token cross the network in clear`);
  }
  const timeoutRaw = env.LATCHKEY_TIMEOUT;
  if (timeoutRaw !== undefined && !/^\d{1,3}$/.test(timeoutRaw)) {
    throw new CliError(`LATCHKEY_TIMEOUT must be a whole number of seconds from 1 to 600 (got "${timeoutRaw}")`, 78);
  }
  const timeout = timeoutRaw === undefined ? DEFAULT_TIMEOUT : Number(timeoutRaw);
  if (timeout < 1 || timeout > 600) throw new CliError(`LATCHKEY_TIMEOUT must be from 1 to 600 seconds (got ${timeout})`, 78);
  const clientId = clientIdOption ?? env.LATCHKEY_CLIENT_ID;
  if (!clientId) {
    throw new UsageError(
      'LATCHKEY_URL is set (API mode): name the admin client with LATCHKEY_CLIENT_ID or --client-id ID, its secret in LATCHKEY_CLIENT_SECRET',
    );
  }
  return { url: url.href.replace(/\/+$/, ''), clientId, secret: env.LATCHKEY_CLIENT_SECRET, timeoutMs: timeout * 1000 };
}

type ApiSettingsFromEnv = NonNullable<ReturnType<typeof apiSettings>>;

function createSession(config: Config, json: boolean, io: Io, api: ApiSettingsFromEnv | undefined): OwnedSession {
  let opened: Promise<Db> | undefined;
  let migrated: Promise<void> | undefined;
  let secrets: Promise<ServerSecrets> | undefined;
  let logged: SecurityEvents | undefined;
  const text: string[] = [];
  let jsonValue: unknown;
  const warn = (t: string) => io.stderr(`latchkey: ${oneLine(t)}\n`);
  const db = async (opts?: { migrate?: boolean }): Promise<Db> => {
    if (api) throw new CliError('this needs the database: unset LATCHKEY_URL to use direct mode'); // commands use admin
    // Loaded on demand: the drivers (and app.ts below) take ~0.5 s to import, which --help need not pay.
    opened ??= import('../store/open.js').then(({ openDb }) =>
      openDb(
        config,
        (err) => warn(`database connection error: ${describe(err)}`),
        (notice) => warn(notice),
      ),
    );
    const store = await opened;
    if (opts?.migrate !== false) {
      migrated ??= migrate(store).then((applied) => {
        if (applied.length) warn(`applied migrations: ${applied.join(', ')}`);
      });
      await migrated;
    }
    return store;
  };
  const secretsOf = (): Promise<ServerSecrets> => {
    secrets ??= (async () => {
      const { resolveSecret } = await import('../app.js');
      const derived = resolveSecret(config, { warn: (_obj: unknown, msg?: string) => warn(msg ?? '') });
      const { bindSecretToDatabase } = await import('../keys/secret-check.js');
      const created = await bindSecretToDatabase(await db(), derived, systemClock);
      if (created.length) warn(`no signing keys existed yet: generated ${created.join(', ')}`);
      return derived;
    })();
    return secrets;
  };
  const events: SecurityEvents = {
    // The server's log format (pino, LOG_LEVEL), written to stderr: stdout stays the command's output.
    emit: (e) => (logged ??= logSecurityEvents(pino(loggerOptions(config.logLevel), { write: (line: string) => io.stderr(line) }))).emit(e),
  };
  const admin = api
    ? apiBackend({
        url: api.url,
        clientId: api.clientId,
        timeoutMs: api.timeoutMs,
        async clientSecret() {
          if (api.secret !== undefined && api.secret !== '') return api.secret;
          const raw = await io.readStdin({ prompt: `Client secret of ${api.clientId}: `, maxBytes: 4096 });
          const secret = raw.replace(/\r?\n$/, '');
          if (secret === '') {
            throw new UsageError(`no client secret: set LATCHKEY_CLIENT_SECRET, or pipe the secret of ${api.clientId} to standard input`);
          }
          return secret;
        },
      })
    : databaseBackend({ config, db: () => db(), secrets: secretsOf, events });
  return {
    config,
    json,
    admin,
    db,
    secrets: secretsOf,
    print: (t) => void text.push(t),
    printJson: (v) => void (jsonValue = v),
    warn,
    events,
    readStdin: (opts) => io.readStdin(opts),
    output: () => (json ? `${JSON.stringify(jsonValue ?? null, null, 2)}\n` : text.length ? `${text.join('\n')}\n` : ''),
    async close() {
      const store = await opened?.catch(() => undefined);
      // PGlite must be closed to flush to disk and release DATA_DIR's lock.
      await store?.close();
    },
  };
}

async function dispatch(argv: string[], io: Io): Promise<number> {
  let help = false;
  let json = false;
  let clientIdOption: string | undefined;
  let i = 0;
  // Options before the command word: only the global ones make sense there.
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === undefined || !a.startsWith('-')) break;
    if (a === '--json') json = true;
    else if (isHelpFlag(a)) help = true;
    else if (a === '--client-id' || a.startsWith('--client-id=')) {
      clientIdOption = a === '--client-id' ? argv[++i] : a.slice('--client-id='.length);
      if (!clientIdOption || clientIdOption.startsWith('-')) throw new UsageError("--client-id needs the admin client's client_id");
    } else if (a === '--client-secret' || a.startsWith('--client-secret=')) {
      throw new UsageError(
        '--client-secret is not accepted: a secret on the command line shows in ps and in the shell history; set LATCHKEY_CLIENT_SECRET or pipe it to standard input',
      );
    } else if (a === '--version') {
      io.stdout(`${version()}\n`);
      return 0;
    } else throw new UsageError(`unknown option ${a} (see latchkey --help)`);
  }
  let rest = argv.slice(i);
  if (rest[0] === 'help') {
    help = true;
    rest = rest.slice(1);
  }
  const word = rest[0];
  if (word === undefined) {
    if (help) return (io.stdout(mainHelp()), 0);
    throw new UsageError('missing command (see latchkey --help)');
  }

  let cmd: Command | undefined;
  if (Object.hasOwn(GROUPS, word)) {
    const subs = COMMANDS.filter((c) => c.path[0] === word).map((c) => c.path[1]);
    const sub = rest[1];
    if (sub === undefined || sub.startsWith('-')) {
      if (help || rest.slice(1).some(isHelpFlag)) return (io.stdout(groupHelp(word)), 0);
      throw new UsageError(`${word}: missing subcommand (${subs.join(', ')}); see latchkey ${word} --help`);
    }
    cmd = COMMANDS.find((c) => c.path[0] === word && c.path[1] === sub);
    if (!cmd) throw new UsageError(`${word}: unknown subcommand "${sub}" (${subs.join(', ')}); see latchkey ${word} --help`);
    rest = rest.slice(2);
  } else {
    cmd = COMMANDS.find((c) => c.path.length === 1 && c.path[0] === word);
    if (!cmd) throw new UsageError(`unknown command "${word}" (see latchkey --help)`);
    rest = rest.slice(1);
  }

  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: { ...GLOBAL_OPTIONS, ...cmd.options },
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    if (help || rest.some(isHelpFlag)) return (io.stdout(commandHelp(cmd)), 0);
    // Node's text for an unknown option goes on about positionals starting with '-': keep the first sentence.
    const e = err as Error & { code?: string };
    const msg = e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? e.message.split('. ')[0] : e.message;
    throw new UsageError(`${cmd.path.join(' ')}: ${msg} (see ${name(cmd)} --help)`);
  }
  if (help || values.help === true) return (io.stdout(commandHelp(cmd)), 0);
  json ||= values.json === true;
  const want = cmd.args ?? [];
  if (positionals.length !== want.length) {
    const what =
      positionals.length < want.length
        ? `missing ${want.slice(positionals.length).join(' ')}`
        : `unexpected argument "${positionals[want.length]}"`;
    throw new UsageError(`${cmd.path.join(' ')}: ${what} (usage: ${name(cmd)} ${cmd.usage})`);
  }

  const command = cmd;
  const arg = (argName: string): string => {
    const value = positionals[want.indexOf(argName)];
    if (value === undefined) throw new Error(`${command.path.join(' ')} declares no argument ${argName}`);
    return value;
  };

  const warnLine = (t: string) => io.stderr(`latchkey: ${oneLine(t)}\n`);
  const api = apiSettings(io.env, clientIdOption, warnLine);
  if (api && command.directOnly) {
    throw new CliError(
      `${command.path.join(' ')} ${command.directOnly}: it needs direct mode (unset LATCHKEY_URL; DATABASE_URL or DATA_DIR, and LATCHKEY_SECRET)`,
    );
  }
  if (api && api.secret === undefined && values['password-stdin'] === true) {
    throw new UsageError('the password comes from standard input, so the client secret cannot: set LATCHKEY_CLIENT_SECRET for API mode');
  }
  // API mode reads nothing of the server's configuration: its database settings may be absent or invalid here.
  const session = createSession(loadConfig(api ? {} : io.env), json, io, api);
  try {
    await cmd.run(session, values, arg);
  } catch (err) {
    await session.close().catch(() => {}); // the command's error is the one to report
    throw err;
  }
  // Printed before closing: a secret that was committed must reach the operator even if close fails.
  io.stdout(session.output());
  await session.close();
  return 0;
}

/** Runs one CLI invocation and returns its exit status; never throws. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (err) {
    const { message, code } = reason(err);
    io.stderr(`latchkey: ${oneLine(message)}\n`);
    return code;
  }
}
