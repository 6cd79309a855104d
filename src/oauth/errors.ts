/**
 * The closed set of error codes Latchkey answers with, from the RFCs that define them:
 * RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1, RFC 8628 §3.5, RFC 8707 §2,
 * OIDC Core §3.1.2.6, RFC 7591 §3.2.2.
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
  'authorization_pending',
  'slow_down',
  'expired_token',
  'invalid_client_metadata',
  'invalid_redirect_uri',
] as const;

export type OAuthErrorCode = (typeof ERROR_CODES)[number];

const DEFAULT_STATUS: Partial<Record<OAuthErrorCode, number>> = {
  invalid_client: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  server_error: 500,
  temporarily_unavailable: 503,
};

export class OAuthError extends Error {
  override name = 'OAuthError';
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    options: { status?: number; headers?: Record<string, string> } = {},
  ) {
    super(`${code}: ${description}`);
    this.status = options.status ?? DEFAULT_STATUS[code] ?? 400;
    this.headers = options.headers ?? {};
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.description };
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
export const invalidClient = (d: string, triedBasic = false) =>
  new OAuthError('invalid_client', d, {
    status: 401,
    headers: triedBasic ? { 'www-authenticate': 'Basic realm="latchkey", charset="UTF-8"' } : {},
  });
