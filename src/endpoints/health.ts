import type { FastifyPluginCallback } from 'fastify';
import { pingDatabase, type Db } from '../store/db.js';
import type { KeyStore } from '../keys/keystore.js';

const PING_TIMEOUT_MS = 2000;

export interface HealthEndpointsOptions {
  db: Pick<Db, 'query'>;
  keystore: Pick<KeyStore, 'ready'>;
}

export const healthEndpoints: FastifyPluginCallback<HealthEndpointsOptions> = (app, ctx, done) => {
  /** Liveness: the process answers. */
  app.get('/healthz', async (_req, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));

  /** Readiness: the database answers and signing keys are loaded. */
  app.get('/readyz', async (_req, reply) => {
    let database = 'ok';
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        pingDatabase(ctx.db),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), PING_TIMEOUT_MS);
        }),
      ]);
    } catch {
      database = 'unavailable';
    } finally {
      clearTimeout(timer);
    }
    const keys = ctx.keystore.ready ? 'ok' : 'not loaded';
    const ok = database === 'ok' && keys === 'ok';
    return reply
      .code(ok ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ status: ok ? 'ready' : 'not ready', checks: { database, keys } });
  });
  done();
};
