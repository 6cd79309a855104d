import type { FastifyPluginCallback } from 'fastify';
import { z } from 'zod';
import { ENDPOINT_PATHS } from './paths.js';
import { invalidClient } from '../oauth/errors.js';
import { parseParams, required } from '../oauth/params.js';
import { mayIntrospectAccessToken } from '../oauth/introspection-access.js';
import { hashToken } from '../tokens/opaque.js';
import { verifyOwnAccessToken } from '../tokens/own-access-token.js';
import { isLiveRefreshToken } from '../tokens/refresh-token-liveness.js';
import { clientAuthInput, formParams, NO_STORE, type FormRoute } from './form.js';
import type { Config } from '../config.js';
import type { Clock } from '../clock.js';
import type { KeyStore } from '../keys/keystore.js';
import type { Authenticator } from '../client-auth/index.js';
import type { Repositories } from '../store/repositories/index.js';

const parameters = z.object({ token: required('token'), token_type_hint: z.string().optional() });

export interface IntrospectEndpointOptions {
  config: Pick<Config, 'issuer'>;
  clock: Clock;
  keystore: KeyStore;
  authenticator: Authenticator;
  repos: Pick<Repositories, 'refreshTokens' | 'revocations'>;
}

/**
 * RFC 7662. Only authenticated clients may ask (§2.1); anything that is not a live token this
 * server issued — garbage, foreign, expired, revoked, of a deleted client — is simply
 * {"active": false} (§2.2), and so is a live token the caller has no business seeing (§4:
 * oauth/introspection-access.ts). Refresh tokens are reported only to the client they were issued
 * to: they are that client's secret, and no resource server has a reason to see one.
 */
export const introspectEndpoint: FastifyPluginCallback<IntrospectEndpointOptions> = (app, ctx, done) => {
  const accessTokens = { keystore: ctx.keystore, issuer: ctx.config.issuer, statuses: ctx.repos.revocations };
  app.post<FormRoute>(ENDPOINT_PATHS.introspection, async (req, reply) => {
    const params = formParams(req);
    const { client, method } = await ctx.authenticator.authenticate(clientAuthInput(req, params));
    if (method === 'none') {
      throw invalidClient('introspection requires client authentication; public clients may not introspect');
    }
    const { token } = parseParams(parameters, params);
    reply.headers(NO_STORE);
    const now = ctx.clock.now();
    if (token.split('.').length !== 3) {
      if (token.length > 512) return { active: false };
      const r = await ctx.repos.refreshTokens.find(hashToken(token));
      const live = r && r.clientId === client.clientId && isLiveRefreshToken(r, now);
      if (!live) return { active: false };
      return {
        active: true,
        token_type: 'refresh_token',
        client_id: r.clientId,
        ...(r.userId ? { sub: r.userId } : {}),
        scope: r.scopes.join(' '),
        iat: Math.floor(r.createdAt.getTime() / 1000),
        exp: Math.floor(r.expiresAt.getTime() / 1000),
        iss: ctx.config.issuer,
      };
    }
    const verdict = await verifyOwnAccessToken(token, accessTokens, now);
    if (!verdict.live) return { active: false };
    const p = verdict.claims;
    if (!mayIntrospectAccessToken({ clientId: client.clientId, audiences: client.metadata.audiences }, p)) return { active: false };
    return {
      active: true,
      // RFC 9449 §6.2: a DPoP-bound token's confirmation, so a resource server can check the proof.
      token_type: p.cnf?.jkt ? 'DPoP' : 'Bearer',
      ...(p.cnf?.jkt ? { cnf: { jkt: p.cnf.jkt } } : {}),
      iss: p.iss,
      sub: p.sub,
      aud: p.aud,
      client_id: p.client_id,
      ...(p.scope ? { scope: p.scope } : {}),
      jti: p.jti,
      iat: p.iat,
      exp: p.exp,
      ...(p.auth_time !== undefined ? { auth_time: p.auth_time } : {}),
    };
  });
  done();
};
