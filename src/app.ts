// Before anything signs: a native toBase64 for jose (see the module).
import './platform/uint8array-base64.js';
import type { FastifyBaseLogger } from 'fastify';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { Registry } from './clients/registry.js';
import { FailureLimiter } from './client-auth/failure-limiter.js';
import { createAuthenticator, type Authenticator } from './client-auth/index.js';
import { KeyStore, ensureSigningKeys } from './keys/keystore.js';
import { RemoteJwksCache } from './keys/remote-jwks.js';
import { deriveSecrets, loadOrCreateSecretFile, type ServerSecrets } from './keys/secret.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { logSecurityEvents, type SecurityEvents } from './observability/security-events.js';
import type { Db } from './store/db.js';
import { migrate } from './store/migrate.js';
import { openDb } from './store/open.js';
import { clientsRepository } from './store/repositories/clients.js';
import { keysRepository } from './store/repositories/keys.js';
import { rateLimitsRepository } from './store/repositories/rate-limits.js';
import { replayRepository } from './store/repositories/replay.js';
import { resourcesRepository } from './store/repositories/resources.js';
import { revocationsRepository } from './store/repositories/revocations.js';
import { usersRepository } from './store/repositories/users.js';
import { sessionsRepository } from './store/repositories/sessions.js';
import { interactionsRepository } from './store/repositories/interactions.js';
import { grantsRepository } from './store/repositories/grants.js';
import { codesRepository } from './store/repositories/codes.js';
import { consentsRepository } from './store/repositories/consents.js';
import { refreshTokensRepository } from './store/repositories/refresh-tokens.js';
import { deviceCodesRepository } from './store/repositories/device-codes.js';

export const ENDPOINT_PATHS = {
  authorization: '/authorize',
  token: '/token',
  introspection: '/introspect',
  revocation: '/revoke',
  jwks: '/jwks',
  userinfo: '/userinfo',
  deviceAuthorization: '/device_authorization',
  device: '/device',
  endSession: '/end_session',
} as const;

/** Everything the endpoints need, built once per process (or per test server). */
export interface AppContext {
  config: Config;
  clock: Clock;
  db: Db;
  secrets: ServerSecrets;
  keystore: KeyStore;
  registry: Registry;
  authenticator: Authenticator;
  metrics: Metrics;
  /** Where security events go: the process's log, one line each (src/observability/security-events.ts). */
  events: SecurityEvents;
  repos: {
    clients: ReturnType<typeof clientsRepository>;
    resources: ReturnType<typeof resourcesRepository>;
    keys: ReturnType<typeof keysRepository>;
    revocations: ReturnType<typeof revocationsRepository>;
    replay: ReturnType<typeof replayRepository>;
    rateLimits: ReturnType<typeof rateLimitsRepository>;
    users: ReturnType<typeof usersRepository>;
    sessions: ReturnType<typeof sessionsRepository>;
    interactions: ReturnType<typeof interactionsRepository>;
    grants: ReturnType<typeof grantsRepository>;
    codes: ReturnType<typeof codesRepository>;
    consents: ReturnType<typeof consentsRepository>;
    refreshTokens: ReturnType<typeof refreshTokensRepository>;
    deviceCodes: ReturnType<typeof deviceCodesRepository>;
  };
}

/** The server secret: LATCHKEY_SECRET, or in embedded mode one generated into DATA_DIR. */
export function resolveSecret(config: Config, log?: Pick<FastifyBaseLogger, 'warn'>): ServerSecrets {
  if (config.secret) return deriveSecrets(config.secret);
  const { secret, created, notices } = loadOrCreateSecretFile(config.dataDir);
  for (const notice of notices) log?.warn({ dataDir: config.dataDir }, notice);
  if (created) {
    log?.warn(
      { dataDir: config.dataDir },
      'LATCHKEY_SECRET is not set: generated one into DATA_DIR/secret (mode 0600). Back it up with the database; set LATCHKEY_SECRET in production.',
    );
  }
  return deriveSecrets(secret);
}

/** Opens the store, applies migrations, ensures signing keys and loads them. */
export async function createAppContext(
  config: Config,
  opts: { clock?: Clock; log?: Pick<FastifyBaseLogger, 'warn' | 'error' | 'info'>; db?: Db; events?: SecurityEvents } = {},
): Promise<AppContext> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log;
  // Without a logger (embedding, tests) events go nowhere unless a sink is given.
  const events: SecurityEvents = opts.events ?? (log ? logSecurityEvents(log) : { emit: () => undefined });
  const secrets = resolveSecret(config, log);
  const db =
    opts.db ??
    (await openDb(
      config,
      (err) => log?.error({ err }, 'database connection error'),
      (notice) => log?.warn({ dataDir: config.dataDir }, notice),
    ));
  try {
    const applied = await migrate(db);
    if (applied.length) log?.info({ migrations: applied }, 'applied migrations');
    const repos = {
      clients: clientsRepository(db),
      resources: resourcesRepository(db),
      keys: keysRepository(db),
      revocations: revocationsRepository(db),
      replay: replayRepository(db),
      rateLimits: rateLimitsRepository(db),
      users: usersRepository(db),
      sessions: sessionsRepository(db),
      interactions: interactionsRepository(db),
      grants: grantsRepository(db),
      codes: codesRepository(db),
      consents: consentsRepository(db),
      refreshTokens: refreshTokensRepository(db),
      deviceCodes: deviceCodesRepository(db),
    };
    const created = await ensureSigningKeys(repos.keys, secrets.keyEncryptionKey, clock);
    if (created.length) log?.info({ kids: created }, 'generated signing keys');
    const keystore = new KeyStore(repos.keys, secrets.keyEncryptionKey, clock, (err) =>
      log?.error({ err }, 'reloading signing keys failed; keeping the keys already loaded'),
    );
    await keystore.reload();
    const registry = new Registry(repos.clients, repos.resources, clock, config.clientCacheTtl);
    const metrics = createMetrics();
    const limiter = new FailureLimiter(repos.rateLimits, clock, config.authFailureLimit, config.authFailureWindow);
    const authenticator = createAuthenticator(
      {
        clock,
        secrets,
        replay: repos.replay,
        remoteJwks: new RemoteJwksCache(clock, config.jwksUriAllowPrivate),
        issuer: config.issuer,
        audiences: [
          `${config.issuer}${ENDPOINT_PATHS.token}`,
          `${config.issuer}${ENDPOINT_PATHS.introspection}`,
          `${config.issuer}${ENDPOINT_PATHS.revocation}`,
        ],
        clockSkew: config.clockSkew,
        assertionMaxLifetime: config.assertionMaxLifetime,
      },
      (id) => registry.client(id),
      limiter,
      () => metrics.clientAuthFailures.inc(),
    );
    return { config, clock, db, secrets, keystore, registry, authenticator, metrics, events, repos };
  } catch (err) {
    if (!opts.db) await db.close().catch(() => {});
    throw err;
  }
}
