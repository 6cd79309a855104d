import { OAuthError } from '../oauth/errors.js';
import type { GrantType } from '../oauth/client-metadata.js';
import { authorizationCode } from './authorization-code.js';
import { clientCredentials } from './client-credentials.js';
import { deviceCode } from './device-code.js';
import { jwtBearer } from './jwt-bearer.js';
import { tokenExchange } from './token-exchange/handler.js';
import { refreshToken } from './refresh-token.js';
import type { GrantHandler } from './types.js';

/** grant_type → handler: the one dispatch table every grant plugs into. */
export const GRANT_HANDLERS: Partial<Record<GrantType, GrantHandler>> = {
  authorization_code: authorizationCode,
  client_credentials: clientCredentials,
  refresh_token: refreshToken,
  'urn:ietf:params:oauth:grant-type:device_code': deviceCode,
  'urn:ietf:params:oauth:grant-type:jwt-bearer': jwtBearer,
  'urn:ietf:params:oauth:grant-type:token-exchange': tokenExchange,
};

export const supportedGrantTypes = (): GrantType[] => Object.keys(GRANT_HANDLERS) as GrantType[];

/** Grants we refuse on purpose, with what to use instead (RFC 9700 §2.4, §2.1.2). */
const REFUSED: Record<string, string> = {
  password:
    'the resource owner password credentials grant is not supported (RFC 9700 §2.4 forbids it); use the authorization_code grant with PKCE, or urn:ietf:params:oauth:grant-type:device_code for devices without a browser',
  implicit: 'the implicit grant is not supported (RFC 9700 §2.1.2); use the authorization_code grant with PKCE',
};

/**
 * The handler for `grantType`, or unsupported_grant_type naming what to use instead. Only own
 * keys count: `grant_type=constructor` (or `__proto__`, `toString`…) must not find
 * Object.prototype's members.
 */
export function grantHandler(grantType: string): GrantHandler {
  const handler = Object.hasOwn(GRANT_HANDLERS, grantType)
    ? (GRANT_HANDLERS as Record<string, GrantHandler | undefined>)[grantType]
    : undefined;
  if (handler) return handler;
  const why =
    (Object.hasOwn(REFUSED, grantType) ? REFUSED[grantType] : undefined) ??
    `grant_type "${grantType}" is not supported; supported grant types: ${supportedGrantTypes().join(', ')}`;
  throw new OAuthError('unsupported_grant_type', why);
}
