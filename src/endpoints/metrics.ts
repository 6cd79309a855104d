import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app.js';

/** Prometheus text exposition format. */
export function metricsEndpoint(ctx: AppContext) {
  return (app: FastifyInstance) => {
    app.get('/metrics', async (_req, reply) => {
      const body = await ctx.metrics.registry.metrics();
      return reply.header('content-type', ctx.metrics.registry.contentType).header('cache-control', 'no-store').send(body);
    });
  };
}
