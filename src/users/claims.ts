import { z } from 'zod';
import { customClaimNameProblem } from '../oauth/claim-names.js';

export { RESERVED_CLAIMS, customClaimNameProblem } from '../oauth/claim-names.js';
export { SCOPE_CLAIMS, claimsByName, claimsForScopes, type ClaimSource } from '../oauth/claim-release.js';

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

/** OIDC Core §5.1: the standard claims and their formats. */
const standardClaims = {
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
};

/** The OIDC standard claim names (OIDC Core §5.1), `sub` excepted: Latchkey assigns it. */
export const STANDARD_CLAIMS: readonly string[] = Object.keys(standardClaims);

/** The serialized size of a user's claims, standard and custom together (UTF-8 bytes of their JSON). */
export const MAX_CLAIMS_BYTES = 8192;
/** How deeply a custom claim's value may nest objects and arrays (a plain value is depth 0). */
export const MAX_CLAIM_DEPTH = 5;

/** The depth of a JSON value, or undefined when it is not JSON (undefined, functions, non-finite numbers). */
function jsonDepth(v: unknown): number | undefined {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return 0;
  if (typeof v === 'number') return Number.isFinite(v) ? 0 : undefined;
  if (typeof v !== 'object') return undefined;
  let deepest = 0;
  for (const x of Array.isArray(v) ? v : Object.values(v)) {
    const d = jsonDepth(x);
    if (d === undefined) return undefined;
    if (d + 1 > deepest) deepest = d + 1;
    if (deepest > MAX_CLAIM_DEPTH) return deepest; // enough to refuse; stop walking
  }
  return deepest;
}

/**
 * A user's claims: the OIDC standard claims in their formats, and custom claims (any JSON value
 * under a valid, unreserved name) beside them in the same document. Errors name the claim.
 */
export const userClaimsSchema = z
  .object(standardClaims)
  .partial()
  .catchall(z.unknown())
  .superRefine((claims, ctx) => {
    for (const [name, value] of Object.entries(claims)) {
      if (Object.hasOwn(standardClaims, name)) continue;
      const problem = customClaimNameProblem(name);
      if (problem) {
        ctx.addIssue({ code: 'custom', path: [name], message: problem });
        continue;
      }
      const depth = jsonDepth(value);
      if (depth === undefined) ctx.addIssue({ code: 'custom', path: [name], message: `claim "${name}" must be a JSON value` });
      else if (depth > MAX_CLAIM_DEPTH) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `claim "${name}" nests deeper than ${MAX_CLAIM_DEPTH} levels of objects and arrays`,
        });
      } else if (value === null) {
        ctx.addIssue({ code: 'custom', path: [name], message: `claim "${name}" is null: leave it out instead` });
      }
    }
    const size = Buffer.byteLength(JSON.stringify(claims), 'utf8');
    if (size > MAX_CLAIMS_BYTES) {
      const largest = Object.entries(claims)
        .map(([name, v]) => [name, Buffer.byteLength((JSON.stringify(v) as string | undefined) ?? '', 'utf8')] as const)
        .sort((a, b) => b[1] - a[1])[0];
      ctx.addIssue({
        code: 'custom',
        path: largest ? [largest[0]] : [],
        message: `the claims take ${size} bytes as JSON, more than ${MAX_CLAIMS_BYTES}${largest ? `; the largest is "${largest[0]}" (${largest[1]} bytes)` : ''}`,
      });
    }
  });

export type UserClaims = z.output<typeof userClaimsSchema>;

/** The scopes OpenID Connect defines; every other scope belongs to a resource. */
export const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'address', 'phone', 'offline_access']);
