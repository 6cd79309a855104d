import { publicErrorDescription } from './error-description.js';

/**
 * The closed set of error codes Latchkey answers with, from the RFCs that define them:
 * RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1, RFC 8628 §3.5, RFC 8707 §2,
 * OIDC Core §3.1.2.6, RFC 7591 §3.2.2, RFC 9101 §6.3 / RFC 9126 §2.3, RFC 9449 §5 and §8 (DPoP).
 */
export const ERROR_CODES = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'unsupported_token_type',
  'unsupported_response_type',
  'access_denied',
  'server_error',
  'temporarily_unavailable',
  'invalid_token',
  'insufficient_scope',
  'interaction_required',
  'login_required',
  'consent_required',
  'account_selection_required',
  'request_not_supported',
  'request_uri_not_supported',
  'invalid_request_uri',
  'invalid_request_object',
  'authorization_pending',
  'slow_down',
  'expired_token',
  'invalid_client_metadata',
  'invalid_redirect_uri',
  'invalid_dpop_proof',
  'use_dpop_nonce',
] as const;

export type OAuthErrorCode = (typeof ERROR_CODES)[number];

const DEFAULT_STATUS: Partial<Record<OAuthErrorCode, number>> = {
  invalid_client: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  server_error: 500,
  temporarily_unavailable: 503,
};

export interface OAuthErrorOptions {
  status?: number;
  headers?: Record<string, string>;
  /**
   * What only the log sees (oidc-provider's `error_detail`): the precise reason when the public
   * description is deliberately vaguer, e.g. invalid_client, which must not tell a stranger
   * whether a client exists or how it authenticates.
   */
  detail?: string;
}

/**
 * An error answered to the client: `error` (its code, RFC 6749 §5.2), a public `description` and
 * an optional private `detail`. Serialized only through toJSON, which makes the description safe
 * (oauth/error-description.ts).
 */
export class OAuthError extends Error {
  override name = 'OAuthError';
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly detail: string | undefined;

  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    options: OAuthErrorOptions = {},
  ) {
    super(`${code}: ${description}`);
    this.status = options.status ?? DEFAULT_STATUS[code] ?? 400;
    this.headers = options.headers ?? {};
    this.detail = options.detail;
  }

  /** The response body; `rawInputs` are the request's values, never repeated back. */
  toJSON(rawInputs: Iterable<string> = []): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: publicErrorDescription(this.description, rawInputs) };
  }
}

export const invalidRequest = (d: string) => new OAuthError('invalid_request', d);
export const invalidGrant = (d: string) => new OAuthError('invalid_grant', d);
export const invalidScope = (d: string) => new OAuthError('invalid_scope', d);
export const invalidTarget = (d: string) => new OAuthError('invalid_target', d);
export const unauthorizedClient = (d: string) => new OAuthError('unauthorized_client', d);

/**
 * RFC 6749 §5.2: invalid_client answers 401, and when the client tried HTTP Basic the response
 * carries a matching WWW-Authenticate challenge.
 */
export const invalidClient = (d: string, triedBasic = false, detail?: string) =>
  new OAuthError('invalid_client', d, {
    status: 401,
    headers: triedBasic ? { 'www-authenticate': 'Basic realm="latchkey", charset="UTF-8"' } : {},
    ...(detail !== undefined ? { detail } : {}),
  });

/**
 * The one public description of a failed client authentication once the client_id has been
 * looked up: the same for an unknown client, a wrong secret, a method other than the registered
 * one and a rejected assertion, so the answer does not reveal whether a client exists or how it
 * authenticates (RFC 6749 §5.2; the reason is the error's `detail`, for the log).
 */
export const CLIENT_AUTHENTICATION_FAILED =
  'client authentication failed: check the client_id, its credentials and the authentication method it is registered for';
