import type { FastifyInstance } from 'fastify';
import { ENDPOINT_PATHS, type AppContext } from '../app.js';

/** The jwks_uri: public keys only, with validators so resource servers can poll cheaply. */
export function jwksEndpoint(ctx: AppContext) {
  return (app: FastifyInstance) => {
    app.get(ENDPOINT_PATHS.jwks, async (req, reply) => {
      const { body, etag } = ctx.keystore.jwks();
      reply.headers({
        'content-type': 'application/jwk-set+json; charset=utf-8',
        'cache-control': `public, max-age=${ctx.config.jwksMaxAge}`,
        etag,
      });
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.send(body);
    });
  };
}
