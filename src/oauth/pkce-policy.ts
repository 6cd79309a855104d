/**
 * When an authorization request must carry a PKCE challenge (pure policy).
 *
 * OAuth 2.1 §4.1.1 and §7.5.1: every authorization code is bound to a code_challenge; the one
 * exception an authorization server may allow is an OpenID Connect request with a `nonce` from a
 * confidential client, where the nonce in the ID token already ties the code to the request that
 * asked for it (RFC 9700 §2.1.1). A public client has no secret, so for it PKCE is the only
 * binding and is required whatever the setting.
 */

/** PKCE_REQUIRED: `always` (the default) or `except-oidc-nonce`. */
export const PKCE_REQUIREMENTS = ['always', 'except-oidc-nonce'] as const;
export type PkceRequirement = (typeof PKCE_REQUIREMENTS)[number];

export interface PkceContext {
  /** The client authenticates at /token (anything but token_endpoint_auth_method "none"). */
  confidential: boolean;
  /** The request asks for the openid scope. */
  openid: boolean;
  /** The request carries a non-empty nonce. */
  nonce: boolean;
}

/** Whether this request may go without a code_challenge under `policy`. */
export function pkceMayBeOmitted(policy: PkceRequirement, r: PkceContext): boolean {
  return policy === 'except-oidc-nonce' && r.confidential && r.openid && r.nonce;
}
