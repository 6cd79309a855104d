import type { AuthorizationRequest, ResponseMode } from '../domain/authorization-request.js';
import type { FormParams } from '../domain/form.js';
import type { ClientRecord } from '../domain/client.js';
import { OAuthError, type OAuthErrorCode } from '../oauth/errors.js';
import type { Resource } from '../oauth/client-metadata.js';
import { matchRedirectUri } from '../oauth/redirect-uri.js';
import { requestedScopes } from '../oauth/requested-scopes.js';
import { S256_CHALLENGE } from '../tokens/pkce.js';
import { JKT } from '../tokens/dpop-proof.js';
import { ACR_VALUES_SUPPORTED } from './second-factor.js';
import { pkceMayBeOmitted, type PkceRequirement } from '../oauth/pkce-policy.js';

/** Where an error may be sent once client_id and redirect_uri are known good (RFC 9700 §4.11). */
export interface RedirectTarget {
  redirectUri: string;
  responseMode: ResponseMode;
  state?: string;
}

/**
 * client_id or redirect_uri cannot be trusted: the person sees an HTML error page and is never
 * redirected (RFC 6749 §4.1.2.1, OAuth 2.1 §4.1.2.1; CVE-2025-4143).
 */
export class AuthorizationPageError extends Error {
  override name = 'AuthorizationPageError';
  /** Stable, for logs and callers (the message may change). */
  readonly code = 'authorization_page';
  constructor(
    readonly title: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** An error the client learns of through its redirect URI, with `state` and `iss`. */
export class AuthorizationRedirectError extends OAuthError {
  constructor(
    code: OAuthErrorCode,
    description: string,
    readonly target: RedirectTarget,
  ) {
    super(code, description);
  }
}

const MAX_LENGTH: Record<string, number> = {
  state: 2048,
  nonce: 512,
  login_hint: 256,
  ui_locales: 256,
  acr_values: 256,
  id_token_hint: 8192,
};
const PROMPTS = new Set(['none', 'login', 'consent', 'select_account']);
const DISPLAYS = new Set(['page', 'popup', 'touch', 'wap']);

function one(params: FormParams, name: string): string | undefined {
  const v = params[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Step 1: client_id and redirect_uri, which decide whether an error may be redirected at all.
 * Returns the client's id and the redirect URI to use, or throws AuthorizationPageError.
 */
export function checkClientAndRedirect(
  params: FormParams,
  client: ClientRecord | undefined,
): { client: ClientRecord; redirectUri: string } {
  const known = checkClient(params, client);
  if (Array.isArray(params.redirect_uri))
    throw new AuthorizationPageError(
      'Invalid request',
      'The redirect_uri parameter is repeated. The application that sent you here made a mistake.',
    );
  const redirectUri = params.redirect_uri;
  if (!redirectUri)
    throw new AuthorizationPageError(
      'Invalid request',
      'The request has no redirect_uri. The application that sent you here made a mistake.',
    );
  if (!matchRedirectUri(known.metadata.redirect_uris, redirectUri)) {
    throw new AuthorizationPageError(
      'Invalid redirect URI',
      `The redirect_uri is not registered for ${known.metadata.client_name ?? known.clientId}. For your safety you are not being sent there.`,
    );
  }
  return { client: known, redirectUri };
}

/** The client_id half of step 1: present once, naming a registered client. */
export function checkClient(params: FormParams, client: ClientRecord | undefined): ClientRecord {
  if (Array.isArray(params.client_id))
    throw new AuthorizationPageError(
      'Invalid request',
      'The client_id parameter is repeated. The application that sent you here made a mistake.',
    );
  if (!params.client_id)
    throw new AuthorizationPageError('Invalid request', 'The request has no client_id. The application that sent you here made a mistake.');
  if (!client)
    throw new AuthorizationPageError(
      'Unknown application',
      'No application is registered with this client_id. Check the link you followed.',
    );
  return client;
}

/**
 * How the parameters arrived: through a request_uri that /par issued (RFC 9126), and/or from a
 * verified request object (RFC 9101). Decides the clients' and the server's requirements.
 */
export interface RequestOrigin {
  pushed: boolean;
  signed: boolean;
  /** REQUIRE_PAR: every client must push its requests. */
  requirePar: boolean;
}

const PLAIN: RequestOrigin = { pushed: false, signed: false, requirePar: false };

/**
 * Step 2: everything else (pure). Errors from here on are redirected to the now-trusted URI.
 */
export function validateAuthorizationRequest(
  params: FormParams,
  client: ClientRecord,
  redirectUri: string,
  resources: ReadonlyMap<string, Resource>,
  pkceRequired: PkceRequirement = 'always',
  origin: RequestOrigin = PLAIN,
): AuthorizationRequest {
  const rawMode = one(params, 'response_mode');
  const rawType = one(params, 'response_type');
  const state = one(params, 'state');
  // Until response_type is known good, errors use the mode it implies (fragment for hybrid).
  const defaultMode: ResponseMode = rawType?.split(' ').includes('id_token') ? 'fragment' : 'query';
  const mode: ResponseMode = rawMode === 'query' || rawMode === 'fragment' || rawMode === 'form_post' ? rawMode : defaultMode;
  const target: RedirectTarget = { redirectUri, responseMode: mode, ...(state !== undefined ? { state } : {}) };
  // Typed where it is declared, so that TypeScript narrows after a call (a call never returns).
  const fail: (code: OAuthErrorCode, description: string) => never = (code, description) => {
    throw new AuthorizationRedirectError(code, description, target);
  };

  for (const [name, value] of Object.entries(params)) {
    if (Array.isArray(value) && name !== 'resource') fail('invalid_request', `the "${name}" parameter is repeated; send it once`);
    const max = Object.hasOwn(MAX_LENGTH, name) ? MAX_LENGTH[name] : undefined;
    if (max && typeof value === 'string' && value.length > max) fail('invalid_request', `"${name}" is longer than ${max} characters`);
  }
  // The endpoints resolve `request` (RFC 9101) and /par's `request_uri` (RFC 9126) before this
  // point; parameters that still carry one came from inside a request object or a pushed request.
  if (params.request !== undefined)
    fail('invalid_request', 'a "request" parameter cannot be nested inside a request object or a pushed request');
  if (params.request_uri !== undefined)
    fail('invalid_request', 'a "request_uri" parameter cannot be nested inside a request object or a pushed request');
  // RFC 9126 §6 (per client) and REQUIRE_PAR (every client): only requests /par took in.
  if (!origin.pushed && (origin.requirePar || client.metadata.require_pushed_authorization_requests)) {
    fail(
      'invalid_request',
      origin.requirePar
        ? 'this server accepts only pushed authorization requests: POST the request to the pushed_authorization_request_endpoint (RFC 9126) and send client_id and the request_uri it returns'
        : `client "${client.clientId}" must push its authorization requests (require_pushed_authorization_requests, RFC 9126 §6): POST them to the pushed_authorization_request_endpoint and send client_id and the request_uri it returns`,
    );
  }
  // RFC 9101 §10.5: the client registered that all its requests are signed request objects.
  if (!origin.signed && client.metadata.require_signed_request_object) {
    fail(
      'invalid_request',
      `client "${client.clientId}" must send its authorization requests as a signed request object (require_signed_request_object, RFC 9101 §10.5): use the "request" parameter`,
    );
  }

  if (!rawType) fail('invalid_request', 'the "response_type" parameter is required; use response_type=code');
  const typeParts = rawType.split(' ');
  if (typeParts.includes('token')) {
    fail(
      'unsupported_response_type',
      `response_type "${rawType}" issues tokens from the authorization endpoint, which is not supported (RFC 9700 §2.1.2); use response_type=code with PKCE`,
    );
  }
  const responseType = typeParts.sort().join(' ') === 'code id_token' ? 'code id_token' : rawType;
  if (responseType !== 'code' && responseType !== 'code id_token') {
    fail('unsupported_response_type', `response_type "${rawType}" is not supported; use "code" (or "code id_token")`);
  }
  if (!(client.metadata.response_types as string[]).includes(responseType)) {
    fail('unauthorized_client', `client "${client.clientId}" is not registered for response_type "${responseType}"`);
  }
  if (!client.metadata.grant_types.includes('authorization_code')) {
    fail('unauthorized_client', `client "${client.clientId}" is not allowed the authorization_code grant`);
  }
  if (rawMode !== undefined && mode !== rawMode)
    fail('invalid_request', `response_mode "${rawMode}" is not supported; use query, fragment or form_post`);
  if (responseType === 'code id_token' && mode === 'query') {
    fail('invalid_request', 'response_mode=query cannot carry an ID token; use fragment or form_post');
  }

  // Scopes: every one registered for the client; resource scopes also defined by a resource.
  let scopes: string[];
  let audiences: string[];
  try {
    ({ scopes, audiences } = requestedScopes(client, one(params, 'scope'), ([] as string[]).concat(params.resource ?? []), resources));
  } catch (err) {
    if (err instanceof OAuthError) fail(err.code, err.description);
    throw err;
  }
  const openid = scopes.includes('openid');
  if (responseType === 'code id_token' && !openid)
    fail('invalid_scope', 'response_type "code id_token" is OpenID Connect: the scope must include openid');

  const nonce = one(params, 'nonce');
  if (responseType === 'code id_token' && !nonce) fail('invalid_request', 'the hybrid flow requires a nonce (OIDC Core §3.3.2.11)');

  // PKCE (RFC 7636; RFC 9700 §2.1.1; OAuth 2.1 §4.1.1, §7.5.1): S256 only; required of every
  // request unless PKCE_REQUIRED lets a confidential client's OpenID request with a nonce omit it.
  const challenge = one(params, 'code_challenge');
  const method = one(params, 'code_challenge_method');
  if (method !== undefined && method !== 'S256') {
    fail('invalid_request', `code_challenge_method "${method}" is not allowed; use S256 (plain is refused: RFC 9700 §2.1.1)`);
  }
  if (challenge === undefined) {
    if (method !== undefined) fail('invalid_request', 'code_challenge_method was sent without code_challenge');
    const confidential = client.metadata.token_endpoint_auth_method !== 'none';
    if (!pkceMayBeOmitted(pkceRequired, { confidential, openid, nonce: Boolean(nonce) })) {
      fail(
        'invalid_request',
        confidential
          ? 'PKCE is required: send code_challenge (S256) and code_challenge_method=S256 (OAuth 2.1 §4.1.1)'
          : 'public clients must use PKCE: send code_challenge (S256) and code_challenge_method=S256',
      );
    }
  } else {
    if (method === undefined) fail('invalid_request', 'send code_challenge_method=S256 with code_challenge (the plain method is refused)');
    if (!S256_CHALLENGE.test(challenge))
      fail('invalid_request', 'code_challenge must be the base64url SHA-256 of the code_verifier: 43 characters');
  }

  // RFC 9449 §10: dpop_jkt binds the code to a DPoP key; the token request must prove it.
  const dpopJkt = one(params, 'dpop_jkt');
  if (dpopJkt !== undefined && !JKT.test(dpopJkt))
    fail('invalid_request', 'dpop_jkt must be the base64url SHA-256 JWK thumbprint of the DPoP key: 43 characters (RFC 9449 section 10)');

  const prompt = (one(params, 'prompt') ?? '').split(' ').filter(Boolean);
  for (const p of prompt)
    if (!PROMPTS.has(p)) fail('invalid_request', `prompt "${p}" is not supported; use none, login, consent or select_account`);
  if (prompt.includes('none') && prompt.length > 1) fail('invalid_request', 'prompt=none cannot be combined with other prompt values');

  const rawMaxAge = one(params, 'max_age');
  let maxAge: number | undefined;
  if (rawMaxAge !== undefined) {
    if (!/^\d{1,9}$/.test(rawMaxAge)) fail('invalid_request', 'max_age must be a non-negative whole number of seconds');
    maxAge = Number(rawMaxAge);
  }
  const display = one(params, 'display');
  if (display !== undefined && !DISPLAYS.has(display))
    fail('invalid_request', `display "${display}" is not one of page, popup, touch, wap`);

  const optional = (name: string) => {
    const v = one(params, name);
    return v !== undefined && v !== '' ? v : undefined;
  };
  const req: AuthorizationRequest = {
    clientId: client.clientId,
    redirectUri,
    responseType,
    responseMode: mode,
    scopes,
    resources: audiences,
    prompt,
  };
  if (state !== undefined) req.state = state;
  if (nonce) req.nonce = nonce;
  if (challenge) req.codeChallenge = challenge;
  if (dpopJkt) req.dpopJkt = dpopJkt;
  if (maxAge !== undefined) req.maxAge = maxAge;
  // ui_locales is validated (length, repetition) above but not kept: the pages have one language.
  // acr_values: only the values Latchkey knows are kept (asking for urn:latchkey:acr:mfa requires
  // the second factor); others are voluntary claims we cannot satisfy (OIDC Core §5.5.1.1) and are
  // not stored with the pending sign-in.
  const acrValues = (optional('acr_values') ?? '').split(' ').filter((v) => (ACR_VALUES_SUPPORTED as readonly string[]).includes(v));
  if (acrValues.length) req.acrValues = acrValues;
  for (const [key, name] of [
    ['idTokenHint', 'id_token_hint'],
    ['loginHint', 'login_hint'],
  ] as const) {
    const v = optional(name);
    if (v) req[key] = v;
  }
  return req;
}
