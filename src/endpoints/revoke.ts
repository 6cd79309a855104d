import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ENDPOINT_PATHS, type AppContext } from '../app.js';
import { invalidRequest } from '../oauth/errors.js';
import { parseParams, required } from '../oauth/params.js';
import { verifyOwnJwt } from '../tokens/verify-own.js';
import { clientAuthInput, formParams, NO_STORE } from './form.js';

const parameters = z.object({ token: required('token'), token_type_hint: z.string().optional() });

/**
 * RFC 7009. An access token is revoked by recording its jti until it would have expired anyway.
 * Invalid, unknown or expired tokens answer 200 too (§2.2): there is nothing left to revoke.
 * A token issued to another client is refused (§2.1) and stays valid.
 */
export function revokeEndpoint(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    app.post(ENDPOINT_PATHS.revocation, async (req, reply) => {
      const params = formParams(req);
      const { client } = await ctx.authenticator.authenticate(clientAuthInput(req, params));
      const { token } = parseParams(parameters, params);
      reply.headers(NO_STORE);
      const verified = await verifyOwnJwt(token, ctx.keystore, { issuer: ctx.config.issuer, now: ctx.clock.now(), typ: 'at+jwt' });
      if (!verified) return reply.code(200).send();
      const p = verified.payload;
      if (p.client_id !== client.clientId) {
        throw invalidRequest('this token was issued to another client; only that client may revoke it');
      }
      await ctx.repos.revocations.revoke(String(p.jti), client.clientId, new Date(p.exp! * 1000));
      return reply.code(200).send();
    });
  };
}
