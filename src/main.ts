import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { createAppContext } from './app.js';
import { applyBootstrap, bootstrapFileNotice, readBootstrapFile } from './bootstrap.js';
import { ConfigError, loadConfig } from './config.js';
import { buildMetricsServer } from './metrics-server.js';
import { loggerOptions } from './observability/logger.js';
import { listenFailure, operatorMessage, type ListenTarget } from './operator-errors.js';
import { buildServer } from './server.js';
import { startCleanup } from './store/cleanup.js';

/** Listens, turning "port in use" and the like into one line that names the setting. */
async function listen(app: FastifyInstance, target: ListenTarget): Promise<number> {
  try {
    await app.listen({ port: target.port, host: target.host });
  } catch (err) {
    throw listenFailure(err, target) ?? err;
  }
  const addr = app.server.address();
  return typeof addr === 'object' && addr ? addr.port : target.port;
}

const hostInUrl = (host: string) => (host.includes(':') ? `[${host}]` : host);

/** config → store → migrations → keys → bootstrap → server → listen; SIGTERM drains. */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino(loggerOptions(config.logLevel));
  const ctx = await createAppContext(config, { log });
  const cleanup = startCleanup(
    ctx.db,
    ctx.clock,
    config.cleanupInterval,
    (err) => log.error({ err }, 'cleanup of expired rows failed'),
    (counts) => {
      if (Object.values(counts).some((n) => n > 0)) log.info({ deleted: counts }, 'purged expired rows');
    },
    { auditRetentionDays: config.auditRetentionDays },
  );
  ctx.keystore.startReloading(config.keyReloadInterval);
  const listeners: FastifyInstance[] = [];
  try {
    if (config.bootstrap) {
      const bootstrap = readBootstrapFile(config.bootstrap, { issuer: config.issuer });
      const notice = bootstrapFileNotice(config.bootstrap);
      if (notice) log.warn({ file: config.bootstrap }, notice);
      const result = await applyBootstrap(ctx.db, ctx.secrets, bootstrap);
      log.info({ file: config.bootstrap, ...result }, 'applied bootstrap file');
    }
    const app = await buildServer(ctx, { logger: log });
    listeners.push(app);
    const port = await listen(app, { portSetting: 'PORT', hostSetting: 'HOST', port: config.port, host: config.host });
    let metricsUrl: string | undefined;
    if (config.metricsPort !== undefined) {
      const metrics = buildMetricsServer(ctx);
      listeners.push(metrics);
      const metricsPort = await listen(metrics, {
        portSetting: 'METRICS_PORT',
        hostSetting: 'METRICS_HOST',
        port: config.metricsPort,
        host: config.metricsHost,
      });
      metricsUrl = `http://${hostInUrl(config.metricsHost)}:${metricsPort}/metrics`;
    }
    // Said once every listener is up: "listening" means ready.
    log.info(
      { issuer: config.issuer, url: `http://${hostInUrl(config.host)}:${port}`, ...(metricsUrl ? { metrics: metricsUrl } : {}) },
      `Latchkey listening on http://${config.host}:${port} (issuer ${config.issuer})${metricsUrl ? `; metrics on ${metricsUrl}` : ''}`,
    );
  } catch (err) {
    // Close cleanly: the embedded database must not be left unflushed.
    cleanup.stop();
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
    cleanup.stop();
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

main().catch((err: unknown) => {
  // A failure the operator can fix is one line naming the setting; anything else is a bug.
  const message = operatorMessage(err);
  process.stderr.write(`latchkey: ${message ?? (err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
  process.exit(err instanceof ConfigError ? 78 : 1); // 78: EX_CONFIG
});
