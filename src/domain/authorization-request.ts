export type ResponseType = 'code' | 'code id_token';
export type ResponseMode = 'query' | 'fragment' | 'form_post';

/** A validated authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1). */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  responseType: ResponseType;
  responseMode: ResponseMode;
  /** Every scope asked for: OpenID scopes and resource scopes. */
  scopes: string[];
  /** The resources (audiences) the access token will be for. */
  resources: string[];
  state?: string;
  nonce?: string;
  codeChallenge?: string;
  /** RFC 9449 §10: the thumbprint of the DPoP key the code is bound to. */
  dpopJkt?: string;
  prompt: string[];
  maxAge?: number;
  /** The id_token_hint as sent; verified at /authorize, then stored only as `idTokenHintSub`. */
  idTokenHint?: string;
  /**
   * The `sub` of the verified id_token_hint. A pending sign-in keeps this instead of the hint
   * itself (up to 8 KB): interaction rows stay small (issue 11 item 15).
   */
  idTokenHintSub?: string;
  loginHint?: string;
  /** OIDC Core §3.1.2.1 acr_values, in order of preference (src/interaction/second-factor.ts reads them). */
  acrValues?: string[];
}
