/**
 * Where each endpoint lives, relative to ISSUER. Discovery, the routes, the pages' form actions
 * and the audiences a client assertion may name all derive from this one table.
 */
export const ENDPOINT_PATHS = {
  authorization: '/authorize',
  /** Pushed authorization requests (RFC 9126 §2). */
  pushedAuthorizationRequest: '/par',
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

/** The absolute URL of an endpoint. */
export const endpointUrl = (issuer: string, name: EndpointName): string => `${issuer}${ENDPOINT_PATHS[name]}`;

/** The signed-in person's own page (src/endpoints/account.ts): not an OAuth endpoint, not advertised. */
export const ACCOUNT_PATH = '/account';
