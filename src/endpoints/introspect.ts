import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ENDPOINT_PATHS, type AppContext } from '../app.js';
import { invalidClient } from '../oauth/errors.js';
import { parseParams, required } from '../oauth/params.js';
import { verifyOwnJwt } from '../tokens/verify-own.js';
import { clientAuthInput, formParams, NO_STORE } from './form.js';

const parameters = z.object({ token: required('token'), token_type_hint: z.string().optional() });

/**
 * RFC 7662. Only authenticated clients may ask (§2.1); anything that is not a live token this
 * server issued — garbage, foreign, expired, revoked — is simply {"active": false} (§2.2).
 */
export function introspectEndpoint(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    app.post(ENDPOINT_PATHS.introspection, async (req, reply) => {
      const params = formParams(req);
      const { method } = await ctx.authenticator.authenticate(clientAuthInput(req, params));
      if (method === 'none') {
        throw invalidClient('introspection requires client authentication; public clients may not introspect');
      }
      const { token } = parseParams(parameters, params);
      reply.headers(NO_STORE);
      const verified = await verifyOwnJwt(token, ctx.keystore, { issuer: ctx.config.issuer, now: ctx.clock.now(), typ: 'at+jwt' });
      if (!verified) return { active: false };
      const p = verified.payload;
      if (await ctx.repos.revocations.isRevoked(String(p.jti), typeof p.gid === 'string' ? p.gid : undefined)) return { active: false };
      return {
        active: true,
        token_type: 'Bearer',
        iss: p.iss,
        sub: p.sub,
        aud: p.aud,
        client_id: p.client_id,
        ...(p.scope ? { scope: p.scope } : {}),
        jti: p.jti,
        iat: p.iat,
        exp: p.exp,
      };
    });
  };
}
