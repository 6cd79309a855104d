import { z } from 'zod';

/**
 * One zod schema for the whole environment (CONTRACT.md "Configuration"). Every variable has a
 * safe default; a bad value stops start-up with a message naming the variable and the problem.
 */

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const seconds = (name: string, def: number, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a whole number of seconds` })
    .int(`${name} must be a whole number of seconds`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`)
    .default(def);

const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const envSchema = z
  .object({
    PORT: z.coerce
      .number({ error: 'PORT must be a number' })
      .int('PORT must be a whole number')
      .min(0, 'PORT must be between 0 and 65535')
      .max(65535, 'PORT must be between 0 and 65535')
      .default(3000),
    HOST: z.string().min(1, 'HOST must not be empty').default('127.0.0.1'),
    ISSUER: z.string().optional(),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must start with postgres:// or postgresql://')
      .optional(),
    DATA_DIR: z.string().min(1, 'DATA_DIR must not be empty').default('./data'),
    LATCHKEY_SECRET: z.string().min(32, 'LATCHKEY_SECRET must be at least 32 characters (use e.g. `openssl rand -base64 48`)').optional(),
    LATCHKEY_BOOTSTRAP: z.string().min(1).optional(),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        error: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
      })
      .default('info'),
    /** Lifetime of access tokens when the resource does not set its own. */
    ACCESS_TOKEN_TTL: seconds('ACCESS_TOKEN_TTL', 600, 30, 86400),
    /** ES256 is the default for access tokens: ~10x cheaper to sign than RS256 (see README). */
    ACCESS_TOKEN_SIGNING_ALG: z.enum(['ES256', 'RS256'], { error: 'ACCESS_TOKEN_SIGNING_ALG must be ES256 or RS256' }).default('ES256'),
    /** How long a rotated-in key is published before it signs (resource servers' JWKS caches). */
    KEY_ROTATION_DELAY: seconds('KEY_ROTATION_DELAY', 600, 0, 7 * 86400),
    /** How often each process re-reads the key table (so rotation through one reaches all). */
    KEY_RELOAD_INTERVAL: seconds('KEY_RELOAD_INTERVAL', 30, 1, 3600),
    JWKS_MAX_AGE: seconds('JWKS_MAX_AGE', 300, 0, 86400),
    /** Client records are cached in memory this long; a deleted client stops working after it. */
    CLIENT_CACHE_TTL: seconds('CLIENT_CACHE_TTL', 5, 0, 300),
    /** Failed client authentications allowed per client and IP within the window. */
    AUTH_FAILURE_LIMIT: z.coerce.number().int().min(1).max(10000).default(10),
    AUTH_FAILURE_WINDOW: seconds('AUTH_FAILURE_WINDOW', 300, 1, 86400),
    CLOCK_SKEW: seconds('CLOCK_SKEW', 30, 0, 300),
    /** Authorization codes live 60 s by default and never more than 10 minutes (SECURITY.md item 14). */
    AUTHORIZATION_CODE_TTL: seconds('AUTHORIZATION_CODE_TTL', 60, 10, 600),
    ID_TOKEN_TTL: seconds('ID_TOKEN_TTL', 3600, 60, 86400),
    /** How long a browser session lasts after sign-in. */
    SESSION_TTL: seconds('SESSION_TTL', 8 * 3600, 300, 30 * 86400),
    /** How long a person has to finish signing in and consenting. */
    INTERACTION_TTL: seconds('INTERACTION_TTL', 1800, 60, 86400),
    /** Failed sign-ins allowed per account, and per IP address, within LOGIN_FAILURE_WINDOW. */
    LOGIN_FAILURE_LIMIT_ACCOUNT: z.coerce.number().int().min(1).max(10000).default(10),
    LOGIN_FAILURE_LIMIT_IP: z.coerce.number().int().min(1).max(100000).default(50),
    LOGIN_FAILURE_WINDOW: seconds('LOGIN_FAILURE_WINDOW', 900, 10, 86400),
    /** A refresh token unused this long expires (each use starts the clock again). */
    REFRESH_TOKEN_IDLE_TTL: seconds('REFRESH_TOKEN_IDLE_TTL', 14 * 86400, 60, 365 * 86400),
    /** No refresh token of a grant outlives this, however often it is used. */
    REFRESH_TOKEN_ABSOLUTE_TTL: seconds('REFRESH_TOKEN_ABSOLUTE_TTL', 90 * 86400, 60, 5 * 365 * 86400),
    /** Rotate confidential clients' refresh tokens on every use (public clients' always rotate). */
    REFRESH_TOKEN_ROTATION: bool(true),
    /** Seconds after a rotation during which the old token may be retried (default 0: off). */
    REFRESH_TOKEN_GRACE: seconds('REFRESH_TOKEN_GRACE', 0, 0, 300),
    /** Device authorization grant (RFC 8628): code lifetime and polling interval. */
    DEVICE_CODE_TTL: seconds('DEVICE_CODE_TTL', 600, 60, 3600),
    DEVICE_CODE_INTERVAL: seconds('DEVICE_CODE_INTERVAL', 5, 1, 60),
    /** Wrong user codes allowed per browser, per IP address and in total within the window. */
    DEVICE_ENTRY_LIMIT_SESSION: z.coerce.number().int().min(1).max(10000).default(10),
    DEVICE_ENTRY_LIMIT_IP: z.coerce.number().int().min(1).max(100000).default(30),
    DEVICE_ENTRY_LIMIT_GLOBAL: z.coerce.number().int().min(1).max(1000000).default(1000),
    DEVICE_ENTRY_WINDOW: seconds('DEVICE_ENTRY_WINDOW', 600, 10, 86400),
    /** How often each process purges expired rows. */
    CLEANUP_INTERVAL: seconds('CLEANUP_INTERVAL', 300, 5, 86400),
    /** Longest lifetime (exp - now) a client assertion may have. */
    ASSERTION_MAX_LIFETIME: seconds('ASSERTION_MAX_LIFETIME', 300, 30, 3600),
    /** Trust X-Forwarded-* only when set: "true", or a comma list of proxy addresses/CIDRs. */
    TRUST_PROXY: z.string().default('false'),
    /** Allow jwks_uri on private/loopback addresses (off: jwks_uri is no SSRF lever). */
    JWKS_URI_ALLOW_PRIVATE: bool(false),
    BODY_LIMIT: z.coerce
      .number()
      .int()
      .min(1024)
      .max(10 * 1024 * 1024)
      .default(64 * 1024),
    DB_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),
    DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600000).default(5000),
    /** Longest lifetime a trusted issuer's JWT may have (JWT-bearer assertions, token-exchange JWTs). */
    JWT_BEARER_MAX_ASSERTION_LIFETIME: seconds('JWT_BEARER_MAX_ASSERTION_LIFETIME', 300, 30, 86400),
  })
  .superRefine((env, ctx) => {
    if (env.REFRESH_TOKEN_IDLE_TTL > env.REFRESH_TOKEN_ABSOLUTE_TTL) {
      ctx.addIssue({
        code: 'custom',
        path: ['REFRESH_TOKEN_IDLE_TTL'],
        message: 'REFRESH_TOKEN_IDLE_TTL must not exceed REFRESH_TOKEN_ABSOLUTE_TTL',
      });
    }
    if (env.DATABASE_URL && !env.LATCHKEY_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['LATCHKEY_SECRET'],
        message: 'LATCHKEY_SECRET is required when DATABASE_URL is set: every process sharing the database must use the same value',
      });
    }
  });

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly issuer: string;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /** Unset only in embedded mode before the secret file is created (see keys/secret-file.ts). */
  readonly secret: string | undefined;
  readonly bootstrapFile: string | undefined;
  readonly logLevel: string;
  readonly accessTokenTtl: number;
  readonly accessTokenSigningAlg: 'ES256' | 'RS256';
  readonly keyRotationDelay: number;
  readonly keyReloadInterval: number;
  readonly jwksMaxAge: number;
  readonly clientCacheTtl: number;
  readonly authFailureLimit: number;
  readonly authFailureWindow: number;
  readonly clockSkew: number;
  readonly authorizationCodeTtl: number;
  readonly idTokenTtl: number;
  readonly sessionTtl: number;
  readonly interactionTtl: number;
  readonly loginFailureLimitAccount: number;
  readonly loginFailureLimitIp: number;
  readonly loginFailureWindow: number;
  readonly refreshTokenIdleTtl: number;
  readonly refreshTokenAbsoluteTtl: number;
  readonly refreshTokenRotation: boolean;
  readonly refreshTokenGrace: number;
  readonly cleanupInterval: number;
  readonly deviceCodeTtl: number;
  readonly deviceCodeInterval: number;
  readonly deviceEntryLimitSession: number;
  readonly deviceEntryLimitIp: number;
  readonly deviceEntryLimitGlobal: number;
  readonly deviceEntryWindow: number;
  readonly assertionMaxLifetime: number;
  readonly trustProxy: boolean | string[];
  readonly jwksUriAllowPrivate: boolean;
  readonly bodyLimit: number;
  readonly dbPoolMax: number;
  readonly dbStatementTimeoutMs: number;
  readonly jwtBearerMaxAssertionLifetime: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseIssuer(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`ISSUER: "${raw}" is not an absolute URL (e.g. https://auth.example.com)`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new ConfigError('ISSUER: must use https (plain http is allowed only for localhost / loopback)');
  }
  // OIDC Discovery §3 / RFC 8414 §2: no query or fragment in the issuer identifier.
  if (url.search || url.hash || raw.includes('?') || raw.includes('#')) {
    throw new ConfigError('ISSUER: must not contain a query or fragment');
  }
  if (raw.endsWith('/')) {
    throw new ConfigError(`ISSUER: must not end with "/" (use ${raw.replace(/\/+$/, '')})`);
  }
  return raw;
}

function parseTrustProxy(raw: string): boolean | string[] {
  const v = raw.trim().toLowerCase();
  if (v === 'false' || v === '0' || v === '' || v === 'no') return false;
  if (v === 'true' || v === '1' || v === 'yes') return true;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Reads the environment into a frozen Config, or throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (e.g. `LATCHKEY_BOOTSTRAP=` from a compose file) means unset.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? 'environment');
      return i.message.startsWith(name) ? i.message : `${name}: ${i.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const issuer = parseIssuer(e.ISSUER ?? `http://localhost:${e.PORT}`);
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    issuer,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    secret: e.LATCHKEY_SECRET,
    bootstrapFile: e.LATCHKEY_BOOTSTRAP,
    logLevel: e.LOG_LEVEL,
    accessTokenTtl: e.ACCESS_TOKEN_TTL,
    accessTokenSigningAlg: e.ACCESS_TOKEN_SIGNING_ALG,
    keyRotationDelay: e.KEY_ROTATION_DELAY,
    keyReloadInterval: e.KEY_RELOAD_INTERVAL,
    jwksMaxAge: e.JWKS_MAX_AGE,
    clientCacheTtl: e.CLIENT_CACHE_TTL,
    authFailureLimit: e.AUTH_FAILURE_LIMIT,
    authFailureWindow: e.AUTH_FAILURE_WINDOW,
    clockSkew: e.CLOCK_SKEW,
    authorizationCodeTtl: e.AUTHORIZATION_CODE_TTL,
    idTokenTtl: e.ID_TOKEN_TTL,
    sessionTtl: e.SESSION_TTL,
    interactionTtl: e.INTERACTION_TTL,
    loginFailureLimitAccount: e.LOGIN_FAILURE_LIMIT_ACCOUNT,
    loginFailureLimitIp: e.LOGIN_FAILURE_LIMIT_IP,
    loginFailureWindow: e.LOGIN_FAILURE_WINDOW,
    refreshTokenIdleTtl: e.REFRESH_TOKEN_IDLE_TTL,
    refreshTokenAbsoluteTtl: e.REFRESH_TOKEN_ABSOLUTE_TTL,
    refreshTokenRotation: e.REFRESH_TOKEN_ROTATION,
    refreshTokenGrace: e.REFRESH_TOKEN_GRACE,
    cleanupInterval: e.CLEANUP_INTERVAL,
    deviceCodeTtl: e.DEVICE_CODE_TTL,
    deviceCodeInterval: e.DEVICE_CODE_INTERVAL,
    deviceEntryLimitSession: e.DEVICE_ENTRY_LIMIT_SESSION,
    deviceEntryLimitIp: e.DEVICE_ENTRY_LIMIT_IP,
    deviceEntryLimitGlobal: e.DEVICE_ENTRY_LIMIT_GLOBAL,
    deviceEntryWindow: e.DEVICE_ENTRY_WINDOW,
    assertionMaxLifetime: e.ASSERTION_MAX_LIFETIME,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    jwksUriAllowPrivate: e.JWKS_URI_ALLOW_PRIVATE,
    bodyLimit: e.BODY_LIMIT,
    dbPoolMax: e.DB_POOL_MAX,
    dbStatementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    jwtBearerMaxAssertionLifetime: e.JWT_BEARER_MAX_ASSERTION_LIFETIME,
  });
}
