import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { isFormUrlEncoded } from './content-type.js';
import { ENDPOINT_PATHS } from './paths.js';
import { OAuthError } from '../oauth/errors.js';
import { verifyOwnAccessToken } from '../tokens/own-access-token.js';
import { userinfoClaims } from '../oauth/claim-release.js';
import type { Registry } from '../clients/registry.js';
import { NO_STORE, type FormRoute } from './form.js';
import type { Config } from '../config.js';
import type { Clock } from '../clock.js';
import type { KeyStore } from '../keys/keystore.js';
import type { Repositories } from '../store/repositories/index.js';

/** RFC 6750 §3: every failure carries a WWW-Authenticate Bearer challenge. */
function bearerError(
  code: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | undefined,
  description: string,
  status: number,
): OAuthError {
  const challenge = code
    ? `Bearer realm="latchkey", error="${code}", error_description="${description.replace(/["\\]/g, '')}"`
    : 'Bearer realm="latchkey"';
  return new OAuthError(code ?? 'invalid_token', description, { status, headers: { 'www-authenticate': challenge } });
}

/** The bearer token from the header or (POST) the form body — never the query (RFC 6750 §2.3, docs/security.md item 21). */
function bearerToken(req: FastifyRequest<FormRoute>): string {
  const query = req.query;
  if (query && 'access_token' in query) {
    throw bearerError('invalid_request', 'access tokens are not accepted in the query string; send them in the Authorization header', 400);
  }
  const header = req.headers.authorization;
  let fromBody: string | undefined;
  if (req.method === 'POST' && isFormUrlEncoded(req.headers['content-type'])) {
    const v = req.body?.access_token;
    if (Array.isArray(v)) throw bearerError('invalid_request', 'access_token is repeated', 400);
    fromBody = v;
  }
  if (header !== undefined && fromBody !== undefined)
    throw bearerError('invalid_request', 'send the access token once: in the Authorization header or the form body, not both', 400);
  if (header !== undefined) {
    const [, token] = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header) ?? [];
    if (token === undefined) throw bearerError('invalid_request', 'the Authorization header must be "Bearer <access token>"', 400);
    return token;
  }
  if (fromBody) return fromBody;
  throw bearerError(undefined, 'an access token is required', 401);
}

export interface UserinfoEndpointOptions {
  config: Pick<Config, 'issuer'>;
  clock: Clock;
  keystore: KeyStore;
  repos: Pick<Repositories, 'revocations' | 'users'>;
  /** The token's client: its id_token_claims are released here too. */
  registry: Pick<Registry, 'client'>;
}

/**
 * OIDC Core §5.3: the claims the access token's scopes release (§5.4), and those its client lists
 * in id_token_claims, for its subject (src/oauth/claim-release.ts).
 */
export const userinfoEndpoint: FastifyPluginCallback<UserinfoEndpointOptions> = (app, ctx, done) => {
  const userinfoUrl = `${ctx.config.issuer}${ENDPOINT_PATHS.userinfo}`;
  const accessTokens = { keystore: ctx.keystore, issuer: ctx.config.issuer, statuses: ctx.repos.revocations };
  const handler = async (req: FastifyRequest<FormRoute>, reply: FastifyReply<FormRoute>) => {
    const token = bearerToken(req);
    const verdict = await verifyOwnAccessToken(token, accessTokens, ctx.clock.now());
    if (!verdict.live) {
      const why = {
        invalid: 'the access token is invalid or expired',
        expired: 'the access token is invalid or expired',
        revoked: 'the access token has been revoked',
        client_deleted: 'the client this access token was issued to has been deleted',
      }[verdict.reason];
      throw bearerError('invalid_token', why, 401);
    }
    const p = verdict.claims;
    const aud = typeof p.aud === 'string' ? [p.aud] : p.aud;
    if (!aud.includes(userinfoUrl)) throw bearerError('invalid_token', 'the access token is not meant for the userinfo endpoint', 401);
    const scopes = typeof p.scope === 'string' ? p.scope.split(' ') : [];
    if (!scopes.includes('openid')) throw bearerError('insufficient_scope', 'the access token was not issued with the openid scope', 403);
    const user = await ctx.repos.users.findById(p.sub);
    if (!user) throw bearerError('invalid_token', 'the user of this access token no longer exists', 401);
    // A live token's client exists (verifyOwnAccessToken refuses those of deleted clients).
    const client = typeof p.client_id === 'string' ? await ctx.registry.client(p.client_id) : undefined;
    return reply.headers(NO_STORE).send({ ...userinfoClaims(user, scopes, client?.metadata ?? {}), sub: user.id });
  };
  app.get<FormRoute>(ENDPOINT_PATHS.userinfo, handler);
  app.post<FormRoute>(ENDPOINT_PATHS.userinfo, handler);
  done();
};
