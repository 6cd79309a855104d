import { GRANTS, type GrantTable } from './grants/index.js';
import { clientMetadataSchemaFor } from './oauth/client-metadata.js';
import type { FastifyBaseLogger } from 'fastify';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { Registry } from './clients/registry.js';
import { createAuthenticator, type Authenticator } from './client-auth/index.js';
import { KeyStore, ensureSigningKeys } from './keys/keystore.js';
import { RemoteJwksCache } from './keys/remote-jwks.js';
import { deriveSecrets, hashClientSecret, loadOrCreateSecretFile, type ServerSecrets } from './keys/secret.js';
import { FailureLimiter } from './limits/failure-limiter.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { collectSecurityEvents, logSecurityEvents, type SecurityEvents } from './observability/security-events.js';
import type { Db } from './store/db.js';
import { migrate } from './store/migrate.js';
import { openDb } from './store/open.js';
import { createRepositories, type Repositories } from './store/repositories/index.js';
import { TrustedIssuerCache } from './trust/registry.js';
import type { TrustDeps } from './trust/types.js';
import { endpointUrl } from './endpoints/paths.js';
import { ensureConsoleClient } from './admin/console/console-client.js';
import { ACCOUNT_CLIENT_ID, ensureAccountClient } from './endpoints/account-client.js';
import { ensureAdminResource } from './admin/api/auth.js';
import { persistSecurityEvents } from './admin/services/audit.js';

/**
 * The composition root's services, built once per process (or per test server). Endpoints do
 * not receive this: src/server.ts hands each endpoint plugin the narrow options it declares.
 */
export interface AppContext {
  config: Config;
  clock: Clock;
  db: Db;
  secrets: ServerSecrets;
  keystore: KeyStore;
  registry: Registry;
  authenticator: Authenticator;
  metrics: Metrics;
  /**
   * Where security events go: one structured log line each (observability/security-events.ts) and
   * one audit event each (admin/services/audit.ts); `flush()` waits for the audit writes under way.
   */
  events: SecurityEvents & { flush(): Promise<void> };
  repos: Repositories;
  /** jwks_uri fetches (client keys, trusted issuers): one cache per process. */
  remoteJwks: RemoteJwksCache;
  /** What the JWT-bearer and token-exchange grants trust: built once, with its cache. */
  trust: TrustDeps;
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

/**
 * What must exist before any request is served: the schema (migrations), the admin API's resource,
 * one signing key per algorithm and the admin console's client. Each is safe when several processes run it at once (an
 * advisory lock, an upsert, the keys repository's lock), but under WORKERS the cluster's primary
 * runs them once, before forking.
 */
export async function prepareStore(
  db: Db,
  config: Pick<Config, 'issuer'>,
  secrets: ServerSecrets,
  clock: Clock,
  log?: Pick<FastifyBaseLogger, 'info'>,
): Promise<void> {
  const applied = await migrate(db);
  if (applied.length) log?.info({ migrations: applied }, 'applied migrations');
  const repos = createRepositories(db);
  await ensureAdminResource(repos.resources, config.issuer);
  const created = await ensureSigningKeys(repos.keys, secrets.keyEncryptionKey, clock);
  if (created.length) log?.info({ kids: created }, 'generated signing keys');
  const consoleClient = await ensureConsoleClient(repos.clients, secrets, config.issuer);
  if (consoleClient !== 'unchanged')
    log?.info({ client_id: 'latchkey-console', outcome: consoleClient }, 'ensured the admin console client');
  const accountClient = await ensureAccountClient(repos.clients, hashClientSecret(secrets, secrets.accountClientSecret), config.issuer);
  if (accountClient !== 'unchanged') log?.info({ client_id: ACCOUNT_CLIENT_ID, outcome: accountClient }, 'ensured the account page client');
}

/** Opens the store, applies migrations, ensures signing keys (unless `prepared`) and loads them. */
export async function createAppContext(
  config: Config,
  opts: {
    clock?: Clock;
    log?: Pick<FastifyBaseLogger, 'warn' | 'error' | 'info'>;
    db?: Db;
    events?: SecurityEvents;
    /** The grant registry the server will dispatch to (a test may add grants): client metadata is read against it. */
    grants?: GrantTable;
    /** The store was prepared (prepareStore) by another process: a cluster worker's primary. */
    prepared?: boolean;
  } = {},
): Promise<AppContext> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log;
  const secrets = resolveSecret(config, log);
  const db =
    opts.db ??
    (await openDb(
      config,
      (err) => log?.error({ err }, 'database connection error'),
      (notice) => log?.warn({ dataDir: config.dataDir }, notice),
    ));
  try {
    if (!opts.prepared) await prepareStore(db, config, secrets, clock, log);
    const repos = createRepositories(db);
    // Without a logger (tests, embedding) events are kept in memory rather than lost silently;
    // either way each is also stored as an audit event (src/admin/services/audit.ts).
    const events = persistSecurityEvents(
      opts.events ?? (log ? logSecurityEvents(log) : collectSecurityEvents()),
      repos.auditEvents,
      (err) => log?.error({ err }, 'storing a security event as an audit event failed'),
      droppedAuditWarning(log),
    );
    const keystore = new KeyStore(repos.keys, secrets.keyEncryptionKey, clock, (err) =>
      log?.error({ err }, 'reloading signing keys failed; keeping the keys already loaded'),
    );
    await keystore.reload();
    const registry = new Registry(
      repos.clients,
      repos.resources,
      clock,
      config.clientCacheTtl,
      clientMetadataSchemaFor(opts.grants ?? GRANTS),
    );
    const metrics = createMetrics();
    const remoteJwks = new RemoteJwksCache(clock, config.jwksUriAllowPrivate);
    const trust: TrustDeps = {
      issuers: new TrustedIssuerCache(repos.trustedIssuers, clock, config.clientCacheTtl),
      remoteJwks,
      replay: repos.replay,
      revocations: repos.revocations,
      users: repos.users,
      clockSkew: config.clockSkew,
      maxAssertionLifetime: config.jwtBearerMaxAssertionLifetime,
    };
    const limiter = new FailureLimiter(repos.rateLimits, clock, config.authFailureWindow);
    const authenticator = createAuthenticator(
      {
        clock,
        secrets,
        replay: repos.replay,
        remoteJwks,
        issuer: config.issuer,
        tokenEndpoint: endpointUrl(config.issuer, 'token'),
        clockSkew: config.clockSkew,
        assertionMaxLifetime: config.assertionMaxLifetime,
      },
      (id) => registry.client(id),
      { limiter, limit: config.authFailureLimit },
      (failure) => {
        metrics.clientAuthFailures.inc();
        events.emit({
          type: 'client_auth.failure',
          // As claimed, so bounded: registered client_ids are at most 255 characters.
          clientId: failure.clientId.slice(0, 255),
          ip: failure.ip,
          details: { method: failure.method, reason: failure.reason },
        });
      },
    );
    return { config, clock, db, secrets, keystore, registry, authenticator, metrics, events, repos, remoteJwks, trust };
  } catch (err) {
    if (!opts.db) await db.close().catch(() => {});
    throw err;
  }
}

/** One warning per 10 s at most while security events come faster than they can be stored. */
function droppedAuditWarning(log: Pick<FastifyBaseLogger, 'warn'> | undefined): () => void {
  let dropped = 0;
  let lastWarning = 0;
  return () => {
    dropped++;
    const now = Date.now();
    if (now - lastWarning < 10_000) return;
    lastWarning = now;
    log?.warn({ dropped }, 'security events arrive faster than they can be stored: only logged, not stored as audit events');
    dropped = 0;
  };
}
