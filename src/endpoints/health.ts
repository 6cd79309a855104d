import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app.js';

const PING_TIMEOUT_MS = 2000;

export function healthEndpoints(ctx: AppContext) {
  return (app: FastifyInstance) => {
    /** Liveness: the process answers. */
    app.get('/healthz', async (_req, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));

    /** Readiness: the database answers and signing keys are loaded. */
    app.get('/readyz', async (_req, reply) => {
      let database = 'ok';
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          ctx.db.query('SELECT 1'),
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
  };
}
