import { z } from 'zod';

/**
 * Names no user claim may take: the claims of the protocol (RFC 7519 §4.1, OIDC Core §2 and §5.6.2,
 * RFC 9068 §2.2, RFC 8693 §4, RFC 7800, RFC 9449, RFC 9396, RFC 8417) and Latchkey's own (`gid`, the
 * grant id; `roles`, which comes from the user's roles). A custom claim with one of these names
 * would let whoever edits a user forge what a token says about its issuer, audience or lifetime.
 */
export const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'typ',
  'cty',
  'alg',
  'kid',
  'jwk',
  'crit',
  'auth_time',
  'nonce',
  'acr',
  'amr',
  'azp',
  'sid',
  'at_hash',
  'c_hash',
  's_hash',
  '_claim_names',
  '_claim_sources',
  'scope',
  'scp',
  'client_id',
  'cnf',
  'act',
  'may_act',
  'events',
  'toe',
  'txn',
  'authorization_details',
  'htm',
  'htu',
  'ath',
  'token_type',
  'active',
  'username',
  'gid',
  'roles',
]);

/** A custom claim name: a short identifier, or a collision-resistant URL (RFC 7519 §4.2). */
export const CUSTOM_CLAIM_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;
const URL_CLAIM_NAME = /^https:\/\/[\x21-\x7E]{1,247}$/;

/** Why a name cannot be a custom claim, or undefined when it can. */
export function customClaimNameProblem(name: string): string | undefined {
  if (RESERVED_CLAIMS.has(name)) {
    return `claim "${name}" is reserved: the protocol or Latchkey sets it${name === 'roles' ? " (set roles with the user's roles)" : ''}`;
  }
  if (Object.hasOwn(Object.prototype, name)) return `claim "${name}" is not allowed as a claim name`;
  if (!CUSTOM_CLAIM_NAME.test(name) && !URL_CLAIM_NAME.test(name)) {
    const shown = name.length > 40 ? `${name.slice(0, 40)}…` : name;
    return `claim ${JSON.stringify(shown)} has an invalid name: a letter, then up to 63 letters, digits or _ . : - (or an https:// URL of at most 255 characters)`;
  }
  return undefined;
}

/** The most claim names a resource or a client may ask for. */
export const MAX_RELEASED_CLAIMS = 50;

/**
 * The claims a resource puts in its access tokens (`access_token_claims`) or a client in its ID
 * tokens and userinfo (`id_token_claims`): `roles`, a standard claim or a custom claim name. A
 * set, kept in the order given.
 */
export const releasedClaimNamesSchema = (member: string) =>
  z
    .array(
      z.string().superRefine((name, ctx) => {
        if (name === 'roles') return;
        const problem = customClaimNameProblem(name);
        if (problem) ctx.addIssue({ code: 'custom', message: `${member}: ${problem}` });
      }),
    )
    .max(MAX_RELEASED_CLAIMS, `${member} may name at most ${MAX_RELEASED_CLAIMS} claims`)
    .superRefine((names, ctx) => {
      const seen = new Set<string>();
      names.forEach((n, i) => {
        if (seen.has(n)) ctx.addIssue({ code: 'custom', path: [i], message: `${member}: claim "${n}" appears twice` });
        seen.add(n);
      });
    });
