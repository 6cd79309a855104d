import type { FastifyPluginCallback } from 'fastify';
import { z } from 'zod';
import { ENDPOINT_PATHS } from './paths.js';
import { invalidRequest } from '../oauth/errors.js';
import { parseParams, required } from '../oauth/params.js';
import { hashToken } from '../tokens/opaque.js';
import { verifyOwnJwt } from '../tokens/verify-own.js';
import { clientAuthInput, formParams, NO_STORE, type FormRoute } from './form.js';
import type { Config } from '../config.js';
import type { Clock } from '../clock.js';
import type { KeyStore } from '../keys/keystore.js';
import type { Authenticator } from '../client-auth/index.js';
import type { Repositories } from '../store/repositories/index.js';

const parameters = z.object({ token: required('token'), token_type_hint: z.string().optional() });

export interface RevokeEndpointOptions {
  config: Pick<Config, 'issuer'>;
  clock: Clock;
  keystore: KeyStore;
  authenticator: Authenticator;
  repos: Pick<Repositories, 'refreshTokens' | 'revocations' | 'grants'>;
}

/**
 * RFC 7009. An access token is revoked by recording its jti until it would have expired anyway;
 * a refresh token revokes its whole grant (every refresh and access token of it, §2.1).
 * Invalid, unknown or expired tokens answer 200 too (§2.2): there is nothing left to revoke.
 * A token issued to another client is refused (§2.1) and stays valid.
 */
export const revokeEndpoint: FastifyPluginCallback<RevokeEndpointOptions> = (app, ctx, done) => {
  const notYours = () => invalidRequest('this token was issued to another client; only that client may revoke it');
  app.post<FormRoute>(ENDPOINT_PATHS.revocation, async (req, reply) => {
    const params = formParams(req);
    const { client } = await ctx.authenticator.authenticate(clientAuthInput(req, params));
    const { token } = parseParams(parameters, params);
    reply.headers(NO_STORE);
    const now = ctx.clock.now();
    // The hint only orders the search (RFC 7009 §2.1); a JWT is ours to verify, anything else
    // may be a refresh token.
    if (token.split('.').length === 3) {
      const verified = await verifyOwnJwt(token, ctx.keystore, { issuer: ctx.config.issuer, now, typ: 'at+jwt' });
      if (!verified) return reply.code(200).send();
      const p = verified.payload;
      if (p.client_id !== client.clientId) throw notYours();
      await ctx.repos.revocations.revoke(String(p.jti), client.clientId, new Date(p.exp * 1000));
      return reply.code(200).send();
    }
    if (token.length > 512) return reply.code(200).send();
    const refresh = await ctx.repos.refreshTokens.find(hashToken(token));
    if (!refresh) return reply.code(200).send();
    if (refresh.clientId !== client.clientId) throw notYours();
    await ctx.repos.grants.revoke(refresh.grantId, new Date(now));
    return reply.code(200).send();
  });
  done();
};
