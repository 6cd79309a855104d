import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { PKCE_REQUIREMENTS } from './oauth/pkce-policy.js';

/**
 * The configuration: one zod schema over the environment, in which every setting is written once
 * — its variable, validation, default and meaning (README "Configuration" lists them for
 * operators). `Config` is the schema's output: the variables with camelCase names (`ACCESS_TOKEN_TTL`
 * → `accessTokenTtl`, and without the `LATCHKEY_` prefix: `LATCHKEY_SECRET` → `secret`), frozen.
 * A bad value stops start-up with a message naming the variable, what is wrong and what to use.
 */

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const seconds = (name: string, def: number, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a whole number of seconds` })
    .int(`${name} must be a whole number of seconds`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`)
    .default(def);

const count = (name: string, def: number, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a whole number` })
    .int(`${name} must be a whole number`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`)
    .default(def);

const port = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(0, `${name} must be between 0 and 65535`)
    .max(65535, `${name} must be between 0 and 65535`);

const bool = (name: string, def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: `${name} must be true or false` })
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** proxy-addr's names for address ranges, accepted in a TRUST_PROXY list. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrCidr(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true;
  const [address = '', prefix, ...more] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || more.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * TRUST_PROXY: off, a number of proxy hops, or the proxies' addresses. `true` (trust whatever
 * X-Forwarded-For says) is refused: any client could then choose the address that the per-IP
 * limits and the logs see.
 */
const trustProxy = z
  .string()
  .default('false')
  .transform((raw, ctx): false | number | readonly string[] => {
    const v = raw.trim().toLowerCase();
    if (v === 'false' || v === 'no' || v === '0') return false;
    if (v === 'true' || v === 'yes') {
      ctx.addIssue({
        code: 'custom',
        message:
          'TRUST_PROXY=true would believe an X-Forwarded-For header written by any client; set the number of proxies in front of Latchkey (e.g. TRUST_PROXY=1) or their addresses (e.g. TRUST_PROXY=10.0.0.5,10.1.0.0/16)',
      });
      return z.NEVER;
    }
    if (/^\d+$/.test(v)) {
      const hops = Number(v);
      if (hops > 10) ctx.addIssue({ code: 'custom', message: 'TRUST_PROXY: a hop count must be at most 10' });
      return hops;
    }
    const entries = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = entries.filter((e) => !isAddressOrCidr(e));
    if (bad.length > 0 || entries.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: `TRUST_PROXY must be false, a number of proxy hops (e.g. 1), or a comma list of proxy addresses or CIDRs (e.g. 10.0.0.5,10.1.0.0/16); ${bad.map((b) => `"${b}"`).join(', ') || 'the list'} is not one`,
      });
      return z.NEVER;
    }
    return Object.freeze(entries);
  });

/** WORKERS: `auto` (resolved against DATABASE_URL in the transform below) or a whole number 1…256. */
const workers = z
  .string()
  .default('auto')
  .transform((raw, ctx): number | 'auto' => {
    const v = raw.trim().toLowerCase();
    if (v === 'auto') return 'auto';
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 256) {
      ctx.addIssue({
        code: 'custom',
        message: `WORKERS must be auto or a whole number from 1 to 256 (server processes sharing the port), not "${raw}"`,
      });
      return z.NEVER;
    }
    return n;
  });

/** OIDC Discovery §3 / RFC 8414 §2: an https URL without query or fragment (http only on loopback). */
const issuer = z.string().superRefine((raw, ctx) => {
  const fail = (message: string) => ctx.addIssue({ code: 'custom', message: `ISSUER: ${message}` });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    fail(`"${raw}" is not an absolute URL (e.g. https://auth.example.com)`);
    return;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    fail('must use https (plain http is allowed only for localhost / loopback)');
  } else if (url.search || url.hash || raw.includes('?') || raw.includes('#')) {
    fail('must not contain a query or fragment');
  } else if (raw.endsWith('/')) {
    fail(`must not end with "/" (use ${raw.replace(/\/+$/, '')})`);
  }
});

/**
 * Password checks at once by default: half the CPU cores (each argon2 check keeps
 * PASSWORD_HASH_PARALLELISM threads busy), at most 3 so that libuv's default pool of 4 threads
 * always has one for other work.
 */
const DEFAULT_PASSWORD_CHECKS = Math.max(1, Math.min(3, Math.floor(availableParallelism() / 2)));

/** Every setting, by environment variable. */
const settings = z.object({
  // --- Server and storage ---------------------------------------------------------------------
  /** The HTTP port (0: any free port). */
  PORT: port('PORT').default(3000),
  /** The bind address. */
  HOST: z.string().min(1, 'HOST must not be empty').default('127.0.0.1'),
  /** The issuer identifier; every URL in discovery derives from it. Default http://localhost:$PORT. */
  ISSUER: issuer.optional(),
  /** A PostgreSQL server; unset: the embedded PGlite database in DATA_DIR. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must start with postgres:// or postgresql://')
    .optional(),
  /** Where the embedded database (and, without LATCHKEY_SECRET, the generated secret) lives; kept mode 0700. */
  DATA_DIR: z.string().min(1, 'DATA_DIR must not be empty').default('./data'),
  /** Encrypts private keys at rest and keys the client-secret and CSRF HMACs; unset only in embedded mode (generated). */
  LATCHKEY_SECRET: z.string().min(32, 'LATCHKEY_SECRET must be at least 32 characters (use e.g. `openssl rand -base64 48`)').optional(),
  /**
   * Server processes sharing the port (node:cluster): a whole number or `auto` (the default) — the
   * number of CPUs with DATABASE_URL, 1 on the embedded database, which one process alone may open.
   */
  WORKERS: workers,
  /** A bootstrap file applied at start-up (idempotent upsert). */
  LATCHKEY_BOOTSTRAP: z.string().min(1).optional(),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),

  // --- Tokens -----------------------------------------------------------------------------------
  /** Lifetime of access tokens when the resource does not set its own. */
  ACCESS_TOKEN_TTL: seconds('ACCESS_TOKEN_TTL', 600, 30, 86400),
  /** ES256 is the default for access tokens: ~10x cheaper to sign than RS256 (see README). */
  ACCESS_TOKEN_SIGNING_ALG: z.enum(['ES256', 'RS256'], { error: 'ACCESS_TOKEN_SIGNING_ALG must be ES256 or RS256' }).default('ES256'),
  ID_TOKEN_TTL: seconds('ID_TOKEN_TTL', 3600, 60, 86400),
  /** Authorization codes live 60 s by default and never more than 10 minutes (RFC 6749 §4.1.2). */
  AUTHORIZATION_CODE_TTL: seconds('AUTHORIZATION_CODE_TTL', 60, 10, 600),
  /** A refresh token unused this long expires (each use starts the clock again). */
  REFRESH_TOKEN_IDLE_TTL: seconds('REFRESH_TOKEN_IDLE_TTL', 14 * 86400, 60, 365 * 86400),
  /** No refresh token of a grant outlives this, however often it is used. */
  REFRESH_TOKEN_ABSOLUTE_TTL: seconds('REFRESH_TOKEN_ABSOLUTE_TTL', 90 * 86400, 60, 5 * 365 * 86400),
  /** Rotate confidential clients' refresh tokens on every use (public clients' always rotate). */
  REFRESH_TOKEN_ROTATION: bool('REFRESH_TOKEN_ROTATION', true),
  /** Seconds after a rotation during which the old token may be retried (default 0: off). */
  REFRESH_TOKEN_GRACE: seconds('REFRESH_TOKEN_GRACE', 0, 0, 300),
  /** Device authorization grant (RFC 8628): code lifetime and polling interval. */
  DEVICE_CODE_TTL: seconds('DEVICE_CODE_TTL', 600, 60, 3600),
  DEVICE_CODE_INTERVAL: seconds('DEVICE_CODE_INTERVAL', 5, 1, 60),
  /**
   * Which authorization requests must carry PKCE (OAuth 2.1 §4.1.1, §7.5.1): `always`, or
   * `except-oidc-nonce` (a confidential client's OpenID request with a nonce may omit it).
   */
  PKCE_REQUIRED: z.enum(PKCE_REQUIREMENTS, { error: 'PKCE_REQUIRED must be always or except-oidc-nonce' }).default('always'),
  /** Pushed authorization requests (RFC 9126): how long a request_uri from /par stays usable (§2.2: short). */
  PAR_TTL: seconds('PAR_TTL', 60, 10, 600),
  /** Every authorization request must come through /par (RFC 9126 §5 require_pushed_authorization_requests). */
  REQUIRE_PAR: bool('REQUIRE_PAR', false),
  /** Longest lifetime a trusted issuer's JWT may have (JWT-bearer assertions, token-exchange JWTs). */
  JWT_BEARER_MAX_ASSERTION_LIFETIME: seconds('JWT_BEARER_MAX_ASSERTION_LIFETIME', 300, 30, 86400),

  // --- Keys -------------------------------------------------------------------------------------
  /** How long a rotated-in key is published before it signs (resource servers' JWKS caches). */
  KEY_ROTATION_DELAY: seconds('KEY_ROTATION_DELAY', 600, 0, 7 * 86400),
  /** How often each process re-reads the key table (so rotation through one reaches all). */
  KEY_RELOAD_INTERVAL: seconds('KEY_RELOAD_INTERVAL', 30, 1, 3600),
  JWKS_MAX_AGE: seconds('JWKS_MAX_AGE', 300, 0, 86400),

  // --- Sessions and limits ----------------------------------------------------------------------
  /** How long a browser session lasts after sign-in. */
  SESSION_TTL: seconds('SESSION_TTL', 8 * 3600, 300, 30 * 86400),
  /** An admin console session unused this long ends (each request starts the clock again). */
  CONSOLE_IDLE_TIMEOUT: seconds('CONSOLE_IDLE_TIMEOUT', 900, 60, 86400),
  /** No admin console session outlives this, however busy. */
  CONSOLE_SESSION_TTL: seconds('CONSOLE_SESSION_TTL', 8 * 3600, 300, 7 * 86400),
  /** A change on the account page (/account) needs a sign-in at most this old; otherwise the person signs in again. */
  ACCOUNT_RECENT_SIGN_IN: seconds('ACCOUNT_RECENT_SIGN_IN', 600, 0, 86400),
  /** How long a person has to finish signing in and consenting. */
  INTERACTION_TTL: seconds('INTERACTION_TTL', 1800, 60, 86400),
  /** Failed sign-ins allowed per account, and per IP address, within LOGIN_FAILURE_WINDOW. */
  LOGIN_FAILURE_LIMIT_ACCOUNT: count('LOGIN_FAILURE_LIMIT_ACCOUNT', 10, 1, 10000),
  LOGIN_FAILURE_LIMIT_IP: count('LOGIN_FAILURE_LIMIT_IP', 50, 1, 100000),
  LOGIN_FAILURE_WINDOW: seconds('LOGIN_FAILURE_WINDOW', 900, 10, 86400),
  /**
   * argon2id's cost for new password hashes (RFC 9106 §3.1): memory in KiB, iterations and lanes.
   * Default OWASP's m = 19 MiB, t = 2, p = 1. Stored hashes are verified with their own parameters
   * and re-hashed with these at the user's next successful sign-in. Lower bound: OWASP's smallest
   * memory (7 MiB, which it pairs with t = 5).
   */
  PASSWORD_HASH_MEMORY_KIB: count('PASSWORD_HASH_MEMORY_KIB', 19_456, 7_168, 2_097_152),
  PASSWORD_HASH_ITERATIONS: count('PASSWORD_HASH_ITERATIONS', 2, 1, 100),
  PASSWORD_HASH_PARALLELISM: count('PASSWORD_HASH_PARALLELISM', 1, 1, 16),
  /**
   * Password checks (argon2id; with the default parameters 19 MiB and ~50 ms of CPU each)
   * running at once, and waiting; a sign-in beyond both is answered 503 with Retry-After. argon2
   * runs on libuv's thread pool, which WebCrypto shares (verifying private_key_jwt and JWT-bearer
   * assertions; the tokens we issue are signed on the main thread): fewer checks than threads
   * keeps those from queueing behind them.
   */
  PASSWORD_VERIFY_CONCURRENCY: count('PASSWORD_VERIFY_CONCURRENCY', DEFAULT_PASSWORD_CHECKS, 1, 1023),
  PASSWORD_VERIFY_QUEUE: count('PASSWORD_VERIFY_QUEUE', 32, 0, 100000),
  /** Node's libuv thread pool size (read by Node itself at start-up); here only to check the one above. */
  UV_THREADPOOL_SIZE: count('UV_THREADPOOL_SIZE', 4, 1, 1024),
  /** Wrong user codes allowed per browser and per address (IPv6: per /64) within the window. */
  DEVICE_ENTRY_LIMIT_SESSION: count('DEVICE_ENTRY_LIMIT_SESSION', 10, 1, 10000),
  DEVICE_ENTRY_LIMIT_IP: count('DEVICE_ENTRY_LIMIT_IP', 30, 1, 100000),
  /** Wrong user codes in total past which each address's allowance drops to a tenth (soft: never a lockout for everyone). */
  DEVICE_ENTRY_LIMIT_GLOBAL: count('DEVICE_ENTRY_LIMIT_GLOBAL', 1000, 1, 1000000),
  DEVICE_ENTRY_WINDOW: seconds('DEVICE_ENTRY_WINDOW', 600, 10, 86400),
  /**
   * Pending requests that create a row (a sign-in page at /authorize, a device code at
   * /device_authorization) per address (IPv6: per /64) and per client within the window.
   */
  AUTHORIZATION_REQUEST_LIMIT_IP: count('AUTHORIZATION_REQUEST_LIMIT_IP', 200, 1, 1000000),
  AUTHORIZATION_REQUEST_LIMIT_CLIENT: count('AUTHORIZATION_REQUEST_LIMIT_CLIENT', 10000, 1, 10000000),
  AUTHORIZATION_REQUEST_WINDOW: seconds('AUTHORIZATION_REQUEST_WINDOW', 600, 10, 86400),
  /** Failed client authentications allowed per client and IP within the window. */
  AUTH_FAILURE_LIMIT: count('AUTH_FAILURE_LIMIT', 10, 1, 10000),
  AUTH_FAILURE_WINDOW: seconds('AUTH_FAILURE_WINDOW', 300, 1, 86400),
  /** Clock difference tolerated on JWTs we receive (and kept as a margin on the keys we publish). */
  CLOCK_SKEW: seconds('CLOCK_SKEW', 30, 0, 300),
  /**
   * DPoP server nonces (RFC 9449 §8): `required` makes every DPoP proof carry a nonce this server
   * issued (one extra round trip per client every few minutes); `off` accepts proofs without one
   * (a nonce sent is still checked). Off by default: each proof's jti is already single-use
   * across processes and its iat bounded, and RFC 9449 leaves nonces to the server's choice.
   */
  DPOP_NONCE: z.enum(['off', 'required'], { error: 'DPOP_NONCE must be off or required' }).default('off'),
  /** Longest lifetime (exp - now) a client assertion may have. */
  ASSERTION_MAX_LIFETIME: seconds('ASSERTION_MAX_LIFETIME', 300, 30, 3600),

  // --- HTTP -------------------------------------------------------------------------------------
  /** Whose X-Forwarded-For to believe: false, a hop count, or the proxies' addresses/CIDRs. */
  TRUST_PROXY: trustProxy,
  /** Largest request body in bytes. */
  BODY_LIMIT: count('BODY_LIMIT', 64 * 1024, 1024, 10 * 1024 * 1024),
  /** The request line and headers must arrive within this (slow-header attacks). */
  HEADERS_TIMEOUT: seconds('HEADERS_TIMEOUT', 10, 1, 300),
  /** The whole request, body included, must arrive within this; else 408 and the socket closes. */
  REQUEST_TIMEOUT: seconds('REQUEST_TIMEOUT', 30, 1, 600),
  /** An idle keep-alive connection closes after this: above common load balancers' 60 s, so they close first. */
  KEEP_ALIVE_TIMEOUT: seconds('KEEP_ALIVE_TIMEOUT', 72, 1, 600),
  /** A socket with no traffic either way (e.g. a client that stops reading its answer) closes after this. */
  CONNECTION_TIMEOUT: seconds('CONNECTION_TIMEOUT', 120, 1, 3600),
  /** Requests served on one connection before it is closed (0: no limit). */
  MAX_REQUESTS_PER_SOCKET: count('MAX_REQUESTS_PER_SOCKET', 1000, 0, 1000000),

  // --- Operations -------------------------------------------------------------------------------
  /** Client, resource and trusted-issuer records are cached this long; a change elsewhere takes effect within it. */
  CLIENT_CACHE_TTL: seconds('CLIENT_CACHE_TTL', 5, 0, 300),
  /** How often each process purges expired rows. */
  CLEANUP_INTERVAL: seconds('CLEANUP_INTERVAL', 300, 5, 86400),
  /** Audit events (GET /admin/api/v1/events) older than this many days are purged by the cleanup. */
  AUDIT_RETENTION_DAYS: count('AUDIT_RETENTION_DAYS', 90, 1, 3650),
  /** Allow jwks_uri on private/loopback addresses (off: jwks_uri is no SSRF lever). */
  JWKS_URI_ALLOW_PRIVATE: bool('JWKS_URI_ALLOW_PRIVATE', false),
  /** PostgreSQL connections per process: with WORKERS, per worker (WORKERS × DB_POOL_MAX in total). */
  DB_POOL_MAX: count('DB_POOL_MAX', 10, 1, 500),
  DB_STATEMENT_TIMEOUT_MS: count('DB_STATEMENT_TIMEOUT_MS', 5000, 100, 600000),
  /** /metrics on the main port answers only with `Authorization: Bearer <METRICS_TOKEN>`; unset: 404 there. */
  METRICS_TOKEN: z.string().min(32, 'METRICS_TOKEN must be at least 32 characters (use e.g. `openssl rand -base64 32`)').optional(),
  /** A listener of its own serving only /metrics, for Prometheus on a private network. */
  METRICS_PORT: port('METRICS_PORT').optional(),
  /** Its bind address. */
  METRICS_HOST: z.string().min(1, 'METRICS_HOST must not be empty').default('127.0.0.1'),
});

type Settings = z.output<typeof settings>;

/** Every environment variable Latchkey reads (the README's Configuration table lists each). */
export const SETTING_NAMES: readonly string[] = Object.freeze(Object.keys(settings.shape));

/** Settings that must agree with each other. */
function crossCheck(s: Settings, ctx: z.RefinementCtx): void {
  const issue = (path: keyof Settings, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (s.REFRESH_TOKEN_IDLE_TTL > s.REFRESH_TOKEN_ABSOLUTE_TTL) {
    issue('REFRESH_TOKEN_IDLE_TTL', 'REFRESH_TOKEN_IDLE_TTL must not exceed REFRESH_TOKEN_ABSOLUTE_TTL');
  }
  if (s.DATABASE_URL && !s.LATCHKEY_SECRET) {
    issue(
      'LATCHKEY_SECRET',
      'LATCHKEY_SECRET is required when DATABASE_URL is set: every process sharing the database must use the same value',
    );
  }
  // Node refuses a headers timeout longer than the request timeout it is part of.
  if (s.HEADERS_TIMEOUT > s.REQUEST_TIMEOUT) {
    issue('HEADERS_TIMEOUT', `HEADERS_TIMEOUT (${s.HEADERS_TIMEOUT}) must not exceed REQUEST_TIMEOUT (${s.REQUEST_TIMEOUT})`);
  }
  if (s.CONNECTION_TIMEOUT <= s.KEEP_ALIVE_TIMEOUT) {
    issue(
      'CONNECTION_TIMEOUT',
      `CONNECTION_TIMEOUT (${s.CONNECTION_TIMEOUT}) must be longer than KEEP_ALIVE_TIMEOUT (${s.KEEP_ALIVE_TIMEOUT}), or idle connections close before their keep-alive ends`,
    );
  }
  if (s.PASSWORD_VERIFY_CONCURRENCY >= s.UV_THREADPOOL_SIZE) {
    issue(
      'PASSWORD_VERIFY_CONCURRENCY',
      `PASSWORD_VERIFY_CONCURRENCY (${s.PASSWORD_VERIFY_CONCURRENCY}) must be below UV_THREADPOOL_SIZE (${s.UV_THREADPOOL_SIZE}), so that token requests always find a free thread`,
    );
  }
  // PGlite is one process's database: a second process on the same DATA_DIR is refused (open.ts).
  if (typeof s.WORKERS === 'number' && s.WORKERS > 1 && !s.DATABASE_URL) {
    issue(
      'WORKERS',
      `WORKERS=${s.WORKERS} needs DATABASE_URL: the embedded database serves one process; set DATABASE_URL to a PostgreSQL server, or WORKERS=1`,
    );
  }
  if (s.METRICS_PORT !== undefined && s.METRICS_PORT !== 0 && s.METRICS_PORT === s.PORT) {
    issue('METRICS_PORT', `METRICS_PORT must differ from PORT (${s.PORT})`);
  }
}

/** ENV_NAME → envName, without the LATCHKEY_ prefix (which only keeps our variables apart from other programs'). */
type CamelTail<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Capitalize<Lowercase<Head>>}${CamelTail<Tail>}`
  : Capitalize<Lowercase<S>>;
type SettingKey<S extends string> = S extends `LATCHKEY_${infer Rest}`
  ? SettingKey<Rest>
  : S extends `${infer Head}_${infer Tail}`
    ? `${Lowercase<Head>}${CamelTail<Tail>}`
    : Lowercase<S>;
type CamelKeys<T> = { readonly [K in keyof T as K extends string ? SettingKey<K> : never]: T[K] };

/** The runtime twin of SettingKey (a unit test holds them together). */
export function settingKey(name: string): string {
  const [head = '', ...tail] = name
    .replace(/^LATCHKEY_/, '')
    .toLowerCase()
    .split('_');
  return head + tail.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

function camelKeys<T extends object>(settings: T): CamelKeys<T> {
  return Object.fromEntries(Object.entries(settings).map(([k, v]) => [settingKey(k), v])) as CamelKeys<T>;
}

/** The environment → the frozen Config. */
export const configSchema = settings
  .superRefine(crossCheck)
  .transform(({ ISSUER, WORKERS, ...s }): Readonly<CamelKeys<Omit<Settings, 'ISSUER' | 'WORKERS'>> & { issuer: string; workers: number }> =>
    Object.freeze({
      ...camelKeys(s),
      issuer: ISSUER ?? `http://localhost:${s.PORT}`,
      workers: WORKERS !== 'auto' ? WORKERS : s.DATABASE_URL ? availableParallelism() : 1,
    }),
  );

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
  /** Stable, for logs and callers (the message may change). */
  readonly code = 'config_invalid';
}

/** Reads the environment into a frozen Config, or throws ConfigError naming every bad variable (one line). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (e.g. `LATCHKEY_BOOTSTRAP=` from a compose file) means unset.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const name = String(i.path[0] ?? 'environment');
    return i.message.startsWith(name) ? i.message : `${name}: ${i.message}`;
  });
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}
