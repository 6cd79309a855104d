import type { ClientRecord } from '../domain/client.js';
import { epochSeconds } from '../clock.js';
import { buildAccessTokenClaims, signAccessToken, tokenTypeFor } from '../tokens/access-token.js';
import { buildIdTokenClaims, signIdToken } from '../tokens/id-token.js';
import type { GrantDeps, TokenResponse } from './types.js';

/** What issuing a person's tokens needs. */
export type UserTokenDeps = Pick<
  GrantDeps,
  'registry' | 'accessTokenTtl' | 'accessTokenSigningAlg' | 'clock' | 'keystore' | 'issuer' | 'idTokenTtl' | 'userinfoUrl' | 'jtis'
>;

export interface UserTokens {
  /** The user's id (the OpenID `sub`). */
  subject: string;
  scopes: readonly string[];
  /** Resource audiences of the access token. */
  audiences: readonly string[];
  grantId: string;
  /** Seconds since the epoch of the sign-in. */
  authTime: number;
  nonce?: string | null;
  /** RFC 9449 §5: the DPoP key the access token is bound to. */
  dpopJkt?: string | undefined;
}

/**
 * The access token (and, for `openid`, the ID token) of a grant a person gave: the code, refresh
 * and device grants all answer this way. An OpenID access token also names the userinfo endpoint
 * as an audience; its lifetime is the shortest of its resources'. Always signed with the current
 * keys. The caller adds a refresh token when the grant has one.
 */
export async function userTokenResponse(deps: UserTokenDeps, client: ClientRecord, t: UserTokens): Promise<TokenResponse> {
  const openid = t.scopes.includes('openid');
  const resources = await deps.registry.resourceMap();
  const ttl = Math.min(deps.accessTokenTtl, ...t.audiences.map((a) => resources.get(a)?.access_token_ttl ?? deps.accessTokenTtl));
  const iat = epochSeconds(deps.clock);
  const accessToken = signAccessToken(
    buildAccessTokenClaims(
      {
        issuer: deps.issuer,
        subject: t.subject,
        audiences: openid || t.audiences.length === 0 ? [...t.audiences, deps.userinfoUrl] : t.audiences,
        clientId: client.clientId,
        scopes: t.scopes,
        issuedAt: iat,
        ttl,
        grantId: t.grantId,
        ...(t.dpopJkt ? { dpopJkt: t.dpopJkt } : {}),
        extra: { auth_time: t.authTime },
      },
      deps.jtis.next(),
    ),
    deps.keystore.signingKey(deps.accessTokenSigningAlg),
  );
  const response: TokenResponse = {
    access_token: accessToken,
    token_type: tokenTypeFor(t.dpopJkt),
    expires_in: ttl,
    scope: t.scopes.join(' '),
  };
  if (openid) {
    response.id_token = signIdToken(
      buildIdTokenClaims({
        issuer: deps.issuer,
        subject: t.subject,
        clientId: client.clientId,
        issuedAt: iat,
        ttl: deps.idTokenTtl,
        authTime: t.authTime,
        ...(t.nonce ? { nonce: t.nonce } : {}),
        accessToken,
        grantId: t.grantId,
      }),
      deps.keystore.signingKey(client.metadata.id_token_signed_response_alg ?? 'RS256'),
    );
  }
  return response;
}
