import { z } from 'zod';
import { releasedClaimNamesSchema } from './claim-names.js';
import { isScopeToken } from './scopes.js';
import { redirectUriProblem, resourceIndicatorProblem } from './uris.js';
import { ASYMMETRIC_ALGS } from '../keys/algorithms.js';
import { GRANTS, grantTypesOf, refusalOf, type GrantTable, type GrantType } from '../grants/index.js';
import { jwksSchema, jwksUriSchema } from './jwks-schema.js';

export { jwksSchema, jwksUriSchema } from './jwks-schema.js';
export { describeIssues } from './issues.js';

/** Grant types a client may be registered for: the grant registry's keys (grants/index.ts). */
export type { GrantType };

export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

export const MIN_SECRET_LENGTH = 32;

const uri = (check: (s: string) => string | undefined) =>
  z.string().superRefine((s, ctx) => {
    const problem = check(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/**
 * RFC 7591 §2 client metadata, as in the bootstrap file (docs/contract.md). Unknown members are
 * refused rather than ignored: in a file an operator wrote, a misspelt field silently dropped
 * would be a misconfiguration nobody notices.
 */
export const clientMetadataSchemaFor = (grants: GrantTable) =>
  z
    .strictObject({
      client_id: z
        .string()
        .min(1, 'client_id must not be empty')
        .max(255, 'client_id must be at most 255 characters')
        .regex(/^[\x21-\x7E]+$/, 'client_id must be printable ASCII without spaces'),
      client_secret: z
        .string()
        .min(
          MIN_SECRET_LENGTH,
          `client_secret must be at least ${MIN_SECRET_LENGTH} characters; generate one with \`openssl rand -base64 32\``,
        )
        .max(512, 'client_secret must be at most 512 characters')
        .optional(),
      client_name: z.string().min(1).max(200).optional(),
      redirect_uris: z.array(uri(redirectUriProblem)).max(50).default([]),
      post_logout_redirect_uris: z.array(uri(redirectUriProblem)).max(50).default([]),
      grant_types: z
        .array(
          z.string().superRefine((g, ctx) => {
            const refusal = refusalOf(g);
            if (refusal) ctx.addIssue({ code: 'custom', message: `grant type "${g}": ${refusal}` });
            else if (!Object.hasOwn(grants, g)) {
              ctx.addIssue({ code: 'custom', message: `unknown grant type "${g}"; supported: ${grantTypesOf(grants).join(', ')}` });
            }
          }),
        )
        .min(1, 'grant_types must list at least one grant type')
        .default(['authorization_code'])
        .transform((g) => [...new Set(g)] as GrantType[]),
      response_types: z
        .array(
          z.enum(['code', 'code id_token'], {
            error: 'response_types may contain only "code" and "code id_token" (implicit response types are not supported)',
          }),
        )
        .default(['code']),
      token_endpoint_auth_method: z
        .enum(AUTH_METHODS, { error: `token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}` })
        .default('client_secret_basic'),
      token_endpoint_auth_signing_alg: z
        .enum(ASYMMETRIC_ALGS, { error: `token_endpoint_auth_signing_alg must be one of ${ASYMMETRIC_ALGS.join(', ')}` })
        .optional(),
      id_token_signed_response_alg: z.enum(['RS256', 'ES256'], { error: 'id_token_signed_response_alg must be RS256 or ES256' }).optional(),
      /** RFC 9126 §6: this client's authorization requests must come through /par. */
      require_pushed_authorization_requests: z.boolean({ error: 'require_pushed_authorization_requests must be true or false' }).optional(),
      /** RFC 9101 §10.5 / OIDC Registration §2: the one algorithm its request objects may use. */
      request_object_signing_alg: z
        .enum(ASYMMETRIC_ALGS, { error: `request_object_signing_alg must be one of ${ASYMMETRIC_ALGS.join(', ')}` })
        .optional(),
      /** RFC 9101 §10.5: every authorization request of this client must be a signed request object. */
      require_signed_request_object: z.boolean({ error: 'require_signed_request_object must be true or false' }).optional(),
      jwks: jwksSchema.optional(),
      jwks_uri: jwksUriSchema.optional(),
      scope: z
        .string()
        .refine((s) => s === '' || s.split(' ').every(isScopeToken), 'scope must be space-separated scope tokens (RFC 6749 §3.3)')
        .default(''),
      audiences: z.array(uri(resourceIndicatorProblem)).max(50).default([]),
      skip_consent: z.boolean().default(false),
      /** RFC 9449 §5.2: every token request of this client must carry a DPoP proof (its tokens are always sender-constrained). */
      dpop_bound_access_tokens: z.boolean({ error: 'dpop_bound_access_tokens must be true or false' }).optional(),
      /** Every sign-in for this client needs the second factor (TOTP); a password-only session is asked for it (step-up). */
      require_mfa: z.boolean({ error: 'require_mfa must be true or false' }).optional(),
      // RFC 7591 §2 descriptive metadata, stored for display.
      client_uri: z.url().optional(),
      logo_uri: z.url().optional(),
      tos_uri: z.url().optional(),
      policy_uri: z.url().optional(),
      contacts: z.array(z.string()).optional(),
      software_id: z.string().optional(),
      software_version: z.string().optional(),
      /** RFC 8693 without an actor_token (impersonation): off unless set (README, token exchange). */
      token_exchange_impersonation: z.boolean({ error: 'token_exchange_impersonation must be true or false' }).optional(),
      /**
       * RFC 8693 §2.1 actor_token: besides the client itself, the parties (an access token's `sub`:
       * another client's id, or a user's id) whose tokens this client may present as the actor.
       */
      token_exchange_actors: z
        .array(z.string().min(1, 'token_exchange_actors must not contain empty names'))
        .max(50, 'token_exchange_actors may name at most 50 parties')
        .optional(),
      /**
       * Claims of the user this client's ID tokens and userinfo answers carry beyond those of the
       * granted scopes (OIDC Core §5.4): `roles`, standard or custom claim names.
       */
      id_token_claims: releasedClaimNamesSchema('id_token_claims').optional(),
      /**
       * true: ID tokens carry no claims of the user (no profile, email, address, phone claims, no
       * id_token_claims); the client reads them from /userinfo. Default false.
       */
      id_token_minimal: z.boolean({ error: 'id_token_minimal must be true or false' }).optional(),
    })
    .superRefine((m, ctx) => {
      const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
      const secretMethod = m.token_endpoint_auth_method === 'client_secret_basic' || m.token_endpoint_auth_method === 'client_secret_post';
      if (m.jwks && m.jwks_uri) issue('jwks', 'give either jwks or jwks_uri, not both (RFC 7591 §2)');
      if (m.token_endpoint_auth_method === 'private_key_jwt' && !m.jwks && !m.jwks_uri) {
        issue('jwks', "private_key_jwt needs the client's public keys in jwks or jwks_uri");
      }
      if ((m.request_object_signing_alg || m.require_signed_request_object) && !m.jwks && !m.jwks_uri) {
        issue('jwks', "signed request objects are verified with the client's public keys: give jwks or jwks_uri");
      }
      if (m.client_secret && !secretMethod) {
        issue('client_secret', `a client using ${m.token_endpoint_auth_method} must not have a client_secret`);
      }
      if (m.grant_types.includes('authorization_code') && m.redirect_uris.length === 0) {
        issue('redirect_uris', 'the authorization_code grant needs at least one redirect_uri');
      }
      // The registry says which client types each grant serves (RFC 6749 §2.1).
      const confidentialOnly = m.grant_types.filter((g) => grants[g] && !grants[g].clientTypes.includes('public'));
      if (m.token_endpoint_auth_method === 'none' && confidentialOnly.length) {
        issue('grant_types', `a public client (token_endpoint_auth_method "none") cannot use ${confidentialOnly.join(' or ')}`);
      }
    });

/** A client-metadata schema for some grant registry (the server's, or a test's with more grants). */
export type ClientMetadataSchema = ReturnType<typeof clientMetadataSchemaFor>;

/** Client metadata against the built-in grant registry. */
export const clientMetadataSchema = clientMetadataSchemaFor(GRANTS);

export type ClientMetadataInput = z.input<typeof clientMetadataSchema>;
export type ClientMetadata = z.output<typeof clientMetadataSchema>;
/** What is stored: the metadata without the secret, which is kept only as a hash. */
export type StoredClientMetadata = Omit<ClientMetadata, 'client_secret'>;

/** What a person reads on the consent page for one scope: plain words, one line. */
const scopeDescription = z
  .string()
  .trim()
  .min(1, 'a scope description must not be empty')
  .max(200, 'a scope description must be at most 200 characters')
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  .refine((d) => !/[\u0000-\u001f\u007f]/.test(d), 'a scope description must be one line of text without control characters');

/**
 * A resource server (RFC 8707 resource, RFC 9068 `aud`). `name` and `scope_descriptions` are what
 * the consent page shows, so a person sees which API each scope is for and what it allows.
 */
export const resourceSchema = z
  .strictObject({
    identifier: uri(resourceIndicatorProblem),
    name: z.string().trim().min(1, 'name must not be empty').max(200, 'name must be at most 200 characters').optional(),
    scopes: z.array(z.string().refine(isScopeToken, 'each scope must be a scope token (RFC 6749 §3.3)')).default([]),
    scope_descriptions: z.record(z.string(), scopeDescription).optional(),
    access_token_ttl: z
      .number()
      .int()
      .min(30, 'access_token_ttl must be at least 30 seconds')
      .max(86400, 'access_token_ttl must be at most 86400 seconds')
      .optional(),
    /**
     * The user's claims its access tokens carry (RFC 9068 §2.2.3.1: roles, groups, entitlements;
     * any standard or custom claim): none unless listed. Tokens without a user carry none.
     */
    access_token_claims: releasedClaimNamesSchema('access_token_claims').optional(),
  })
  .superRefine((r, ctx) => {
    for (const scope of Object.keys(r.scope_descriptions ?? {})) {
      if (!r.scopes.includes(scope)) {
        ctx.addIssue({
          code: 'custom',
          path: ['scope_descriptions', scope],
          message: `describes "${scope}", which is not one of the resource's scopes`,
        });
      }
    }
  });

export type Resource = z.output<typeof resourceSchema>;
