import type { FastifyInstance } from 'fastify';
import { createAppContext, type AppContext } from '../../src/app.js';
import { applyBootstrap, bootstrapSchema } from '../../src/bootstrap.js';
import { PasswordHasher, passwordHashParameters } from '../../src/users/password.js';
import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/server.js';

export interface RunningServer {
  url: string;
  issuer: string;
  ctx: AppContext;
  app: FastifyInstance;
  /** Stops the server and closes its database, which stays for the next runServer. */
  stop(): Promise<void>;
}

/**
 * A server on the database of `dbEnv` (from freshDatabaseEnv) at `port`, which can be stopped and
 * started again on the same database and issuer — e.g. around an in-process CLI command, since the
 * embedded database is held by one opener at a time.
 */
export async function runServer(opts: {
  port: number;
  dbEnv: Record<string, string>;
  env?: Record<string, string>;
  clock?: Clock;
  bootstrap?: unknown;
}): Promise<RunningServer> {
  const config = loadConfig({
    PORT: String(opts.port),
    ISSUER: `http://127.0.0.1:${opts.port}`,
    LOG_LEVEL: 'silent',
    ...opts.dbEnv,
    ...opts.env,
  });
  const ctx = await createAppContext(config, opts.clock ? { clock: opts.clock } : {});
  try {
    if (opts.bootstrap)
      await applyBootstrap(
        ctx.db,
        ctx.secrets,
        bootstrapSchema.parse(opts.bootstrap),
        new PasswordHasher(passwordHashParameters(ctx.config)),
      );
  } catch (err) {
    await ctx.db.close();
    throw err;
  }
  const app = await buildServer(ctx, { logger: false });
  await app.listen({ port: opts.port, host: '127.0.0.1' });
  return {
    url: `http://127.0.0.1:${opts.port}`,
    issuer: config.issuer,
    ctx,
    app,
    async stop() {
      await app.close();
      await ctx.db.close();
    },
  };
}
