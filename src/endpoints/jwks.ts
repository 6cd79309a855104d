import type { FastifyPluginCallback } from 'fastify';
import { ENDPOINT_PATHS } from './paths.js';
import type { Config } from '../config.js';
import type { KeyStore } from '../keys/keystore.js';

export interface JwksEndpointOptions {
  config: Pick<Config, 'jwksMaxAge'>;
  keystore: Pick<KeyStore, 'jwks'>;
}

/** The jwks_uri: public keys only, with validators so resource servers can poll cheaply. */
export const jwksEndpoint: FastifyPluginCallback<JwksEndpointOptions> = (app, ctx, done) => {
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
  done();
};
