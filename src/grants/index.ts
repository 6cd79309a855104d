import { OAuthError } from '../oauth/errors.js';
import { authorizationCodeGrant } from './authorization-code.js';
import { clientCredentialsGrant } from './client-credentials.js';
import { deviceCodeGrant } from './device-code.js';
import { jwtBearerGrant } from './jwt-bearer.js';
import { refreshTokenGrant } from './refresh-token.js';
import { tokenExchangeGrant } from './token-exchange/handler.js';
import type { GrantDescriptor } from './types.js';

/**
 * The grant registry: grant_type → descriptor, the one table that token-endpoint dispatch,
 * `grant_types_supported` in discovery, client-metadata validation (`grant_types`) and the
 * public-client rules read. Adding a grant type is its own module exporting a descriptor
 * (defineGrant) plus one line here (docs/architecture.md, "How to add a grant").
 */
export const GRANTS = {
  [authorizationCodeGrant.grantType]: authorizationCodeGrant,
  [clientCredentialsGrant.grantType]: clientCredentialsGrant,
  [refreshTokenGrant.grantType]: refreshTokenGrant,
  [deviceCodeGrant.grantType]: deviceCodeGrant,
  [jwtBearerGrant.grantType]: jwtBearerGrant,
  [tokenExchangeGrant.grantType]: tokenExchangeGrant,
} as const;

/** The grant types Latchkey implements: the registry's keys. */
export type GrantType = keyof typeof GRANTS;

/** A registry: what the token endpoint, discovery and client metadata are given. */
export type GrantTable = Readonly<Record<string, GrantDescriptor>>;

/** Every grant type of a registry, in its order (discovery's grant_types_supported). */
export const grantTypesOf = (grants: GrantTable): string[] => Object.keys(grants);

/**
 * Grants refused on purpose, with what to use instead (RFC 9700 §2.4, §2.1.2): the token
 * endpoint's unsupported_grant_type and client registration say the same sentence.
 */
export const REFUSED_GRANTS: Readonly<Record<string, string>> = {
  password:
    'the resource owner password credentials grant is not supported (RFC 9700 §2.4 forbids it); use the authorization_code grant with PKCE, or urn:ietf:params:oauth:grant-type:device_code for devices without a browser',
  implicit: 'the implicit grant is not supported (RFC 9700 §2.1.2); use the authorization_code grant with PKCE',
};

/** A refusal sentence for a grant type deliberately not supported, if it is one. */
export const refusalOf = (grantType: string): string | undefined =>
  Object.hasOwn(REFUSED_GRANTS, grantType) ? REFUSED_GRANTS[grantType] : undefined;

/**
 * The descriptor for `grantType`, or unsupported_grant_type naming what to use instead (RFC 6749
 * §5.2). Only own keys count: `grant_type=constructor` (or `__proto__`, `toString`…) must not find
 * Object.prototype's members. The value sent is not repeated back (RFC 6749 §5.2 limits what an
 * error_description may carry, and reflecting input helps nobody).
 */
export function findGrant(grants: GrantTable, grantType: string): GrantDescriptor {
  const grant = Object.hasOwn(grants, grantType) ? grants[grantType] : undefined;
  if (grant) return grant;
  throw new OAuthError(
    'unsupported_grant_type',
    refusalOf(grantType) ?? `the grant_type sent is not supported; supported grant types: ${grantTypesOf(grants).join(', ')}`,
  );
}
