import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createAppContext } from './app.js';
import { PasswordHasher, passwordHashParameters } from './users/password.js';
import { applyBootstrap, bootstrapFileNotice, readBootstrapFile } from './bootstrap.js';
import type { Config } from './config.js';
import type { MetricsSource } from './endpoints/metrics.js';
import { buildMetricsServer } from './metrics-server.js';
import { listenFailure, type ListenTarget } from './operator-errors.js';
import { buildServer } from './server.js';
import { startCleanup } from './store/cleanup.js';

/** Listens, turning "port in use" and the like into one line that names the setting. */
export async function listen(app: FastifyInstance, target: ListenTarget): Promise<number> {
  try {
    // Fastify's own line must not say "listening": that word is the `listening` line's alone
    // (docs/contract.md), said once every listener — or every worker — is up.
    await app.listen({ port: target.port, host: target.host, listenTextResolver: (address) => `accepting connections on ${address}` });
  } catch (err) {
    throw listenFailure(err, target) ?? err;
  }
  const addr = app.server.address();
  return typeof addr === 'object' && addr ? addr.port : target.port;
}

const hostInUrl = (host: string) => (host.includes(':') ? `[${host}]` : host);

export const metricsTarget = (config: Config): ListenTarget => ({
  portSetting: 'METRICS_PORT',
  hostSetting: 'METRICS_HOST',
  port: config.metricsPort ?? 0,
  host: config.metricsHost,
});

export const metricsUrl = (config: Config, port: number) => `http://${hostInUrl(config.metricsHost)}:${port}/metrics`;

/**
 * The one `listening` line (docs/contract.md "Configuration"; tests wait for it): said once every
 * listener is up, so "listening" means ready — by the process, or by a cluster's primary once
 * every worker listens.
 */
export function logListening(log: Logger, config: Config, port: number, metrics: string | undefined, workers?: number): void {
  log.info(
    {
      issuer: config.issuer,
      url: `http://${hostInUrl(config.host)}:${port}`,
      ...(metrics ? { metrics } : {}),
      ...(workers ? { workers } : {}),
    },
    `Latchkey listening on http://${config.host}:${port} (issuer ${config.issuer})${metrics ? `; metrics on ${metrics}` : ''}${
      workers ? `; ${workers} workers` : ''
    }`,
  );
}

/** How this process serves: alone (WORKERS=1), or as one worker of a cluster. */
export type Role =
  | { kind: 'single' }
  | {
      kind: 'worker';
      /** Whether this worker runs the periodic cleanup (one of them does; see src/cluster/primary.ts). */
      cleanup: boolean;
      /** /metrics on the main port: the whole cluster's. */
      metricsSource: MetricsSource;
      /** Told once the server listens (the primary says `listening` when every worker has). */
      onListening: (port: number) => void;
      /** Called before anything else, so the cluster's metrics include this worker's registry. */
      shareMetrics: (registry: Registry) => void;
    };

/**
 * config → store → (migrations → keys → bootstrap, unless a primary did them) → server → listen;
 * SIGTERM/SIGINT drain in-flight requests, end the pool and exit 0.
 */
export async function serve(config: Config, log: Logger, role: Role): Promise<void> {
  const worker = role.kind === 'worker' ? role : undefined;
  const ctx = await createAppContext(config, { log, prepared: worker !== undefined });
  worker?.shareMetrics(ctx.metrics.registry);
  // Under WORKERS one worker purges (purgeExpired's try-lock would make the others skip anyway).
  const cleanup =
    !worker || worker.cleanup
      ? startCleanup(
          ctx.db,
          ctx.clock,
          config.cleanupInterval,
          (err) => log.error({ err }, 'cleanup of expired rows failed'),
          (counts) => {
            if (Object.values(counts).some((n) => n > 0)) log.info({ deleted: counts }, 'purged expired rows');
          },
          { auditRetentionDays: config.auditRetentionDays },
        )
      : undefined;
  // Every process holds its own copy of the keys: each re-reads the table.
  ctx.keystore.startReloading(config.keyReloadInterval);
  const listeners: FastifyInstance[] = [];
  try {
    if (config.bootstrap && !worker) {
      const bootstrap = readBootstrapFile(config.bootstrap, { issuer: config.issuer });
      const notice = bootstrapFileNotice(config.bootstrap);
      if (notice) log.warn({ file: config.bootstrap }, notice);
      const result = await applyBootstrap(ctx.db, ctx.secrets, bootstrap, new PasswordHasher(passwordHashParameters(ctx.config)));
      log.info({ file: config.bootstrap, ...result }, 'applied bootstrap file');
    }
    const app = await buildServer(ctx, { logger: log, ...(worker ? { metricsSource: worker.metricsSource } : {}) });
    listeners.push(app);
    const port = await listen(app, { portSetting: 'PORT', hostSetting: 'HOST', port: config.port, host: config.host });
    if (worker) {
      // METRICS_PORT is the primary's (over every worker).
      worker.onListening(port);
    } else {
      let metrics: string | undefined;
      if (config.metricsPort !== undefined) {
        const server = buildMetricsServer(ctx);
        listeners.push(server);
        metrics = metricsUrl(config, await listen(server, metricsTarget(config)));
      }
      logListening(log, config, port, metrics);
    }
  } catch (err) {
    // Close cleanly: the embedded database must not be left unflushed.
    cleanup?.stop();
    ctx.keystore.stopReloading();
    for (const l of listeners) await l.close().catch(() => {});
    await ctx.db.close().catch(() => {});
    throw err;
  }

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down: draining in-flight requests');
    ctx.keystore.stopReloading();
    cleanup?.stop();
    // A request that never finishes must not keep the process from stopping.
    const force = setTimeout(() => {
      for (const l of listeners) l.server.closeAllConnections();
    }, 10_000);
    force.unref();
    try {
      for (const l of listeners) await l.close(); // stops accepting, waits for in-flight requests
      await ctx.db.close();
      log.info('stopped');
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'error while shutting down');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
