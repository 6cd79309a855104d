/**
 * The application creation helper (issue 14 item 9), as pure functions: the operator answers
 * "does a person sign in?" and "what kind of app?", and this module decides the grant types and
 * the client authentication method, explains the choice in one sentence, and says which fields
 * that kind of app needs. The console's wizard pages render it; `clientMetadataFor` turns the
 * answers into RFC 7591 client metadata, which the client schema then validates like any other.
 *
 * The choices follow RFC 9700 (OAuth 2.0 Security BCP: code + PKCE for every client that
 * redirects, no implicit, no password grant), RFC 8252 (native apps are public clients),
 * RFC 8628 (devices without a browser), RFC 7523 (JWT bearer) and RFC 8693 (token exchange).
 */
import { deviceCodeGrant } from '../../grants/device-code.js';
import { JWT_BEARER } from '../../grants/jwt-bearer.js';
import { TOKEN_EXCHANGE } from '../../grants/token-exchange/handler.js';
import type { AuthMethod, ClientMetadataInput, GrantType } from '../../oauth/client-metadata.js';

/** The kinds of application the helper knows, in the order the wizard lists them. */
export const APP_TYPE_IDS = ['web', 'spa', 'spa-bff', 'native', 'device', 'service', 'partner', 'gateway'] as const;
export type AppTypeId = (typeof APP_TYPE_IDS)[number];

/** A field the wizard asks for, named after the client metadata member it fills. */
export type AppField =
  | 'redirect_uris'
  | 'post_logout_redirect_uris'
  | 'scope'
  | 'audiences'
  /** The client's public keys: given, the client authenticates with private_key_jwt instead of a secret. */
  | 'jwks';

export interface AppType {
  id: AppTypeId;
  /** What the wizard shows as the choice. */
  label: string;
  /** The first question's answer this type belongs under. */
  personSignsIn: boolean;
  grantTypes: GrantType[];
  responseTypes: ('code' | 'code id_token')[];
  /** Without JWKS: `none` for public clients, `client_secret_basic` for confidential ones. */
  authMethod: AuthMethod;
  /** Why these grants and this method, in one sentence. */
  explanation: string;
  /** What this type must not be built with instead (implicit, password), in one sentence. */
  warning: string;
  /** The fields the wizard asks for, in order; `required` ones must be filled in. */
  fields: readonly AppField[];
  required: readonly AppField[];
  /** Scope filled in when the operator leaves it empty. */
  defaultScope: string;
  /** Anything else the operator must do for this type to work (shown on the result page). */
  nextStep?: string;
}

const NO_IMPLICIT =
  'Do not use the implicit grant (response_type=token): tokens in the URL leak through history and referrers, and RFC 9700 §2.1.2 forbids it; Latchkey does not offer it.';
const NO_PASSWORD =
  'Do not collect passwords in the app (the password grant): it teaches people to type their password anywhere and defeats multi-factor sign-in; RFC 9700 §2.4 forbids it and Latchkey does not offer it.';

export const APP_TYPES: Readonly<Record<AppTypeId, AppType>> = {
  web: {
    id: 'web',
    label: 'Web application with a backend (server-rendered, or any app whose server talks to Latchkey)',
    personSignsIn: true,
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    authMethod: 'client_secret_basic',
    explanation:
      'The server keeps a secret, so it is a confidential client: it uses the authorization code flow with PKCE and authenticates at the token endpoint with its secret (or its own keys, with private_key_jwt).',
    warning: NO_PASSWORD,
    fields: ['redirect_uris', 'post_logout_redirect_uris', 'scope', 'audiences', 'jwks'],
    required: ['redirect_uris'],
    defaultScope: 'openid profile email',
  },
  spa: {
    id: 'spa',
    label: 'Single-page app without a backend (tokens in the browser)',
    personSignsIn: true,
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    authMethod: 'none',
    explanation:
      'Code in a browser cannot keep a secret, so it is a public client: the authorization code flow with PKCE, no secret, and rotating refresh tokens; Latchkey’s token endpoint answers any origin without cookies (CORS *), so no origin list is needed.',
    warning: NO_IMPLICIT,
    fields: ['redirect_uris', 'post_logout_redirect_uris', 'scope', 'audiences'],
    required: ['redirect_uris'],
    defaultScope: 'openid profile email',
  },
  'spa-bff': {
    id: 'spa-bff',
    label: 'Single-page app with a backend-for-frontend (the BFF holds the tokens)',
    personSignsIn: true,
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    authMethod: 'client_secret_basic',
    explanation:
      'The backend-for-frontend is the client, not the browser: it keeps a secret, runs the authorization code flow with PKCE and gives the browser only its own session cookie, so no token ever reaches JavaScript.',
    warning: NO_IMPLICIT,
    fields: ['redirect_uris', 'post_logout_redirect_uris', 'scope', 'audiences', 'jwks'],
    required: ['redirect_uris'],
    defaultScope: 'openid profile email',
  },
  native: {
    id: 'native',
    label: 'Mobile, desktop or command-line app',
    personSignsIn: true,
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    authMethod: 'none',
    explanation:
      'An installed app cannot keep a secret (anyone can unpack it), so it is a public client: it opens the system browser for the authorization code flow with PKCE and receives the code on a loopback or private-scheme redirect URI (RFC 8252).',
    warning: NO_PASSWORD,
    fields: ['redirect_uris', 'post_logout_redirect_uris', 'scope', 'audiences'],
    required: ['redirect_uris'],
    defaultScope: 'openid profile offline_access',
  },
  device: {
    id: 'device',
    label: 'TV or other device with limited input',
    personSignsIn: true,
    grantTypes: [deviceCodeGrant.grantType, 'refresh_token'],
    responseTypes: [],
    authMethod: 'none',
    explanation:
      'A device without a browser or keyboard shows a short code, and the person approves it on their phone or computer (device authorization grant, RFC 8628); the device cannot keep a secret, so it is a public client.',
    warning: NO_PASSWORD,
    fields: ['scope', 'audiences'],
    required: [],
    defaultScope: 'openid profile offline_access',
  },
  service: {
    id: 'service',
    label: 'Machine-to-machine service (no person involved)',
    personSignsIn: false,
    grantTypes: ['client_credentials'],
    responseTypes: [],
    authMethod: 'client_secret_basic',
    explanation:
      'A service acts as itself, so it uses the client credentials grant with its own secret (or its keys, with private_key_jwt) and asks for tokens for the APIs listed as its audiences.',
    warning: NO_PASSWORD,
    fields: ['audiences', 'scope', 'jwks'],
    required: ['audiences'],
    defaultScope: '',
  },
  partner: {
    id: 'partner',
    label: 'Partner asserting its users with signed JWTs',
    personSignsIn: false,
    grantTypes: [JWT_BEARER],
    responseTypes: [],
    authMethod: 'client_secret_basic',
    explanation:
      'The partner signs a JWT naming the user and trades it for an access token with the JWT bearer grant (RFC 7523); it authenticates as a confidential client, and only issuers you trust are accepted.',
    warning: NO_PASSWORD,
    fields: ['audiences', 'scope', 'jwks'],
    required: ['audiences'],
    defaultScope: '',
    nextStep: 'Register the partner’s issuer and keys under Trusted issuers, or its assertions will be refused.',
  },
  gateway: {
    id: 'gateway',
    label: 'Gateway exchanging tokens for downstream APIs',
    personSignsIn: false,
    grantTypes: [TOKEN_EXCHANGE],
    responseTypes: [],
    authMethod: 'client_secret_basic',
    explanation:
      'The gateway receives a user’s token and exchanges it for one narrowed to a downstream API (token exchange, RFC 8693); it authenticates as a confidential client so only it can exchange.',
    warning: NO_PASSWORD,
    fields: ['audiences', 'scope', 'jwks'],
    required: ['audiences'],
    defaultScope: '',
  },
};

export const isAppTypeId = (v: unknown): v is AppTypeId => typeof v === 'string' && (APP_TYPE_IDS as readonly string[]).includes(v);

/** The types offered after the first question ("does a person sign in?"). */
export function appTypesFor(personSignsIn: boolean): AppType[] {
  return APP_TYPE_IDS.map((id) => APP_TYPES[id]).filter((t) => t.personSignsIn === personSignsIn);
}

/** Whether the type is a confidential client (it may authenticate with keys instead of a secret). */
export const isConfidential = (t: AppType): boolean => t.authMethod !== 'none';

/** What the operator typed into the wizard's second page (already split into lists). */
export interface AppAnswers {
  name: string;
  clientId: string;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  scope?: string;
  audiences?: string[];
  /** A parsed JWKS (its `keys`), for private_key_jwt. */
  jwks?: { keys: unknown[] };
}

/** One problem with the answers, naming the field so the page can show it next to it. */
export interface AnswerIssue {
  field: AppField | 'name' | 'client_id';
  message: string;
}

/** The questions the type does not ask must not be answered (a pasted value would be dropped silently). */
export function answerIssues(t: AppType, a: AppAnswers): AnswerIssue[] {
  const issues: AnswerIssue[] = [];
  if (!a.name.trim()) issues.push({ field: 'name', message: 'Give the application a name people will recognise on the consent page.' });
  const given: Record<AppField, boolean> = {
    redirect_uris: Boolean(a.redirectUris?.length),
    post_logout_redirect_uris: Boolean(a.postLogoutRedirectUris?.length),
    scope: Boolean(a.scope?.trim()),
    audiences: Boolean(a.audiences?.length),
    jwks: a.jwks !== undefined,
  };
  for (const f of t.required) {
    if (!given[f]) issues.push({ field: f, message: REQUIRED_MESSAGE[f] });
  }
  for (const f of Object.keys(given) as AppField[]) {
    if (given[f] && !t.fields.includes(f))
      issues.push({ field: f, message: `A ${t.label.toLowerCase()} does not use ${FIELD_LABELS[f]}.` });
  }
  return issues;
}

const REQUIRED_MESSAGE: Record<AppField, string> = {
  redirect_uris: 'Give at least one redirect URI: where Latchkey sends the person back with the authorization code.',
  post_logout_redirect_uris: 'Give at least one post-logout redirect URI.',
  scope: 'Give at least one scope.',
  audiences: 'Give at least one audience: the API (resource identifier) the tokens are for.',
  jwks: 'Paste the public keys (JWKS).',
};

export const FIELD_LABELS: Record<AppField, string> = {
  redirect_uris: 'redirect URIs',
  post_logout_redirect_uris: 'post-logout redirect URIs',
  scope: 'scopes',
  audiences: 'audiences (APIs)',
  jwks: 'public keys (JWKS) for private_key_jwt',
};

/**
 * The client metadata for a type and its answers (RFC 7591 names, as the bootstrap file and the
 * admin API take them). Not validated here: the client schema does that wherever it is created.
 */
export function clientMetadataFor(t: AppType, a: AppAnswers): ClientMetadataInput {
  const withKeys = a.jwks !== undefined && isConfidential(t);
  const scope = (a.scope ?? '').trim().split(/\s+/).filter(Boolean).join(' ') || t.defaultScope;
  return {
    client_id: a.clientId,
    client_name: a.name.trim(),
    grant_types: t.grantTypes,
    response_types: t.responseTypes,
    token_endpoint_auth_method: withKeys ? 'private_key_jwt' : t.authMethod,
    redirect_uris: t.fields.includes('redirect_uris') ? (a.redirectUris ?? []) : [],
    post_logout_redirect_uris: t.fields.includes('post_logout_redirect_uris') ? (a.postLogoutRedirectUris ?? []) : [],
    scope,
    audiences: a.audiences ?? [],
    ...(withKeys ? { jwks: a.jwks as ClientMetadataInput['jwks'] } : {}),
  };
}

/** Whether a client made from these answers gets a secret (shown once on the result page). */
export const getsSecret = (m: Pick<ClientMetadataInput, 'token_endpoint_auth_method'>): boolean =>
  m.token_endpoint_auth_method === undefined ||
  m.token_endpoint_auth_method === 'client_secret_basic' ||
  m.token_endpoint_auth_method === 'client_secret_post';
