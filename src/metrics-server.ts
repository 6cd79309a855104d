import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { metricsHandler, type MetricsEndpointOptions } from './endpoints/metrics.js';
import { connectionLimits, nodeServerLimits } from './http-options.js';
import { OAuthError } from './oauth/errors.js';

/**
 * The METRICS_PORT listener: /metrics alone, for a Prometheus on a private network, bound to
 * METRICS_HOST (loopback by default). The same connection limits as the main port. Under WORKERS
 * the cluster's primary runs it, over every worker's metrics (src/cluster/metrics.ts).
 */
export function buildMetricsServer(ctx: MetricsEndpointOptions & { config: Config }): FastifyInstance {
  const app = Fastify({
    logger: false,
    ...connectionLimits(ctx.config),
    http: nodeServerLimits(ctx.config),
    return503OnClosing: true,
    forceCloseConnections: true,
  });
  app.addHook('onSend', (_req, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    done(null, payload);
  });
  app.get('/metrics', metricsHandler(ctx, true));
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .header('cache-control', 'no-store')
      .send({
        error: 'invalid_request',
        error_description: `this listener serves only GET /metrics, not ${req.method} ${req.url.split('?', 1)[0] ?? ''}`,
      }),
  );
  app.setErrorHandler((error, _req, reply) => {
    const status = (error as { statusCode?: unknown }).statusCode;
    const err =
      error instanceof OAuthError
        ? error
        : typeof status === 'number' && status >= 400 && status < 500
          ? new OAuthError('invalid_request', 'the request could not be read', { status })
          : new OAuthError('server_error', 'the metrics could not be collected');
    return reply
      .code(err.status)
      .headers({ 'cache-control': 'no-store', ...err.headers })
      .send(err.toJSON());
  });
  return app;
}
