import pino from 'pino';
import { createAppContext } from './app.js';
import { applyBootstrap, readBootstrapFile } from './bootstrap.js';
import { ConfigError, loadConfig } from './config.js';
import { loggerOptions } from './observability/logger.js';
import { buildServer } from './server.js';
import { DatabaseBusyError } from './store/db.js';
import { startCleanup } from './store/cleanup.js';

/** config → store → migrations → keys → bootstrap → server → listen; SIGTERM drains. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`latchkey: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const log = pino(loggerOptions(config.logLevel));
  const ctx = await createAppContext(config, { log });
  if (config.bootstrap) {
    try {
      const result = await applyBootstrap(ctx.db, ctx.secrets, readBootstrapFile(config.bootstrap));
      log.info({ file: config.bootstrap, ...result }, 'applied bootstrap file');
    } catch (err) {
      // Close cleanly: the embedded database must not be left unflushed.
      await ctx.db.close().catch(() => {});
      throw err;
    }
  }
  ctx.keystore.startReloading(config.keyReloadInterval);
  const cleanup = startCleanup(
    ctx.db,
    ctx.clock,
    config.cleanupInterval,
    (err) => log.error({ err }, 'cleanup of expired rows failed'),
    (counts) => {
      if (Object.values(counts).some((n) => n > 0)) log.info({ deleted: counts }, 'purged expired rows');
    },
  );
  let app;
  try {
    app = await buildServer(ctx, { logger: log });
  } catch (err) {
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
    const force = setTimeout(() => app.server.closeAllConnections(), 10_000);
    force.unref();
    try {
      await app.close(); // stops accepting, waits for in-flight requests
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

  await app.listen({ port: config.port, host: config.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  log.info(
    { issuer: config.issuer, url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}` },
    `Latchkey listening on http://${config.host}:${port} (issuer ${config.issuer})`,
  );
}

main().catch((err: unknown) => {
  const error = err instanceof Error ? err : undefined;
  const known = err instanceof DatabaseBusyError || error?.name === 'BootstrapError' || error?.name === 'KeyDecryptionError';
  process.stderr.write(`latchkey: ${known && error ? error.message : (error?.stack ?? String(err))}\n`);
  process.exit(1);
});
