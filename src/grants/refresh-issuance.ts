import type { ClientRecord } from '../domain/client.js';
import type { FirstRefreshToken } from '../store/repositories/codes.js';
import type { NewRefreshToken } from '../store/repositories/refresh-tokens.js';
import { hashToken, newOpaqueToken } from '../tokens/opaque.js';
import type { GrantDeps } from './types.js';

/** What starting a refresh-token family needs. */
export type RefreshIssuanceDeps = Pick<GrantDeps, 'clock' | 'refreshTokens' | 'refreshTokenIdleTtl' | 'refreshTokenAbsoluteTtl'>;

/**
 * Whether a grant gets a refresh token: the client must be allowed the refresh_token grant and,
 * for an OpenID request, the person must have granted offline_access (OIDC Core §11).
 */
export function refreshTokenAllowed(client: ClientRecord, scopes: readonly string[]): boolean {
  return clientMayRefresh(client) && scopesAllowRefresh(scopes);
}

/**
 * RFC 9449 §5: a public client's refresh tokens are bound to the DPoP key that obtained them (it
 * has no other credential a thief would lack); a confidential client's are not, since it
 * authenticates at every refresh. The thumbprint to store, or null.
 */
export const refreshTokenBinding = (client: ClientRecord, dpopJkt: string | undefined): string | null =>
  dpopJkt !== undefined && client.metadata.token_endpoint_auth_method === 'none' ? dpopJkt : null;

/** The client's half of refreshTokenAllowed. */
export const clientMayRefresh = (client: ClientRecord): boolean => client.metadata.grant_types.includes('refresh_token');

/** The scopes' half (OIDC Core §11); CodesRepository.consume states it in SQL too. */
export const scopesAllowRefresh = (scopes: readonly string[]): boolean => !scopes.includes('openid') || scopes.includes('offline_access');

/**
 * A new refresh token, as a code exchange has the store write it with the code's consumption
 * (CodesRepository.consume): the grant then lives REFRESH_TOKEN_ABSOLUTE_TTL from now.
 */
export function firstRefreshToken(
  deps: Pick<RefreshIssuanceDeps, 'clock' | 'refreshTokenIdleTtl' | 'refreshTokenAbsoluteTtl'>,
  dpopJkt: string | null = null,
): {
  token: string;
  row: FirstRefreshToken;
} {
  const token = newOpaqueToken();
  return {
    token,
    row: {
      tokenHash: hashToken(token),
      idleSeconds: deps.refreshTokenIdleTtl,
      grantExpiresAt: new Date(deps.clock.now() + deps.refreshTokenAbsoluteTtl * 1000),
      dpopJkt,
    },
  };
}

/** The row of a new refresh token; its idle expiry never passes the grant's absolute one. */
export function newRefreshTokenRow(
  deps: RefreshIssuanceDeps,
  tokenHash: string,
  base: Omit<NewRefreshToken, 'tokenHash' | 'createdAt' | 'expiresAt'>,
  grantExpiresAt: Date,
): NewRefreshToken {
  const now = deps.clock.now();
  return {
    ...base,
    tokenHash,
    createdAt: new Date(now),
    expiresAt: new Date(Math.min(now + deps.refreshTokenIdleTtl * 1000, grantExpiresAt.getTime())),
  };
}

/**
 * Starts a refresh-token family on a grant: the grant now lives REFRESH_TOKEN_ABSOLUTE_TTL, and
 * the first token is written in the same transaction. Returns the token (256 random bits, stored
 * only as a hash).
 */
export async function issueRefreshToken(
  deps: RefreshIssuanceDeps,
  base: Omit<NewRefreshToken, 'tokenHash' | 'createdAt' | 'expiresAt'>,
): Promise<string> {
  const token = newOpaqueToken();
  const now = deps.clock.now();
  await deps.refreshTokens.startFamily(
    { ...base, tokenHash: hashToken(token), createdAt: new Date(now) },
    new Date(now + deps.refreshTokenAbsoluteTtl * 1000),
    deps.refreshTokenIdleTtl,
  );
  return token;
}
