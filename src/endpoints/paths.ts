/**
 * Where each endpoint lives, relative to ISSUER. Discovery, the routes, the pages' form actions
 * and the audiences a client assertion may name all derive from this one table.
 */
export const ENDPOINT_PATHS = {
  authorization: '/authorize',
  token: '/token',
  introspection: '/introspect',
  revocation: '/revoke',
  jwks: '/jwks',
  userinfo: '/userinfo',
  deviceAuthorization: '/device_authorization',
  device: '/device',
  endSession: '/end_session',
} as const;

export type EndpointName = keyof typeof ENDPOINT_PATHS;

/**
 * The endpoints at which clients authenticate. RFC 7523 §3 (as profiled by RFC 7521 §5.1 and
 * OIDC Core §9): a client assertion's `aud` names the authorization server — its issuer or the
 * URL of the endpoint receiving it — so these URLs are the assertion audiences besides the issuer.
 */
export const CLIENT_AUTHENTICATING_ENDPOINTS = [
  'token',
  'introspection',
  'revocation',
  'deviceAuthorization',
] as const satisfies readonly EndpointName[];

/** The absolute URL of an endpoint. */
export const endpointUrl = (issuer: string, name: EndpointName): string => `${issuer}${ENDPOINT_PATHS[name]}`;

/** Every URL a client assertion's `aud` may name besides the issuer. */
export const clientAssertionAudiences = (issuer: string): string[] =>
  CLIENT_AUTHENTICATING_ENDPOINTS.map((name) => endpointUrl(issuer, name));
