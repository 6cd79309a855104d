import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError } from '../oauth/errors.js';
import type { Config } from '../config.js';
import type { Metrics } from '../observability/metrics.js';

/** Who may read /metrics: the listener it is on and METRICS_TOKEN decide. */
export type MetricsAccess = 'allow' | 'hidden' | 'unauthorized';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * The metrics describe traffic, clients' failure rates and the process: not for the public. On
 * the main port they exist only with METRICS_TOKEN, and then only for a bearer of it; on the
 * METRICS_PORT listener (a private address by default) they are open unless METRICS_TOKEN is set.
 */
export function metricsAccess(token: string | undefined, authorization: string | undefined, ownListener: boolean): MetricsAccess {
  if (token === undefined) return ownListener ? 'allow' : 'hidden';
  const presented = /^Bearer +([\x21-\x7e]+) *$/i.exec(authorization ?? '')?.[1];
  // Equal-length digests: the comparison takes the same time whatever was presented.
  return presented !== undefined && timingSafeEqual(sha256(presented), sha256(token)) ? 'allow' : 'unauthorized';
}

/** Prometheus text exposition format, behind metricsAccess. */
export function metricsHandler(ctx: MetricsEndpointOptions, ownListener: boolean) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const access = metricsAccess(ctx.config.metricsToken, req.headers.authorization, ownListener);
    if (access === 'hidden') {
      throw new OAuthError(
        'invalid_request',
        `there is no endpoint at this path; the endpoints are listed at ${ctx.config.issuer}/.well-known/openid-configuration`,
        { status: 404 },
      );
    }
    if (access === 'unauthorized') {
      // RFC 6750 §3: a missing or wrong bearer token.
      throw new OAuthError('invalid_token', 'the metrics need Authorization: Bearer <METRICS_TOKEN>', {
        headers: { 'www-authenticate': 'Bearer realm="latchkey-metrics"' },
      });
    }
    const body = await ctx.metrics.registry.metrics();
    return reply.header('content-type', ctx.metrics.registry.contentType).header('cache-control', 'no-store').send(body);
  };
}

/**
 * Where the exposition comes from: this process's registry, or under WORKERS the whole cluster's
 * (src/cluster/metrics.ts), which answers the same two members.
 */
export type MetricsSource = Pick<Metrics['registry'], 'metrics' | 'contentType'>;

export interface MetricsEndpointOptions {
  config: Pick<Config, 'issuer' | 'metricsToken'>;
  metrics: { registry: MetricsSource };
}

/** /metrics on the main port. */
export const metricsEndpoint: FastifyPluginCallback<MetricsEndpointOptions> = (app, ctx, done) => {
  app.get('/metrics', metricsHandler(ctx, false));
  done();
};
