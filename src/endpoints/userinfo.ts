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
import { dpopChallenge, type DpopVerifier } from './dpop.js';

type ErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof';

/**
 * RFC 6750 §3 and RFC 9449 §7.1: every failure carries a challenge. A request that used the DPoP
 * scheme is answered with a DPoP challenge (with `algs`); one without a token is offered both
 * schemes; any other with Bearer.
 */
function resourceError(
  code: ErrorCode | undefined,
  description: string,
  status: number,
  scheme: 'Bearer' | 'DPoP' | 'both' = 'Bearer',
): OAuthError {
  const bearer = code
    ? `Bearer realm="latchkey", error="${code}", error_description="${description.replace(/["\\]/g, '')}"`
    : 'Bearer realm="latchkey"';
  const challenge = scheme === 'DPoP' ? dpopChallenge(code, description) : scheme === 'both' ? `${bearer}, ${dpopChallenge()}` : bearer;
  return new OAuthError(code ?? 'invalid_token', description, { status, headers: { 'www-authenticate': challenge } });
}

/** The access token as presented: its scheme (RFC 6750 Bearer, RFC 9449 §7.1 DPoP) and value. */
interface Presented {
  scheme: 'Bearer' | 'DPoP';
  token: string;
}

/** The access token from the header or (POST, Bearer only) the form body — never the query (RFC 6750 §2.3, docs/security.md item 21). */
function presentedToken(req: FastifyRequest<FormRoute>): Presented {
  const query = req.query;
  if (query && 'access_token' in query) {
    throw resourceError(
      'invalid_request',
      'access tokens are not accepted in the query string; send them in the Authorization header',
      400,
    );
  }
  const header = req.headers.authorization;
  let fromBody: string | undefined;
  if (req.method === 'POST' && isFormUrlEncoded(req.headers['content-type'])) {
    const v = req.body?.access_token;
    if (Array.isArray(v)) throw resourceError('invalid_request', 'access_token is repeated', 400);
    fromBody = v;
  }
  if (header !== undefined && fromBody !== undefined)
    throw resourceError('invalid_request', 'send the access token once: in the Authorization header or the form body, not both', 400);
  if (header !== undefined) {
    const [, scheme, token] = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header) ?? [];
    if (token === undefined || scheme === undefined)
      throw resourceError(
        'invalid_request',
        'the Authorization header must be "Bearer <access token>" or "DPoP <access token>"',
        400,
        'both',
      );
    return { scheme: scheme.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token };
  }
  if (fromBody) return { scheme: 'Bearer', token: fromBody };
  throw resourceError(undefined, 'an access token is required', 401, 'both');
}

export interface UserinfoEndpointOptions {
  config: Pick<Config, 'issuer'>;
  clock: Clock;
  keystore: KeyStore;
  repos: Pick<Repositories, 'revocations' | 'users'>;
  /** DPoP proofs (RFC 9449 §7): the same verifier as the token endpoint's. */
  dpop: DpopVerifier;
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
    const { scheme, token } = presentedToken(req);
    // RFC 9449 §7.1: with the DPoP scheme, a proof of the token's key, carrying its hash (`ath`).
    let proofJkt: string | undefined;
    if (scheme === 'DPoP') {
      if (req.headers.dpop === undefined)
        throw resourceError('invalid_dpop_proof', 'a DPoP access token must be sent with a DPoP proof (the DPoP header)', 401, 'DPoP');
      proofJkt = (await ctx.dpop.verify(req, userinfoUrl, 'resource', token))?.jkt;
      reply.headers(ctx.dpop.responseHeaders());
    }
    const fail = (code: ErrorCode, why: string, status = 401) => resourceError(code, why, status, scheme);
    const verdict = await verifyOwnAccessToken(token, accessTokens, ctx.clock.now());
    if (!verdict.live) {
      const why = {
        invalid: 'the access token is invalid or expired',
        expired: 'the access token is invalid or expired',
        revoked: 'the access token has been revoked',
        client_deleted: 'the client this access token was issued to has been deleted',
      }[verdict.reason];
      throw fail('invalid_token', why);
    }
    const p = verdict.claims;
    const jkt = p.cnf?.jkt;
    // RFC 9449 §7.2: a DPoP-bound token is never accepted as a bearer token.
    if (jkt !== undefined && scheme === 'Bearer')
      throw resourceError(
        'invalid_token',
        'this access token is DPoP-bound: send it as "Authorization: DPoP <token>" with a DPoP proof',
        401,
        'DPoP',
      );
    if (scheme === 'DPoP') {
      if (jkt === undefined) throw fail('invalid_token', 'this access token is not DPoP-bound: send it as "Authorization: Bearer <token>"');
      if (jkt !== proofJkt)
        throw fail('invalid_token', 'the DPoP proof is signed with another key than the one this access token is bound to');
    }
    const aud = typeof p.aud === 'string' ? [p.aud] : p.aud;
    if (!aud.includes(userinfoUrl)) throw fail('invalid_token', 'the access token is not meant for the userinfo endpoint');
    const scopes = typeof p.scope === 'string' ? p.scope.split(' ') : [];
    if (!scopes.includes('openid')) throw fail('insufficient_scope', 'the access token was not issued with the openid scope', 403);
    const user = await ctx.repos.users.findById(p.sub);
    if (!user) throw fail('invalid_token', 'the user of this access token no longer exists');
    // A live token's client exists (verifyOwnAccessToken refuses those of deleted clients).
    const client = typeof p.client_id === 'string' ? await ctx.registry.client(p.client_id) : undefined;
    return reply.headers(NO_STORE).send({ ...userinfoClaims(user, scopes, client?.metadata ?? {}), sub: user.id });
  };
  app.get<FormRoute>(ENDPOINT_PATHS.userinfo, handler);
  app.post<FormRoute>(ENDPOINT_PATHS.userinfo, handler);
  done();
};
