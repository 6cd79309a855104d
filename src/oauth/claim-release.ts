import { RESERVED_CLAIMS } from './claim-names.js';

/**
 * Which claims of a user each token carries (issue 14 item 5). Pure; the grants, the hybrid
 * authorization response and /userinfo all ask here, so every path releases the same claims.
 */

/** OIDC Core §5.4: the claims each scope asks for. */
export const SCOPE_CLAIMS: Readonly<Record<string, readonly string[]>> = {
  profile: [
    'name',
    'family_name',
    'given_name',
    'middle_name',
    'nickname',
    'preferred_username',
    'profile',
    'picture',
    'website',
    'gender',
    'birthdate',
    'zoneinfo',
    'locale',
    'updated_at',
  ],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
};

/** What a token can say about a user: their claims (standard and custom) and roles. */
export interface ClaimSource {
  claims: Readonly<Record<string, unknown>>;
  roles: readonly string[];
}

/** Pure: the claims a set of scopes releases, from a user's claims. */
export function claimsForScopes(claims: Readonly<Record<string, unknown>>, scopes: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const scope of scopes) {
    // Own keys only: a resource's scope named "constructor" must not reach Object.prototype.
    for (const name of (Object.hasOwn(SCOPE_CLAIMS, scope) ? SCOPE_CLAIMS[scope] : undefined) ?? []) {
      if (Object.hasOwn(claims, name) && claims[name] !== undefined) out[name] = claims[name];
    }
  }
  return out;
}

/**
 * Pure: the claims `names` release from a user (a resource's `access_token_claims`, a client's
 * `id_token_claims`): `roles` from the user's roles (always, even empty: a resource server asking
 * for roles learns the user has none), the others from their claims when the user has them. Own
 * keys only; reserved names never come out, whatever the stored document holds.
 */
export function claimsByName(user: ClaimSource, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    if (name === 'roles') out.roles = [...user.roles];
    else if (!RESERVED_CLAIMS.has(name) && Object.hasOwn(user.claims, name) && user.claims[name] !== undefined) {
      out[name] = user.claims[name];
    }
  }
  return out;
}

/** A client's claim settings (client metadata). */
export interface ClientClaimSettings {
  id_token_claims?: readonly string[] | undefined;
  id_token_minimal?: boolean | undefined;
}

/**
 * /userinfo (OIDC Core §5.3.2): the claims of the token's scopes (§5.4), and the client's
 * `id_token_claims`.
 */
export function userinfoClaims(user: ClaimSource, scopes: readonly string[], client: ClientClaimSettings): Record<string, unknown> {
  return { ...claimsForScopes(user.claims, scopes), ...claimsByName(user, client.id_token_claims ?? []) };
}

/**
 * The user's claims in an ID token: by default the same as /userinfo — the standard claims of the
 * granted scopes, as Keycloak, Auth0 and Google put them in the ID token, since many relying
 * parties never call /userinfo (OIDC Core §5.4 allows either) — and none at all for a client
 * that set `id_token_minimal`.
 */
export function idTokenUserClaims(user: ClaimSource, scopes: readonly string[], client: ClientClaimSettings): Record<string, unknown> {
  return client.id_token_minimal === true ? {} : userinfoClaims(user, scopes, client);
}

/** Whether an ID token for this client may carry claims of the user (so the user must be read). */
export const idTokenWantsUser = (scopes: readonly string[], client: ClientClaimSettings): boolean =>
  client.id_token_minimal !== true && (scopes.some((s) => Object.hasOwn(SCOPE_CLAIMS, s)) || (client.id_token_claims?.length ?? 0) > 0);

/** The claims names the access token's audiences ask for (`access_token_claims`), in order, once each. */
export function accessTokenClaimNames(
  audiences: readonly string[],
  resources: ReadonlyMap<string, { access_token_claims?: readonly string[] | undefined }>,
): string[] {
  return [...new Set(audiences.flatMap((a) => resources.get(a)?.access_token_claims ?? []))];
}
