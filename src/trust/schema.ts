import { z } from 'zod';
import { jwksSchema, jwksUriSchema } from '../oauth/jwks-schema.js';
import { isScopeToken } from '../oauth/scopes.js';

/** How long an issuer identifier, a client_id or an asserted subject may be. */
const MAX_ID = 255;

const identifier = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(MAX_ID, `${what} must be at most ${MAX_ID} characters`)
    .regex(/^[\x21-\x7E]+$/, `${what} must be printable ASCII without spaces`);

/**
 * A trusted issuer (docs/contract.md `trusted_issuers`): who may sign JWT-bearer assertions
 * (RFC 7523 §2.1) and token-exchange subject/actor tokens of type jwt (RFC 8693), for which
 * subjects and scopes, presented by which clients. Unknown members are refused, as for clients.
 */
export const trustedIssuerSchema = z
  .strictObject({
    /** The `iss` value of its JWTs, compared exactly (RFC 7519 §4.1.1: case-sensitive). */
    issuer: identifier('issuer'),
    jwks: jwksSchema.optional(),
    jwks_uri: jwksUriSchema.optional(),
    /** The one subject it may assert: a Latchkey username, or any other identifier. */
    subject: z.string().min(1, 'subject must not be empty').max(MAX_ID, `subject must be at most ${MAX_ID} characters`).optional(),
    allow_any_subject: z.boolean({ error: 'allow_any_subject must be true or false' }).default(false),
    /** The scopes its assertions may obtain (space-separated); empty: tokens without scopes. */
    scope: z
      .string()
      .refine((s) => s === '' || s.split(' ').every(isScopeToken), 'scope must be space-separated scope tokens (RFC 6749 §3.3)')
      .default(''),
    /** The clients that may present its JWTs at the token endpoint. */
    client_ids: z
      .array(identifier('each client_id'))
      .min(1, "client_ids must name at least one client allowed to present this issuer's assertions")
      .max(100, 'client_ids may hold at most 100 clients')
      .transform((ids) => [...new Set(ids)]),
  })
  .superRefine((t, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (t.jwks && t.jwks_uri) issue('jwks', 'give either jwks or jwks_uri, not both');
    if (!t.jwks && !t.jwks_uri) issue('jwks', 'a trusted issuer needs its public keys: jwks (inline) or jwks_uri');
    if (t.subject !== undefined && t.allow_any_subject) issue('subject', 'give either subject or allow_any_subject: true, not both');
    if (t.subject === undefined && !t.allow_any_subject) {
      issue('subject', 'name the one subject this issuer may assert (subject), or set allow_any_subject: true');
    }
  });

export type TrustedIssuerInput = z.input<typeof trustedIssuerSchema>;
export type TrustedIssuer = z.output<typeof trustedIssuerSchema>;
