import { z } from 'zod';

/** OIDC Core §5.1 standard claims a user may carry (`sub` is assigned by Latchkey, never given). */
const address = z
  .strictObject({
    formatted: z.string(),
    street_address: z.string(),
    locality: z.string(),
    region: z.string(),
    postal_code: z.string(),
    country: z.string(),
  })
  .partial();

export const userClaimsSchema = z
  .strictObject({
    name: z.string(),
    given_name: z.string(),
    family_name: z.string(),
    middle_name: z.string(),
    nickname: z.string(),
    preferred_username: z.string(),
    profile: z.url(),
    picture: z.url(),
    website: z.url(),
    email: z.email({ error: (issue) => (issue.code === 'invalid_format' ? 'email must be an email address' : undefined) }),
    email_verified: z.boolean(),
    gender: z.string(),
    birthdate: z.string().regex(/^(\d{4}|0000)(-\d{2}-\d{2})?$/, 'birthdate must be YYYY-MM-DD or YYYY (OIDC Core §5.1)'),
    zoneinfo: z.string(),
    locale: z.string(),
    phone_number: z.string(),
    phone_number_verified: z.boolean(),
    address,
    updated_at: z.number().int(),
  })
  .partial();

export type UserClaims = z.output<typeof userClaimsSchema>;

/** OIDC Core §5.4: the claims each scope asks for. */
export const SCOPE_CLAIMS: Readonly<Record<string, readonly (keyof UserClaims)[]>> = {
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

/** The scopes OpenID Connect defines; every other scope belongs to a resource. */
export const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'address', 'phone', 'offline_access']);

/** Pure: the claims a set of scopes releases, from a user's claims. */
export function claimsForScopes(claims: UserClaims, scopes: readonly string[]): UserClaims {
  const out: Record<string, unknown> = {};
  for (const scope of scopes) {
    // Own keys only: a resource's scope named "constructor" must not reach Object.prototype.
    for (const name of (Object.hasOwn(SCOPE_CLAIMS, scope) ? SCOPE_CLAIMS[scope] : undefined) ?? []) {
      if (claims[name] !== undefined) out[name] = claims[name];
    }
  }
  return out;
}
