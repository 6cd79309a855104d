import type { ClientRecord } from '../domain/client.js';
import { epochSeconds } from '../clock.js';
import { buildAccessTokenClaims, signAccessToken, tokenTypeFor } from '../tokens/access-token.js';
import { buildIdTokenClaims, signIdToken } from '../tokens/id-token.js';
import { accessTokenClaimNames, claimsByName, idTokenUserClaims, idTokenWantsUser } from '../oauth/claim-release.js';
import type { GrantDeps, TokenResponse } from './types.js';

/** What issuing a person's tokens needs. */
export type UserTokenDeps = Pick<
  GrantDeps,
  'registry' | 'accessTokenTtl' | 'accessTokenSigningAlg' | 'clock' | 'keystore' | 'issuer' | 'idTokenTtl' | 'userinfoUrl' | 'jtis'
> & {
  /** The users' claims and roles, read at issuance (so a refresh carries the current ones). */
  trust: { users: Pick<GrantDeps['trust']['users'], 'findById'> };
};

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
  /** How the person signed in (RFC 8176), when known: the code grant's ID token states it. */
  amr?: readonly string[] | null;
}

/**
 * The access token (and, for `openid`, the ID token) of a grant a person gave: the code, refresh
 * and device grants all answer this way. An OpenID access token also names the userinfo endpoint
 * as an audience; its lifetime is the shortest of its resources'. Always signed with the current
 * keys. The caller adds a refresh token when the grant has one.
 *
 * Claims of the user (src/oauth/claim-release.ts): the access token carries those its resources
 * list in `access_token_claims`; the ID token those of the granted scopes and the client's
 * `id_token_claims`, unless the client keeps ID tokens minimal. The user is read only when one
 * of them asks, and as of now: a refresh carries the claims the user has today.
 */
export async function userTokenResponse(deps: UserTokenDeps, client: ClientRecord, t: UserTokens): Promise<TokenResponse> {
  const openid = t.scopes.includes('openid');
  const resources = await deps.registry.resourceMap();
  const ttl = Math.min(deps.accessTokenTtl, ...t.audiences.map((a) => resources.get(a)?.access_token_ttl ?? deps.accessTokenTtl));
  const iat = epochSeconds(deps.clock);
  const atClaimNames = accessTokenClaimNames(t.audiences, resources);
  const wantsUser = atClaimNames.length > 0 || (openid && idTokenWantsUser(t.scopes, client.metadata));
  // A user deleted meanwhile took the grant with them (its tokens are revoked): no claims to release.
  const user = wantsUser ? await deps.trust.users.findById(t.subject) : undefined;
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
        extra: { ...(user ? claimsByName(user, atClaimNames) : {}), auth_time: t.authTime },
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
        ...(t.amr ? { amr: t.amr } : {}),
        ...(t.nonce ? { nonce: t.nonce } : {}),
        accessToken,
        grantId: t.grantId,
        ...(user ? { userClaims: idTokenUserClaims(user, t.scopes, client.metadata) } : {}),
      }),
      deps.keystore.signingKey(client.metadata.id_token_signed_response_alg ?? 'RS256'),
    );
  }
  return response;
}

/**
 * The claims of a Latchkey user that an access token for `audiences` carries (their resources'
 * `access_token_claims`): for the JWT-bearer and token-exchange grants, whose subject may be a
 * user. `userId` undefined (a client, a foreign subject): none.
 */
export async function accessTokenUserClaims(
  deps: { registry: Pick<GrantDeps['registry'], 'resourceMap'>; trust: { users: Pick<GrantDeps['trust']['users'], 'findById'> } },
  userId: string | undefined,
  audiences: readonly string[],
): Promise<Record<string, unknown>> {
  if (userId === undefined) return {};
  const names = accessTokenClaimNames(audiences, await deps.registry.resourceMap());
  if (names.length === 0) return {};
  const user = await deps.trust.users.findById(userId);
  return user ? claimsByName(user, names) : {};
}
