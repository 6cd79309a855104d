/**
 * Bad input everywhere (issue 7, item 4): fast-check properties that throw random forms, query
 * strings, headers, JSON, binary, invalid UTF-8, NUL bytes, 10 000 parameters, 1 MB values, wrong
 * content types and wrong methods at every endpoint of one real server, and check that
 *   - nothing answers 5xx (the database is up, so not even 503),
 *   - everything answers within REQUEST_TIMEOUT_MS (a hang fails),
 *   - every API error is RFC 6749-style JSON: `error` ∈ ERROR_CODES, non-empty `error_description`
 *     (a 401 from /userinfo also carries a Bearer challenge),
 *   - every browser-endpoint error is an HTML page, and browser endpoints only ever redirect (303)
 *     to a registered redirect URI or to the interaction pages,
 *   - no body leaks a stack trace, an error class name or a source path.
 *
 * Replay a failure: FUZZ_SEED=<seed printed in the failure> node --import tsx --test \
 *   --test-name-pattern='<test name>' test/security/fuzz.test.ts
 * (the seed is also printed at the start of the run). FUZZ_SCALE=<n> multiplies every run count
 * (default 1). KNOWN_BUGS names the server bugs this file found (fixed), so a regression is named.
 * FUZZ_STATS=1 prints how often each (method, route, status) occurred and every known-bug hit.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { ERROR_CODES } from '../../src/oauth/errors.js';
import { SECRET } from '../helpers/fixtures.js';
import { NoResponseError, rawRequest, socketRequest, type RawRequest, type RawResponse } from '../helpers/raw-http.js';
import { postForm, startServer, type JsonBody, type TestServer } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';
import { UserAgent } from '../support/user-agent.js';
import { formAction, hiddenField } from '../support/html-form.js';

// A fresh seed every local run finds new inputs; CI uses a fixed one so a landing is repeatable
// (run locally, or with FUZZ_SEED, to explore further).
const SEED = process.env.FUZZ_SEED
  ? Number(process.env.FUZZ_SEED)
  : process.env.CI
    ? 20261121
    : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
const SCALE = Number(process.env.FUZZ_SCALE ?? '1') || 1;
const REQUEST_TIMEOUT_MS = 5000;
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

const API = 'https://api.example.com';
const PASSWORD = 'correct horse battery staple';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const WEB_REDIRECT = 'http://127.0.0.1:8080/callback';
const SPA_REDIRECT = 'http://127.0.0.1:5173/cb';
const POST_LOGOUT = 'http://127.0.0.1:8080/';
const REDIRECT_TARGETS = [WEB_REDIRECT, SPA_REDIRECT, POST_LOGOUT];

const bootstrap = {
  resources: [{ identifier: API, scopes: ['api:read', 'api:write'], access_token_ttl: 600 }],
  clients: [
    {
      client_id: 'web',
      client_secret: SECRET,
      client_name: 'Web App',
      redirect_uris: [WEB_REDIRECT],
      post_logout_redirect_uris: [POST_LOGOUT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile email offline_access api:read',
      audiences: [API],
    },
    {
      client_id: 'spa',
      client_name: 'Single Page App',
      redirect_uris: [SPA_REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      scope: 'openid api:read',
      audiences: [API],
    },
    {
      client_id: 'tv',
      client_name: 'Living Room TV',
      grant_types: [DEVICE_GRANT, 'refresh_token'],
      token_endpoint_auth_method: 'none',
      scope: 'openid profile offline_access api:read',
      audiences: [API],
    },
    {
      client_id: 'svc',
      client_secret: SECRET,
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
      scope: 'api:read api:write',
      audiences: [API],
    },
  ],
  users: [{ username: 'alice', password: PASSWORD, claims: { email: 'alice@example.com', email_verified: true, name: 'Alice Example' } }],
};

// ---------------------------------------------------------------------------------------------
// Endpoints and what their answers must look like
// ---------------------------------------------------------------------------------------------

/** api: errors are JSON; browser: errors are HTML pages; either: a 405 from the shared not-found handler. */
type Kind = 'api' | 'browser';

interface Route {
  /** Path template; `:id` is replaced by an interaction id. */
  path: string;
  methods: readonly ('GET' | 'POST')[];
  kind: Kind;
}

const ROUTES: readonly Route[] = [
  { path: '/.well-known/openid-configuration', methods: ['GET'], kind: 'api' },
  { path: '/.well-known/oauth-authorization-server', methods: ['GET'], kind: 'api' },
  { path: '/jwks', methods: ['GET'], kind: 'api' },
  { path: '/authorize', methods: ['GET', 'POST'], kind: 'browser' },
  { path: '/token', methods: ['POST'], kind: 'api' },
  { path: '/device_authorization', methods: ['POST'], kind: 'api' },
  { path: '/device', methods: ['GET', 'POST'], kind: 'browser' },
  { path: '/introspect', methods: ['POST'], kind: 'api' },
  { path: '/revoke', methods: ['POST'], kind: 'api' },
  { path: '/userinfo', methods: ['GET', 'POST'], kind: 'api' },
  { path: '/end_session', methods: ['GET', 'POST'], kind: 'browser' },
  { path: '/interaction/:id', methods: ['GET'], kind: 'browser' },
  { path: '/interaction/:id/login', methods: ['POST'], kind: 'browser' },
  { path: '/interaction/:id/consent', methods: ['POST'], kind: 'browser' },
  { path: '/healthz', methods: ['GET'], kind: 'api' },
  { path: '/readyz', methods: ['GET'], kind: 'api' },
  { path: '/metrics', methods: ['GET'], kind: 'api' },
  { path: '/assets/latchkey.css', methods: ['GET'], kind: 'api' },
];
const GET_ROUTES = ROUTES.filter((r) => r.methods.includes('GET'));
const POST_ROUTES = ROUTES.filter((r) => r.methods.includes('POST'));
const WRONG_METHODS = ['PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;
const CORS_PATHS = new Set([
  '/token',
  '/userinfo',
  '/revoke',
  '/jwks',
  '/.well-known/openid-configuration',
  '/.well-known/oauth-authorization-server',
]);

const ERROR_SET = new Set<string>(ERROR_CODES);

/** What a request was, for checking its answer and for the failure message. */
interface Sent extends RawRequest {
  route: Route | undefined;
  /** Number of form parameters in the body, when it is a form. */
  formParams?: number;
}

/** Server bugs this file found (all fixed): a regression is reported under its id. */
const KNOWN_BUGS: { id: string; what: string; matches: (s: Sent, r: { status: number; body: string; json: JsonBody }) => boolean }[] = [
  {
    id: 'B1',
    what: 'a form with more than 200 parameters POSTed to a browser endpoint answers 500 (FormTooLargeError reaches browserErrorHandler unhandled)',
    matches: (s, r) => r.status === 500 && s.route?.kind === 'browser' && (s.formParams ?? 0) > 200,
  },
  {
    id: 'B2',
    what: 'a malformed %-escape in the :id path segment answers Fastify\'s own 400 {"error":"Bad Request","code":"FST_ERR_BAD_URL"} (not a registered code, JSON on a browser endpoint, none of the onSend security headers)',
    matches: (_s, r) => r.status === 400 && r.json?.code === 'FST_ERR_BAD_URL',
  },
  {
    id: 'B3',
    what: 'an :id path segment longer than 500 characters answers Fastify\'s own 414 {"error":"Bad Request","code":"FST_ERR_MAX_PARAM_LENGTH"}',
    matches: (_s, r) => r.status === 414 && r.json?.code === 'FST_ERR_MAX_PARAM_LENGTH',
  },
  {
    id: 'B4',
    what: 'requests the HTTP parser refuses (headers over 16 KB — incl. 10 000 query parameters or a 1 MB query value —, bad bytes in the request line or headers) answer Fastify\'s defaultClientErrorHandler JSON {"error":"Bad Request"|"Request Header Fields Too Large","message":…,"statusCode":…}, without the security headers, and with that body even on a HEAD request (breaks HTTP framing)',
    matches: (_s, r) =>
      (r.status === 400 || r.status === 431 || r.status === 408) &&
      r.json !== undefined &&
      r.json.error === http.STATUS_CODES[r.status] &&
      r.json.statusCode === r.status &&
      typeof r.json.message === 'string',
  },
  {
    id: 'B5',
    what: 'node itself answers an HTTP/1.1 request without a Host header with a bare 400, and an unknown Expect value with a bare 417 — empty bodies (bare-socket test only)',
    matches: (s, r) => s.route === undefined && (r.status === 400 || r.status === 417) && r.body === '',
  },
  {
    id: 'B6',
    what: 'a NUL character (U+0000) in a value that reaches the database answers 500: client_id (form, or %00 / raw NUL in Basic credentials) at /token, /device_authorization, /introspect, /revoke, /authorize, /end_session; state, nonce, login_hint, ui_locales, acr_values at /authorize; username at /interaction/:id/login (PostgreSQL and PGlite text/jsonb refuse U+0000)',
    matches: (s, r) => r.status === 500 && containsNul(s),
  },
];

/** Whether a request carries U+0000 anywhere a parameter could hold it: raw, %00, or inside Basic credentials. */
function containsNul(s: Sent): boolean {
  const body = s.body === undefined ? '' : typeof s.body === 'string' ? s.body : s.body.toString('latin1');
  const basicCreds = /^\s*basic\s+(\S*)/i.exec(s.headers?.authorization ?? '')?.[1];
  const decoded = basicCreds ? Buffer.from(basicCreds, 'base64').toString('latin1') : '';
  return [s.path, body, decoded].some((t) => t.includes('\u0000') || /%00/i.test(t)) || /\\u0000/.test(body);
}

/** Stack traces, error class names, source paths: never in a body (unless the request itself held them). */
const LEAKS: RegExp[] = [
  /\n\s+at .+:\d+:\d+/,
  /\bat (?:async )?[\w$.<>[\] ]+ \((?:file:|node:|\/).+:\d+:\d+\)/,
  /\b(?:Type|Reference|Syntax|Range|Eval|URI|Aggregate|Zod|Fastify|OAuth|AuthorizationPage|AuthorizationRedirect|FormTooLarge|Database|Postgres)?Error: /,
  /node_modules/,
  new RegExp(fileURLToPath(new URL('../..', import.meta.url)).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
  /\/src\/[\w/-]+\.(?:ts|js)\b/,
  /file:\/\//,
  /\bFST_[A-Z_]+\b/,
];

let server: TestServer;
let issuer = '';

/** Real state of the server under test, captured in before(): near-valid requests start from it. */
const fx = {
  userAccessToken: '',
  idToken: '',
  refreshToken: '',
  usedCode: '',
  serviceAccessToken: '',
  deviceCode: '',
  userCode: '',
  /** The signed-in browser (session + browser cookies). */
  sessionCookie: '',
  /** A browser with no session, an interaction waiting at its login page, and a device-page CSRF token. */
  login: { id: '', cookie: '', csrf: '', deviceCsrf: '' },
  /** The signed-in browser's interaction waiting at its consent page. */
  consent: { id: '', cookie: '', csrf: '' },
};

function describeSent(s: Sent): string {
  const body = s.body === undefined ? '' : typeof s.body === 'string' ? Buffer.from(s.body, 'latin1') : s.body;
  const show = (b: Buffer) =>
    b.length > 300 ? `${JSON.stringify(b.subarray(0, 300).toString('latin1'))}… (${b.length} bytes)` : JSON.stringify(b.toString('latin1'));
  const headers = Object.fromEntries(
    Object.entries(s.headers ?? {}).map(([k, v]) => [k, v.length > 200 ? `${v.slice(0, 200)}… (${v.length} chars)` : v]),
  );
  const path = s.path.length > 300 ? `${s.path.slice(0, 300)}… (${s.path.length} chars)` : s.path;
  return `${s.method} ${JSON.stringify(path)}\n  headers: ${JSON.stringify(headers)}\n  body: ${body === '' ? '(none)' : show(body)}`;
}

function isHtml(res: RawResponse, body: string): boolean {
  return /^text\/html\b/i.test(res.headers['content-type'] ?? '') && /<html[\s>]/i.test(body);
}

function parseJson(res: RawResponse, body: string): JsonBody {
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(res.headers['content-type'] ?? '')) return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function wellFormedApiError(json: unknown): string | undefined {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return 'the body is not a JSON object';
  const { error, error_description: description } = json as Record<string, unknown>;
  if (typeof error !== 'string' || !ERROR_SET.has(error)) return `"error" ${JSON.stringify(error)} is not one of ERROR_CODES`;
  if (typeof description !== 'string' || description.trim() === '') return '"error_description" is not a non-empty string';
  return undefined;
}

function redirectAllowed(location: string): boolean {
  if (location.startsWith(`${issuer}/interaction/`)) return true;
  return REDIRECT_TARGETS.some((u) => location === u || location.startsWith(`${u}?`) || location.startsWith(`${u}#`));
}

/** Every rule above, for one answer. Returns the first broken rule, or undefined. */
function violation(s: Sent, res: RawResponse): string | undefined {
  const body = res.body.toString('utf8');
  const sentText = `${s.path}\n${JSON.stringify(s.headers ?? {})}\n${s.body === undefined ? '' : typeof s.body === 'string' ? s.body : s.body.toString('latin1')}\n${s.body === undefined || typeof s.body === 'string' ? '' : s.body.toString('utf8')}`;
  const json = parseJson(res, body);
  const problems: string[] = [];

  if (res.status >= 500) problems.push(`answered ${res.status}`);
  if (s.method === 'HEAD-with-body') problems.push('the answer to a HEAD request carries a body (breaks HTTP framing)');
  for (const leak of LEAKS) {
    if (leak.test(body) && !leak.test(sentText)) problems.push(`the body leaks internals (${leak})`);
  }
  const routed = s.route !== undefined && (s.route.methods as readonly string[]).includes(s.method === 'HEAD' ? 'GET' : s.method);
  const kind: Kind | 'either' = s.route === undefined ? 'api' : routed ? s.route.kind : 'either';
  const head = s.method === 'HEAD';

  if (res.status >= 400 && !head && problems.length === 0) {
    const isUserinfo401 = s.route?.path === '/userinfo' && res.status === 401;
    // RFC 6750 §3 (Bearer), or RFC 9449 §7.1 (DPoP) when the request used the DPoP scheme.
    if (isUserinfo401 && !/^(Bearer|DPoP)\b/.test(res.headers['www-authenticate'] ?? ''))
      problems.push('a 401 from /userinfo has no Bearer or DPoP WWW-Authenticate challenge');
    const apiProblem = isUserinfo401 && body === '' ? undefined : wellFormedApiError(json);
    const html = isHtml(res, body);
    if (kind === 'api' && apiProblem) problems.push(`API error is not well-formed: ${apiProblem}`);
    if (kind === 'browser' && !html)
      problems.push(`browser-endpoint error is not an HTML page (content-type ${String(res.headers['content-type'])})`);
    if (kind === 'either' && apiProblem && !html) problems.push(`error is neither well-formed JSON (${apiProblem}) nor an HTML page`);
  }
  if (res.status >= 300 && res.status < 400) {
    if (res.status === 304) {
      if (!(s.route?.path === '/jwks' || s.route?.path === '/assets/latchkey.css'))
        problems.push('304 from an endpoint without validators');
    } else if (kind !== 'browser') {
      problems.push(`${res.status} redirect from a non-browser endpoint`);
    } else if (res.status !== 303) {
      problems.push(`redirect with ${res.status}, not 303`);
    } else if (!redirectAllowed(res.headers.location ?? '')) {
      problems.push(`303 to an unregistered location ${JSON.stringify(res.headers.location)}`);
    }
  }
  if (res.status < 300 && !head && body !== '') {
    if (/json/i.test(res.headers['content-type'] ?? '') && json === undefined) problems.push('a 2xx JSON body does not parse');
    if (kind === 'browser' && routed && !isHtml(res, body))
      problems.push('a browser endpoint answered 2xx with something other than an HTML page');
  }
  if (problems.length === 0) return undefined;

  const bug = KNOWN_BUGS.find((b) => b.id !== 'B5' && b.matches(s, { status: res.status, body, json }));
  return `${problems.join('; ')}${bug ? ` [known bug ${bug.id}]` : ''}\n  answer: ${res.status} ${res.headers['content-type'] ?? '(no content-type)'} ${JSON.stringify(body.slice(0, 400))}`;
}

/** Response times of every request sent, for the summary printed at the end. */
const timings: number[] = [];
/** FUZZ_STATS=1: how often each (method, route, status) was seen, to check the input reaches deep. */
const STATS = process.env.FUZZ_STATS === '1';
const statuses = new Map<string, number>();

/** Sends one request and asserts every rule; a missing answer within the timeout fails too. */
async function send(s: Sent): Promise<RawResponse> {
  let res: RawResponse;
  try {
    res = await rawRequest(server.url, s, REQUEST_TIMEOUT_MS);
  } catch (err) {
    if (err instanceof NoResponseError) throw new Error(`hang: ${err.message}\n  request: ${describeSent(s)}`, { cause: err });
    // node:http could not read the answer (e.g. a body on a HEAD response): read it off the wire.
    return sendWire(s, (err as Error).message);
  }
  timings.push(res.ms);
  if (STATS)
    statuses.set(
      `${s.method} ${s.route?.path ?? '(unknown)'} ${res.status}`,
      (statuses.get(`${s.method} ${s.route?.path ?? '(unknown)'} ${res.status}`) ?? 0) + 1,
    );
  const v = violation(s, res);
  if (v) throw new Error(`${v}\n  request: ${describeSent(s)}`);
  return res;
}

/**
 * The same checks for a request the server refuses while it is still being sent (headers over
 * the limit): written on a bare socket, so the answer is read even though the server resets the
 * connection before taking the rest.
 */
async function sendWire(s: Sent, clientError?: string): Promise<RawResponse> {
  const body = s.body === undefined ? Buffer.alloc(0) : typeof s.body === 'string' ? Buffer.from(s.body, 'latin1') : s.body;
  const head = [
    `${s.method} ${s.path} HTTP/1.1`,
    'Host: 127.0.0.1',
    ...Object.entries(s.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    `Content-Length: ${body.length}`,
    'Connection: close',
    '',
    '',
  ].join('\r\n');
  const started = performance.now();
  const r = await socketRequest(server.url, Buffer.concat([Buffer.from(head, 'latin1'), body]), REQUEST_TIMEOUT_MS);
  const note = clientError ? ` (node:http: ${clientError})` : '';
  if (r.status === undefined)
    throw new Error(
      `${r.closed ? 'connection closed without an answer' : `hang: no answer within ${REQUEST_TIMEOUT_MS} ms`}${note}\n  request: ${describeSent(s)}`,
    );
  const res: RawResponse = { status: r.status, headers: r.headers, body: Buffer.from(r.body, 'utf8'), ms: performance.now() - started };
  timings.push(res.ms);
  // A HEAD answer with a body breaks HTTP framing: only a known bug may excuse it.
  const v =
    violation(s.method === 'HEAD' && res.body.length ? { ...s, method: 'HEAD-with-body' } : s, res) ??
    (clientError && s.method === 'HEAD' && !res.body.length ? `node:http could not read the answer: ${clientError}` : undefined);
  if (v) throw new Error(`${v}${note}\n  request: ${describeSent(s)}`);
  return res;
}

function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** fc.assert with this file's seed, a bounded run count, and a replay hint on failure. */
async function property<Ts>(name: string, numRuns: number, prop: fc.IAsyncProperty<Ts>) {
  try {
    await fc.assert(prop, {
      numRuns,
      seed: SEED,
      // A property, shrinking included, gets 90 s; past that it fails, reporting the smallest failure so far.
      plugins: [fc.interruptAfterTimeLimit(90_000, { failOnInterrupt: true })],
    });
  } catch (err) {
    (err as Error).message +=
      `\nreplay: FUZZ_SEED=${SEED} node --import tsx --test --test-name-pattern=${JSON.stringify(name)} test/security/fuzz.test.ts`;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/** Known values: real ids, secrets, tokens and codes of this server, so random input reaches deep. */
const pool: Record<'clientIds' | 'secrets' | 'tokens' | 'interactionIds' | 'cookies' | 'csrf' | 'userCodes' | 'etags', string[]> = {
  clientIds: ['web', 'spa', 'tv', 'svc', 'nobody', ''],
  secrets: [SECRET, `${SECRET}x`, 'short'],
  tokens: [],
  interactionIds: [],
  cookies: [],
  csrf: [],
  userCodes: [],
  etags: [],
};

const PARAM_NAMES = [
  'grant_type',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
  'code',
  'code_verifier',
  'redirect_uri',
  'refresh_token',
  'scope',
  'resource',
  'audience',
  'device_code',
  'token',
  'token_type_hint',
  'subject_token',
  'subject_token_type',
  'actor_token',
  'actor_token_type',
  'requested_token_type',
  'assertion',
  'response_type',
  'response_mode',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'prompt',
  'max_age',
  'display',
  'login_hint',
  'id_token_hint',
  'ui_locales',
  'acr_values',
  'request',
  'request_uri',
  'claims',
  'post_logout_redirect_uri',
  'logout_hint',
  'csrf',
  'decision',
  'username',
  'password',
  'user_code',
  'access_token',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
];

const NASTY = [
  '',
  ' ',
  '\t',
  '\r\n',
  '\u0000',
  'a\u0000b',
  '%',
  '%%',
  '%zz',
  '%0',
  '%00',
  '%C0%AF',
  '%ED%A0%80',
  '%FF%FE',
  '%E2%82',
  '+',
  '&',
  '=',
  ';',
  '\uFFFD',
  '\uD800',
  '\uDFFF',
  '🔑',
  'Ω≈ç√',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '"\'><',
  '<%= it.x %>',
  '{{7*7}}',
  '${7*7}',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '-1',
  '1e309',
  'NaN',
  '0x10',
  '99999999999999999999',
  'a'.repeat(300),
  'x'.repeat(9000),
  'code',
  'code id_token',
  'token',
  'id_token',
  'none',
  'code token',
  'query',
  'fragment',
  'form_post',
  'jwt',
  'openid',
  'openid profile email offline_access api:read',
  'api:read api:write',
  'api:admin',
  API,
  'https://evil.example',
  'S256',
  'plain',
  'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  'login',
  'consent',
  'select_account',
  'none login',
  'page',
  'allow',
  'deny',
  'logout',
  'stay',
  'alice',
  PASSWORD,
  'refresh_token',
  'access_token',
  'authorization_code',
  'client_credentials',
  'password',
  'implicit',
  DEVICE_GRANT,
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
  'urn:ietf:params:oauth:grant-type:token-exchange',
  'urn:ietf:params:oauth:token-type:access_token',
  'urn:ietf:params:oauth:token-type:jwt',
  'urn:ietf:params:oauth:token-type:id_token',
  'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  WEB_REDIRECT,
  SPA_REDIRECT,
  POST_LOGOUT,
  `${WEB_REDIRECT}?x=1`,
  `${WEB_REDIRECT}#f`,
  'javascript:alert(1)',
  'http://127.0.0.1:8080/callback/../x',
  'a.b.c',
  'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.',
  'eyJ.eyJ.',
  '...',
  'e30.e30.e30',
];

const latin1Char = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
/** Chars node:http accepts in a header value: tab, 0x20–0x7e, 0x80–0xff (sent as raw latin1 bytes). */
const headerChar = fc
  .oneof(fc.constant('\t'), fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }))
  .map((c) => (typeof c === 'string' ? c : String.fromCharCode(c)));
const headerValue = fc.string({ unit: headerChar, maxLength: 60 });
const tokenChars = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,24}$/);

const fromPool = (key: keyof typeof pool) =>
  fc.constant(null).chain(() => (pool[key].length ? fc.constantFrom(...pool[key]) : fc.constant('')));

function valueArb(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...NASTY) },
    {
      weight: 3,
      arbitrary: fc.oneof(fromPool('clientIds'), fromPool('secrets'), fromPool('tokens'), fromPool('csrf'), fromPool('userCodes')),
    },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: latin1Char, maxLength: 40 }) },
    { weight: 1, arbitrary: fc.integer().map(String) },
  );
}

function keyArb(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...PARAM_NAMES) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 16 }) },
    { weight: 1, arbitrary: fc.constantFrom(...NASTY.slice(0, 30)) },
  );
}

type Pairs = [string, string][];
/** Random pairs, with some keys repeated on purpose (RFC 6749 §3.1 forbids most repetition). */
function pairsArb(maxLength = 16): fc.Arbitrary<Pairs> {
  return fc
    .tuple(fc.array(fc.tuple(keyArb(), valueArb()), { maxLength }), fc.nat(3), fc.array(valueArb(), { maxLength: 3 }))
    .map(([pairs, repeat, extra]) => {
      const out = [...pairs];
      const first = pairs[0];
      if (first) for (let i = 0; i < repeat; i++) out.push([first[0], extra[i] ?? first[1]]);
      return out;
    });
}

type Encoding = 'urlencoded' | 'raw' | 'latin1-bytes';
const encodingArb = fc.constantFrom<Encoding>('urlencoded', 'urlencoded', 'raw', 'latin1-bytes');

/** A form body: properly encoded, or raw (stray %, &, = and non-ASCII as UTF-8), or raw latin1 bytes (invalid UTF-8). */
function encodePairs(pairs: Pairs, enc: Encoding): Buffer {
  if (enc === 'urlencoded') {
    const p = new URLSearchParams();
    for (const [k, v] of pairs) p.append(k, v);
    return Buffer.from(p.toString(), 'utf8');
  }
  const s = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  return enc === 'raw' ? Buffer.from(s, 'utf8') : Buffer.from(s, 'latin1');
}

/** encodeURIComponent, except that a lone surrogate becomes its (invalid) UTF-8 bytes instead of throwing. */
function pct(ch: string): string {
  try {
    return encodeURIComponent(ch);
  } catch {
    return [...Buffer.from([0xed, 0xa0 | ((ch.charCodeAt(0) >> 6) & 0x1f), 0x80 | (ch.charCodeAt(0) & 0x3f)])]
      .map((b) => `%${b.toString(16).toUpperCase()}`)
      .join('');
  }
}

/** pct for a whole string (code point by code point), so random text with lone surrogates encodes too. */
const encodeAny = (s: string): string => Array.from(s).map(pct).join('');

/** A query string node:http will put on the wire: every char U+0021–U+00FF (latin1 bytes), else %-encoded. */
function encodeQuery(pairs: Pairs, enc: Encoding): string {
  if (enc === 'urlencoded') {
    const p = new URLSearchParams();
    for (const [k, v] of pairs) p.append(k, v);
    return p.toString();
  }
  const s = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  return Array.from(s)
    .map((ch) => {
      const c = ch.codePointAt(0)!;
      if (c >= 0x21 && c <= 0xff) return enc === 'latin1-bytes' || c < 0x80 ? ch : pct(ch);
      return c > 0xff && enc === 'latin1-bytes' ? String.fromCharCode(0x80 + (c % 0x80)) : pct(ch).replace(/%20/g, '+');
    })
    .join('');
}

const b64 = (s: string, enc: BufferEncoding = 'utf8') => Buffer.from(s, enc).toString('base64');

function authorizationArb(): fc.Arbitrary<string> {
  const scheme = fc.oneof(
    fc.constantFrom('Basic', 'basic', 'BASIC', 'Bearer', 'bearer', 'DPoP', 'Digest', 'Negotiate', 'MAC', 'Token', 'Basic\t', ''),
    tokenChars,
  );
  return fc.oneof(
    fc
      .tuple(fc.oneof(fromPool('clientIds'), valueArb()), fc.oneof(fromPool('secrets'), valueArb()), fc.boolean())
      .map(([id, secret, encode]) => `Basic ${b64(encode ? `${encodeAny(id)}:${encodeAny(secret)}` : `${id}:${secret}`)}`),
    fc.uint8Array({ maxLength: 64 }).map((b) => `Basic ${Buffer.from(b).toString('base64')}`),
    fc.base64String({ maxLength: 80 }).map((s) => `Basic ${s}`),
    fromPool('tokens').map((t) => `Bearer ${t}`),
    fc.tuple(scheme, fc.oneof(fc.base64String({ maxLength: 60 }), headerValue, fromPool('tokens'))).map(([a, b]) => `${a} ${b}`),
    headerValue,
    fc.constantFrom(
      'Basic',
      'Basic ',
      'Bearer',
      'Bearer ',
      'Basic Og==',
      'Basic ===',
      'Basic dGVzdA',
      'Basic !!!',
      'Bearer a b',
      'Bearer ====',
      `Basic ${b64('web:')}`,
      `Basic ${b64(':')}`,
      `Basic ${b64(`web:${SECRET}:extra`)}`,
      `Basic ${b64('%zz:%zz')}`,
      `Basic ${b64('web\u0000:x')}`,
      `Basic ${b64('w\xe9b:x', 'latin1')}`,
      basicAuth('web', SECRET),
      basicAuth('svc', SECRET),
      basicAuth('spa', ''),
    ),
  );
}

const CONTENT_TYPES = [
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-8',
  'application/x-www-form-urlencoded;charset=ISO-8859-1',
  'Application/X-WWW-Form-Urlencoded',
  'application/x-www-form-urlencoded ; foo=bar',
  'application/x-www-form-urlencodedx',
  'application/x-www-form-urlencoded, application/json',
  'application/json',
  'application/json; charset=utf-16',
  'application/jwt',
  'application/jose',
  'application/x-json',
  'application/vnd.api+json',
  'application/problem+json',
  'text/plain',
  'text/plain; charset=utf-8',
  'text/html',
  'multipart/form-data',
  'multipart/form-data; boundary=----x',
  'application/octet-stream',
  'application/xml',
  '*/*',
  ';',
  'application/',
  '/',
  'x',
  'json',
  'application/json;',
  'application/json; charset="',
  '',
];
const contentTypeArb = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
  { weight: 1, arbitrary: headerValue },
  { weight: 1, arbitrary: fc.tuple(tokenChars, tokenChars, headerValue).map(([a, b, p]) => `${a}/${b}; ${p}`) },
);
const formContentTypeArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant('application/x-www-form-urlencoded') },
  { weight: 2, arbitrary: contentTypeArb },
);

const FRAMING = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'expect',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'proxy-connection',
  'http2-settings',
  'content-type',
  'authorization',
  'cookie',
]);
const headerNameArb = fc
  .oneof(
    fc.constantFrom(
      'x-request-id',
      'x-forwarded-for',
      'x-forwarded-proto',
      'x-forwarded-host',
      'forwarded',
      'host',
      'accept',
      'accept-language',
      'accept-encoding',
      'origin',
      'referer',
      'if-none-match',
      'if-modified-since',
      'range',
      'content-encoding',
      'dpop',
      'user-agent',
      'x-http-method-override',
      'access-control-request-method',
      'accept-version',
    ),
    tokenChars,
  )
  .filter((n) => !FRAMING.has(n.toLowerCase()));

function cookieArb(): fc.Arbitrary<string> {
  return fc.oneof(
    fromPool('cookies'),
    fc
      .tuple(
        fc.oneof(fromPool('cookies'), fc.constant('')),
        fc.constantFrom('lk_browser', 'lk_session', '__Host-lk_session', 'x'),
        fc.oneof(headerValue, fc.string({ unit: fc.constantFrom('A', 'b', '-', '_', '0'), minLength: 43, maxLength: 43 })),
      )
      .map(([base, name, v]) => [base, `${name}=${v}`].filter(Boolean).join('; ')),
    headerValue,
  );
}

interface Headers {
  authorization?: string;
  cookie?: string;
  extra: Record<string, string>;
}
const headersArb: fc.Arbitrary<Headers> = fc.record(
  {
    authorization: authorizationArb(),
    cookie: cookieArb(),
    extra: fc.dictionary(headerNameArb, fc.oneof(headerValue, fromPool('etags')), { maxKeys: 4 }),
  },
  { requiredKeys: ['extra'] },
);

function headerObject(h: Headers, contentType?: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h.extra)) out[k] = v;
  if (h.authorization !== undefined) out.authorization = h.authorization;
  if (h.cookie !== undefined) out.cookie = h.cookie;
  if (contentType !== undefined) out['content-type'] = contentType;
  return out;
}

/** An interaction id: a live one, one already used, a plausible random one, or garbage. */
function interactionIdArb(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fromPool('interactionIds') },
    { weight: 2, arbitrary: fc.stringMatching(/^[\w-]{1,64}$/) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).map((s) => Array.from(s).map(pct).join('')) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '%',
        '%zz',
        '%C0',
        '%ED%A0%80',
        '%00',
        '..',
        '.',
        'a%2Fb',
        'x'.repeat(65),
        'x'.repeat(501),
        encodeURIComponent('<script>'),
      ),
    },
  );
}

/** A real request to each endpoint, built from the fixtures (call after before()). */
interface Template {
  path: string;
  method: 'GET' | 'POST';
  params: Record<string, string>;
  headers: Record<string, string>;
}
function nearValidTemplates(): Template[] {
  const PKCE = { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };
  const AUTH_CODE_PARAMS = { response_type: 'code', scope: 'openid profile offline_access api:read', state: 'st', nonce: 'n', ...PKCE };
  const webAuth = { authorization: basicAuth('web', SECRET) };
  return [
    {
      path: '/authorize',
      method: 'GET',
      params: { client_id: 'web', redirect_uri: WEB_REDIRECT, ...AUTH_CODE_PARAMS },
      headers: { cookie: fx.sessionCookie },
    },
    {
      path: '/authorize',
      method: 'GET',
      params: { client_id: 'web', redirect_uri: WEB_REDIRECT, ...AUTH_CODE_PARAMS, prompt: 'none', response_mode: 'form_post' },
      headers: {},
    },
    {
      path: '/authorize',
      method: 'POST',
      params: { client_id: 'spa', redirect_uri: SPA_REDIRECT, response_type: 'code', scope: 'openid api:read', resource: API, ...PKCE },
      headers: { cookie: fx.sessionCookie },
    },
    {
      path: '/authorize',
      method: 'GET',
      params: {
        client_id: 'web',
        redirect_uri: WEB_REDIRECT,
        response_type: 'code id_token',
        scope: 'openid',
        nonce: 'n',
        response_mode: 'fragment',
        max_age: '0',
        ...PKCE,
      },
      headers: { cookie: fx.sessionCookie },
    },
    {
      path: '/token',
      method: 'POST',
      params: { grant_type: 'authorization_code', code: fx.usedCode, redirect_uri: WEB_REDIRECT },
      headers: webAuth,
    },
    {
      path: '/token',
      method: 'POST',
      params: {
        grant_type: 'authorization_code',
        code: fx.usedCode,
        redirect_uri: SPA_REDIRECT,
        client_id: 'spa',
        code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
      },
      headers: {},
    },
    {
      path: '/token',
      method: 'POST',
      params: { grant_type: 'refresh_token', refresh_token: fx.refreshToken, scope: 'openid' },
      headers: webAuth,
    },
    {
      path: '/token',
      method: 'POST',
      params: { grant_type: 'client_credentials', client_id: 'svc', client_secret: SECRET, resource: API, scope: 'api:read' },
      headers: {},
    },
    { path: '/token', method: 'POST', params: { grant_type: DEVICE_GRANT, device_code: fx.deviceCode, client_id: 'tv' }, headers: {} },
    {
      path: '/token',
      method: 'POST',
      params: {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: fx.userAccessToken,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        audience: API,
      },
      headers: webAuth,
    },
    {
      path: '/token',
      method: 'POST',
      params: {
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: fx.idToken,
        scope: 'api:read',
        client_id: 'svc',
        client_secret: SECRET,
      },
      headers: {},
    },
    {
      path: '/token',
      method: 'POST',
      params: {
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: fx.idToken,
      },
      headers: {},
    },
    {
      path: '/device_authorization',
      method: 'POST',
      params: { client_id: 'tv', scope: 'openid profile offline_access api:read', resource: API },
      headers: {},
    },
    {
      path: '/introspect',
      method: 'POST',
      params: { token: fx.userAccessToken, token_type_hint: 'access_token', client_id: 'svc', client_secret: SECRET },
      headers: {},
    },
    { path: '/introspect', method: 'POST', params: { token: fx.refreshToken, token_type_hint: 'refresh_token' }, headers: webAuth },
    { path: '/revoke', method: 'POST', params: { token: fx.serviceAccessToken, client_id: 'svc', client_secret: SECRET }, headers: {} },
    { path: '/revoke', method: 'POST', params: { token: fx.userAccessToken, token_type_hint: 'access_token' }, headers: webAuth },
    { path: '/userinfo', method: 'GET', params: {}, headers: { authorization: `Bearer ${fx.userAccessToken}` } },
    { path: '/userinfo', method: 'POST', params: { access_token: fx.userAccessToken }, headers: {} },
    { path: '/device', method: 'GET', params: { user_code: fx.userCode }, headers: { cookie: fx.login.cookie } },
    {
      path: '/device',
      method: 'POST',
      params: { user_code: fx.userCode, csrf: fx.login.deviceCsrf },
      headers: { cookie: fx.login.cookie },
    },
    { path: `/interaction/${fx.login.id}`, method: 'GET', params: {}, headers: { cookie: fx.login.cookie } },
    {
      path: `/interaction/${fx.login.id}/login`,
      method: 'POST',
      params: { username: 'alice', password: 'wrong password', csrf: fx.login.csrf },
      headers: { cookie: fx.login.cookie },
    },
    { path: `/interaction/${fx.consent.id}`, method: 'GET', params: {}, headers: { cookie: fx.consent.cookie } },
    {
      path: `/interaction/${fx.consent.id}/consent`,
      method: 'POST',
      params: { decision: 'allow', csrf: fx.consent.csrf },
      headers: { cookie: fx.consent.cookie },
    },
    {
      path: '/end_session',
      method: 'GET',
      params: { id_token_hint: fx.idToken, post_logout_redirect_uri: POST_LOGOUT, state: 's' },
      headers: { cookie: fx.sessionCookie },
    },
    {
      path: '/end_session',
      method: 'POST',
      params: { client_id: 'web', post_logout_redirect_uri: POST_LOGOUT, decision: 'logout', csrf: 'x' },
      headers: { cookie: fx.sessionCookie },
    },
  ];
}

const pathOf = (route: Route, id: string) => route.path.replace(':id', id);

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

describe('bad input everywhere: no 5xx, no hang, every error well-formed (fast-check)', () => {
  before(async () => {
    const t0 = performance.now();
    // Login throttles low: a random form that reaches the password check costs an argon2 run.
    server = await startServer({
      bootstrap,
      env: { AUTH_FAILURE_LIMIT: '1000', LOGIN_FAILURE_LIMIT_IP: '8', LOGIN_FAILURE_LIMIT_ACCOUNT: '5' },
    });
    issuer = server.issuer;
    const url = server.url;

    // A signed-in browser, a consent given, and real tokens: random input then reaches deep.
    const ua = new UserAgent();
    const authorize = (client: string, redirect: string, extra: Record<string, string> = {}) =>
      `${url}/authorize?${new URLSearchParams({ client_id: client, redirect_uri: redirect, response_type: 'code', scope: 'openid profile offline_access api:read', state: 'st', nonce: 'n', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', ...extra }).toString()}`;
    let res = await ua.follow(await ua.get(authorize('web', WEB_REDIRECT)), url);
    let html = await res.text();
    const firstInteraction = new URL(formAction(html, url)).pathname.split('/')[2]!;
    pool.interactionIds.push(firstInteraction);
    pool.csrf.push(hiddenField(html, 'csrf'));
    res = await ua.follow(
      await ua.post(formAction(html, url), { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') }),
      url,
    );
    html = await res.text();
    assert.match(html, /name="decision"/, 'the consent page follows the login');
    res = await ua.post(formAction(html, url), { decision: 'allow', csrf: hiddenField(html, 'csrf') });
    assert.equal(res.status, 303);
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    const tokens = await postForm(
      `${url}/token`,
      { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT, code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk' },
      { authorization: basicAuth('web', SECRET) },
    );
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    pool.tokens.push(tokens.body.access_token, tokens.body.id_token, tokens.body.refresh_token, code);
    pool.cookies.push(ua.jar.header());

    // A second browser with a live interaction waiting at the login page.
    const ua2 = new UserAgent();
    res = await ua2.follow(
      await ua2.get(
        authorize('spa', SPA_REDIRECT, {
          scope: 'openid api:read',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
        }),
      ),
      url,
    );
    html = await res.text();
    pool.interactionIds.push(new URL(formAction(html, url)).pathname.split('/')[2]!);
    pool.csrf.push(hiddenField(html, 'csrf'));
    pool.cookies.push(ua2.jar.header());
    for (const c of [...ua.jar.values(), ...ua2.jar.values()]) pool.tokens.push(c);

    // A pending device code, and a service token.
    const device = await postForm(`${url}/device_authorization`, { client_id: 'tv', scope: 'openid api:read' });
    assert.equal(device.status, 200, JSON.stringify(device.body));
    pool.tokens.push(device.body.device_code);
    pool.userCodes.push(device.body.user_code, device.body.user_code.replace('-', '').toLowerCase());
    const cc = await postForm(`${url}/token`, { grant_type: 'client_credentials', client_id: 'svc', client_secret: SECRET, resource: API });
    assert.equal(cc.status, 200, JSON.stringify(cc.body));
    pool.tokens.push(cc.body.access_token, `${cc.body.access_token}x`, `${cc.body.access_token.split('.').slice(0, 2).join('.')}.`);
    // The signed-in browser asks for another client: an interaction waiting at the consent page.
    res = await ua.follow(
      await ua.get(
        authorize('spa', SPA_REDIRECT, {
          scope: 'openid api:read',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
        }),
      ),
      url,
    );
    html = await res.text();
    assert.match(html, /name="decision"/, 'a consent page for the second client');
    fx.consent = { id: new URL(formAction(html, url)).pathname.split('/')[2]!, cookie: pool.cookies[0]!, csrf: hiddenField(html, 'csrf') };
    pool.interactionIds.push(fx.consent.id);
    pool.csrf.push(fx.consent.csrf);
    // The device page's CSRF token for the second browser.
    html = await (await ua2.get(`${url}/device`)).text();
    const deviceCsrf = hiddenField(html, 'csrf');
    pool.csrf.push(deviceCsrf);
    fx.login = {
      id: pool.interactionIds[1]!,
      cookie: ua2.jar.header(),
      csrf: pool.csrf[1]!,
      deviceCsrf,
    };
    Object.assign(fx, {
      userAccessToken: tokens.body.access_token,
      idToken: tokens.body.id_token,
      refreshToken: tokens.body.refresh_token,
      usedCode: code,
      serviceAccessToken: cc.body.access_token,
      deviceCode: device.body.device_code,
      userCode: device.body.user_code,
      sessionCookie: pool.cookies[0]!,
    });

    const jwks = await fetch(`${url}/jwks`);
    pool.etags.push(jwks.headers.get('etag') ?? '', 'W/"x"', '*');
    process.stdout.write(`# fuzz: seed ${SEED}, scale ${SCALE}; server and fixtures ready in ${Math.round(performance.now() - t0)} ms\n`);
  });

  after(async () => {
    await (server as TestServer | undefined)?.close(); // unset if before() failed
    if (timings.length) {
      process.stdout.write(
        `# fuzz: ${timings.length} requests; response time p50 ${percentile(timings, 50).toFixed(1)} ms, p99 ${percentile(timings, 99).toFixed(1)} ms, max ${Math.max(...timings).toFixed(1)} ms\n`,
      );
    }
    if (STATS) for (const [k, n] of [...statuses].sort()) process.stdout.write(`# fuzz: ${k} ×${n}\n`);
  });

  it('random forms POSTed to every POST endpoint', async () => {
    await property(
      'random forms POSTed to every POST endpoint',
      runs(50),
      fc.asyncProperty(
        pairsArb(),
        encodingArb,
        formContentTypeArb,
        headersArb,
        interactionIdArb(),
        async (pairs, enc, type, headers, id) => {
          const body = encodePairs(pairs, enc);
          await Promise.all(
            POST_ROUTES.map((route) =>
              send({
                route,
                method: 'POST',
                path: pathOf(route, id),
                headers: headerObject(headers, type),
                body,
                formParams: pairs.length,
              }),
            ),
          );
        },
      ),
    );
  });

  it('random query strings and headers on every GET endpoint (and POST with a query)', async () => {
    await property(
      'random query strings and headers on every GET endpoint',
      runs(50),
      fc.asyncProperty(
        pairsArb(),
        encodingArb,
        headersArb,
        interactionIdArb(),
        fc.constantFrom('', '#frag', '&', '?', '&&=&'),
        async (pairs, enc, headers, id, tail) => {
          const qs = encodeQuery(pairs, enc) + tail;
          await Promise.all([
            ...GET_ROUTES.map((route) =>
              send({ route, method: 'GET', path: `${pathOf(route, id)}?${qs}`, headers: headerObject(headers) }),
            ),
            send({
              route: ROUTES.find((r) => r.path === '/token'),
              method: 'POST',
              path: `/token?${qs}`,
              headers: headerObject(headers, 'application/x-www-form-urlencoded'),
              body: 'grant_type=client_credentials',
            }),
          ]);
        },
      ),
    );
  });

  it('JSON, binary, text, invalid UTF-8 and NUL-byte bodies with any content type and method, to every path', async () => {
    const bodyArb: fc.Arbitrary<Buffer> = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v))),
      fc
        .dictionary(keyArb(), fc.oneof(valueArb(), fc.jsonValue({ maxDepth: 2 })), { maxKeys: 8 })
        .map((o) => Buffer.from(JSON.stringify(o))),
      fc
        .constantFrom(
          '{"__proto__":{"x":1}}',
          '{"constructor":{"prototype":{"x":1}}}',
          '{',
          '{"a":',
          '[',
          '"',
          'nul',
          '{"grant_type":"client_credentials"}',
          '\uFEFF{}',
          '{}garbage',
        )
        .map((s) => Buffer.from(s)),
      fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
      fc
        .tuple(pairsArb(8), fc.uint8Array({ minLength: 1, maxLength: 16 }))
        .map(([p, bytes]) => Buffer.concat([encodePairs(p, 'urlencoded'), Buffer.from('&x='), Buffer.from(bytes.map((b) => b | 0x80))])),
      fc
        .tuple(fc.constantFrom(...PARAM_NAMES.slice(0, 46)), fc.string({ maxLength: 10 }))
        .map(([k, v]) => Buffer.from(`${k}=${v}\u0000${v}&${k}\u0000=1`, 'utf8')),
      fc.constant(Buffer.alloc(0)),
    );
    const methodArb = fc.constantFrom('POST', 'POST', 'GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS');
    const paths = [...ROUTES.map((r) => ({ route: r, path: r.path })), { route: undefined, path: '/nope' }];
    await property(
      'JSON, binary, text, invalid UTF-8 and NUL-byte bodies',
      runs(30),
      fc.asyncProperty(bodyArb, contentTypeArb, methodArb, headersArb, interactionIdArb(), async (body, type, method, headers, id) => {
        await Promise.all(
          paths.map(({ route, path }) =>
            send({ route, method, path: path.replace(':id', id), headers: headerObject(headers, type), body }),
          ),
        );
      }),
    );
  });

  it('near-valid requests (a real request with a few parameters or headers changed) to every endpoint', async () => {
    const templates = nearValidTemplates();
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('set' as const), index: fc.nat(), value: valueArb() }),
      fc.record({ op: fc.constant('delete' as const), index: fc.nat() }),
      fc.record({ op: fc.constant('repeat' as const), index: fc.nat(), value: valueArb() }),
      fc.record({ op: fc.constant('add' as const), key: keyArb(), value: valueArb() }),
      fc.record({
        op: fc.constant('inject' as const),
        index: fc.nat(),
        at: fc.nat(),
        text: fc.constantFrom('\u0000', '\u0000\u0000', '\uFFFD', '\uD800', '\xff\xfe', '\xc3\x28', '\r\n', '%00', '%FF'),
      }),
      fc.record({
        op: fc.constant('header' as const),
        name: fc.constantFrom('authorization', 'cookie', 'content-type'),
        value: fc.oneof(authorizationArb(), cookieArb(), contentTypeArb, fc.constant(undefined)),
      }),
    );
    await property(
      'near-valid requests',
      runs(150),
      fc.asyncProperty(fc.nat(templates.length - 1), fc.array(mutation, { maxLength: 3 }), encodingArb, async (which, mutations, enc) => {
        const t = templates[which]!;
        const pairs: Pairs = Object.entries(t.params);
        const headerMap = new Map<string, string>(
          Object.entries({ ...t.headers, ...(t.method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) }),
        );
        for (const m of mutations) {
          const i = pairs.length ? ('index' in m ? m.index % pairs.length : 0) : -1;
          if (m.op === 'set' && i >= 0) pairs[i] = [pairs[i]![0], m.value];
          else if (m.op === 'delete' && i >= 0) pairs.splice(i, 1);
          else if (m.op === 'repeat' && i >= 0) pairs.push([pairs[i]![0], m.value]);
          else if (m.op === 'add') pairs.push([m.key, m.value]);
          else if (m.op === 'inject' && i >= 0) {
            const [k, v] = pairs[i]!;
            const at = m.at % (v.length + 1);
            pairs[i] = [k, v.slice(0, at) + m.text + v.slice(at)];
          } else if (m.op === 'header') {
            if (m.value === undefined) headerMap.delete(m.name);
            else headerMap.set(m.name, m.value);
          }
        }
        const headers = Object.fromEntries(headerMap);
        const route = ROUTES.find((r) => new RegExp(`^${r.path.replace(':id', '[^/]*')}$`).test(t.path));
        if (t.method === 'GET') {
          const qs = encodeQuery(pairs, enc);
          await send({ route, method: 'GET', path: qs ? `${t.path}?${qs}` : t.path, headers });
        } else {
          await send({ route, method: 'POST', path: t.path, headers, body: encodePairs(pairs, enc), formParams: pairs.length });
        }
      }),
    );
  });

  it('NUL, invalid UTF-8 and a lone surrogate in every parameter of every real request', async () => {
    // Raw %-escapes: URLSearchParams would re-encode the %, and invalid UTF-8 must reach the server as such.
    const INJECTIONS = ['%00', '%FF%FE', '%ED%A0%80'];
    const requests: Sent[] = [];
    for (const t of nearValidTemplates()) {
      const route = ROUTES.find((r) => new RegExp(`^${r.path.replace(':id', '[^/]*')}$`).test(t.path));
      const names = Object.keys(t.params);
      const variants: { encoded: string; headers: Record<string, string> }[] = [];
      for (const name of names) {
        for (const inj of INJECTIONS) {
          const encoded = names
            .map((n) => `${encodeURIComponent(n)}=${encodeURIComponent(t.params[n]!)}${n === name ? inj : ''}`)
            .join('&');
          variants.push({ encoded, headers: t.headers });
        }
      }
      if (t.headers.authorization?.startsWith('Basic ')) {
        const encoded = new URLSearchParams(t.params).toString();
        variants.push({ encoded, headers: { ...t.headers, authorization: basicAuth('web\u0000', SECRET) } });
        variants.push({
          encoded,
          headers: { ...t.headers, authorization: `Basic ${Buffer.from([0x77, 0x65, 0x62, 0xff, 0x3a, 0x78]).toString('base64')}` },
        });
      }
      for (const v of variants) {
        requests.push(
          t.method === 'GET'
            ? { route, method: 'GET', path: `${t.path}?${v.encoded}`, headers: v.headers }
            : {
                route,
                method: 'POST',
                path: t.path,
                headers: { ...v.headers, 'content-type': 'application/x-www-form-urlencoded' },
                body: v.encoded,
                formParams: names.length,
              },
        );
      }
    }
    // A few at a time: the point is every sink, not load.
    for (let i = 0; i < requests.length; i += 8) await Promise.all(requests.slice(i, i + 8).map((r) => send(r)));
  });

  it('unknown paths and mutations of real ones answer a well-formed 404/405', async () => {
    const segment = fc.oneof(
      fc.stringMatching(/^[\w.~-]{1,20}$/),
      fc.string({ unit: 'binary', maxLength: 12 }).map((s) => Array.from(s).map(pct).join('')),
      fc.string({ unit: latin1Char.filter((c) => c.charCodeAt(0) >= 0x21), maxLength: 12 }),
    );
    const known = ROUTES.map((r) => r.path.replace(':id', 'x'));
    const pathArb = fc.oneof(
      fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => `/~${s.join('/')}`),
      fc
        .tuple(fc.constantFrom(...known), fc.constantFrom('/', '//', '/..', '/.', '%2F', '%00', '.json', ';x', '/x', '%20', '~'))
        .map(([p, t]) => p + t),
      fc.constantFrom(...known).map((p) => p.toUpperCase()),
      fc.constantFrom(...known).map((p) => `/${p}`),
      fc.constantFrom(
        '/',
        '//',
        '/.well-known/',
        '/interaction',
        '/interaction/',
        '/interaction//login',
        '/assets/',
        '/assets/../package.json',
        '/%2e%2e/%2e%2e/etc/passwd',
        '/..%2f..%2fetc%2fpasswd',
        '/\\..\\',
        '/*',
        `/${'a'.repeat(4000)}`,
      ),
    );
    await property(
      'unknown paths and mutations of real ones',
      runs(150),
      fc.asyncProperty(pathArb, fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'), async (path, method) => {
        // A mutation that still reaches a route is checked by that route's rules.
        const route = ROUTES.find((r) => new RegExp(`^${r.path.replace(/\./g, '\\.').replace(':id', '[^/]*')}$`).test(path));
        await send({
          route,
          method,
          path,
          headers: method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
          body: method === 'POST' ? 'a=b' : undefined,
        });
      }),
    );
  });

  it('wrong methods (PUT, DELETE, PATCH, OPTIONS, HEAD, and odd ones) on every endpoint', async () => {
    const methods = [...WRONG_METHODS, 'HEAD', 'GET', 'POST', 'PROPFIND', 'SEARCH', 'LOCK', 'PURGE', 'MKCOL'];
    const checks: Promise<unknown>[] = [];
    for (const route of ROUTES) {
      for (const method of methods) {
        const path = pathOf(route, pool.interactionIds[0]!);
        const withBody = method !== 'GET' && method !== 'HEAD';
        checks.push(
          send({
            route,
            method,
            path,
            headers: withBody ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
            body: withBody ? 'grant_type=client_credentials&client_id=svc' : undefined,
          }).then((res) => {
            const allowed =
              (route.methods as readonly string[]).includes(method) ||
              (method === 'HEAD' && route.methods.includes('GET')) ||
              (method === 'OPTIONS' && CORS_PATHS.has(route.path));
            if (!allowed) {
              assert.ok(res.status === 405 || res.status === 404, `${method} ${route.path} answered ${res.status}, expected 405`);
              if (res.status === 405)
                assert.ok((res.headers.allow ?? '').length > 0, `${method} ${route.path}: 405 without an Allow header`);
            }
            if (method === 'OPTIONS' && CORS_PATHS.has(route.path)) assert.equal(res.status, 204, `OPTIONS ${route.path}`);
          }),
        );
      }
    }
    await Promise.all(checks);
  });

  it('10 000 parameters: in a form to every POST endpoint, in the query of every GET endpoint', async () => {
    const manyDistinct = Array.from({ length: 10_000 }, (_, i) => `${i.toString(36)}=`).join('&'); // ~45 KB: under the body limit
    const manyRepeated = Array.from({ length: 10_000 }, () => 'scope=openid').join('&'); // ~130 KB: over it
    const manyShort = Array.from({ length: 10_000 }, () => 'a=1').join('&');
    const id = pool.interactionIds[1]!;
    const cookie = pool.cookies[1]!;
    const checks: Promise<unknown>[] = [];
    for (const route of POST_ROUTES) {
      for (const body of [manyDistinct, manyRepeated, manyShort]) {
        checks.push(
          send({
            route,
            method: 'POST',
            path: pathOf(route, id),
            headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
            body,
            formParams: 10_000,
          }),
        );
      }
    }
    // ~40 KB of request line: over node's 16 KB header limit, refused while it is being sent.
    for (const route of GET_ROUTES)
      checks.push(sendWire({ route, method: 'GET', path: `${pathOf(route, id)}?${manyShort}`, headers: { cookie } }));
    await Promise.all(checks);
  });

  it('1 MB values: in a form, a JSON body, a binary body, a query value, a header and a cookie', async () => {
    const mb = 'A'.repeat(1024 * 1024);
    const id = pool.interactionIds[1]!;
    for (const route of POST_ROUTES) {
      await Promise.all([
        send({
          route,
          method: 'POST',
          path: pathOf(route, id),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `client_id=web&state=${mb}`,
          formParams: 2,
        }),
        send({
          route,
          method: 'POST',
          path: pathOf(route, id),
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ client_id: mb }),
        }),
        send({
          route,
          method: 'POST',
          path: pathOf(route, id),
          headers: { 'content-type': 'application/octet-stream' },
          body: Buffer.alloc(1024 * 1024, 0xff),
        }),
      ]);
    }
    for (const route of ROUTES) {
      const method = route.methods[0]!;
      await Promise.all([
        sendWire({ route, method, path: `${pathOf(route, id)}?state=${mb}` }),
        sendWire({ route, method, path: pathOf(route, id), headers: { authorization: `Bearer ${mb}` } }),
        sendWire({ route, method, path: pathOf(route, id), headers: { cookie: `lk_browser=${mb}` } }),
      ]);
    }
  });

  it('a Content-Length over the body limit is refused at once, before any body is sent', async () => {
    for (const route of POST_ROUTES) {
      const path = pathOf(route, 'abc');
      const res = await socketRequest(
        server.url,
        Buffer.from(
          `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 2000000\r\n\r\ngrant_type=`,
        ),
        REQUEST_TIMEOUT_MS,
      );
      assert.equal(res.status, 413, `POST ${path} with Content-Length 2000000: ${JSON.stringify(res.raw.slice(0, 300))}`);
      if (route.kind === 'api') assert.equal(wellFormedApiError(JSON.parse(res.body)), undefined, res.body);
      else assert.match(res.headers['content-type'] ?? '', /^text\/html/);
    }
  });

  it('malformed HTTP on a bare socket: an answer, never 5xx, errors well-formed', async () => {
    const rawChar = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
    const route = fc.constantFrom(...ROUTES.map((r) => pathOf(r, 'abc')));
    const requestArb = fc.oneof(
      // Bad bytes in the request target.
      fc
        .tuple(fc.constantFrom('GET', 'POST'), route, fc.string({ unit: rawChar, minLength: 1, maxLength: 20 }))
        .map(([m, p, junk]) => `${m} ${p}?q=${junk} HTTP/1.1\r\nHost: x\r\n\r\n`),
      // Bad bytes in a header value or name.
      fc
        .tuple(route, fc.string({ unit: rawChar, maxLength: 30 }), fc.constantFrom('Authorization', 'Cookie', 'Content-Type', 'X-Junk'))
        .map(([p, junk, name]) => `GET ${p} HTTP/1.1\r\nHost: x\r\n${name}: ${junk.replace(/\r\n/g, '')}\r\n\r\n`),
      fc
        .tuple(route, fc.string({ unit: rawChar, minLength: 1, maxLength: 12 }))
        .map(([p, junk]) => `GET ${p} HTTP/1.1\r\nHost: x\r\n${junk.replace(/[\r\n:]/g, '')}: v\r\n\r\n`),
      // Framing: bad chunking, conflicting lengths, odd versions.
      route.map(
        (p) =>
          `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n`,
      ),
      route.map((p) => `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\na=b`),
      route.map((p) => `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`),
      route.map((p) => `GET ${p} HTTP/9.9\r\nHost: x\r\n\r\n`),
      route.map((p) => `GET ${p}\r\n\r\n`),
      route.map((p) => `GET ${p} HTTP/1.1\r\n\r\n`),
      route.map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n`),
    );
    await property(
      'malformed HTTP on a bare socket',
      runs(60),
      fc.asyncProperty(requestArb, async (text) => {
        const res = await socketRequest(server.url, Buffer.from(text, 'latin1'), REQUEST_TIMEOUT_MS);
        const where = `request bytes: ${JSON.stringify(text.slice(0, 300))}\n  answer: ${JSON.stringify(res.raw.slice(0, 400))}`;
        if (res.status === undefined) {
          // Closing without an answer is allowed only for a connection the parser gave up on at once.
          assert.ok(res.closed, `hang: no answer and the connection stays open\n  ${where}`);
          return;
        }
        assert.ok(res.status < 500, `answered ${res.status}\n  ${where}`);
        if (res.status >= 400) {
          let json: JsonBody;
          try {
            json = JSON.parse(res.body);
          } catch {
            /* not JSON */
          }
          const html = /^text\/html/i.test(res.headers['content-type'] ?? '');
          const bug = KNOWN_BUGS.find(
            (b) =>
              (b.id === 'B4' || b.id === 'B5') &&
              b.matches({ method: '?', path: '?', route: undefined }, { status: res.status!, body: res.body, json }),
          );
          assert.ok(
            html || wellFormedApiError(json) === undefined,
            `malformed error${bug ? ` [known bug ${bug.id}]` : ''}: ${wellFormedApiError(json)}\n  ${where}`,
          );
        }
        for (const leak of LEAKS) assert.ok(!leak.test(res.body) || leak.test(text), `the body leaks internals (${leak})\n  ${where}`);
      }),
    );
  });

  // One minimal reproduction per bug this file found (all fixed).

  it('B1: a form with 201 parameters POSTed to /authorize answers an HTML 413, not 500', async () => {
    const res = await rawRequest(server.url, {
      method: 'POST',
      path: '/authorize',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Array.from({ length: 201 }, (_, i) => `k${i}=v`).join('&'),
    });
    assert.equal(res.status, 413);
    assert.match(String(res.headers['content-type']), /^text\/html/);
  });

  it("B2: GET /interaction/%zz answers an HTML page, not Fastify's FST_ERR_BAD_URL JSON", async () => {
    const res = await rawRequest(server.url, { method: 'GET', path: '/interaction/%zz' });
    assert.ok(res.status >= 400 && res.status < 500, String(res.status));
    assert.match(String(res.headers['content-type']), /^text\/html/, res.body.toString());
  });

  it("B3: GET /interaction/<501 chars> answers an HTML page, not Fastify's FST_ERR_MAX_PARAM_LENGTH JSON", async () => {
    const res = await rawRequest(server.url, { method: 'GET', path: `/interaction/${'x'.repeat(501)}` });
    assert.ok(res.status >= 400 && res.status < 500, String(res.status));
    assert.match(String(res.headers['content-type']), /^text\/html/, res.body.toString());
  });

  it('B6: a NUL character in client_id, state or username answers 4xx, not 500', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const nulBasic = `Basic ${Buffer.from('web\u0000:x').toString('base64')}`;
    const cases: RawRequest[] = [
      { method: 'POST', path: '/token', headers: { ...form, authorization: nulBasic }, body: 'grant_type=client_credentials' },
      { method: 'POST', path: '/token', headers: form, body: 'grant_type=client_credentials&client_id=web%00&client_secret=x' },
      { method: 'POST', path: '/device_authorization', headers: form, body: 'client_id=a%00' },
      { method: 'POST', path: '/introspect', headers: form, body: 'client_id=a%00&client_secret=x&token=y' },
      { method: 'POST', path: '/revoke', headers: form, body: 'client_id=a%00&token=y' },
      { method: 'GET', path: '/authorize?client_id=a%00&redirect_uri=x&response_type=code' },
      {
        method: 'GET',
        path: `/authorize?client_id=web&redirect_uri=${encodeURIComponent(WEB_REDIRECT)}&response_type=code&scope=openid&state=a%00b`,
      },
      { method: 'GET', path: '/end_session?client_id=a%00' },
      {
        method: 'POST',
        path: `/interaction/${fx.login.id}/login`,
        headers: { ...form, cookie: fx.login.cookie },
        body: `username=al%00ice&password=x&csrf=${encodeURIComponent(fx.login.csrf)}`,
      },
    ];
    const answers = await Promise.all(
      cases.map(
        async (c) =>
          `${(await rawRequest(server.url, c)).status} ${c.method} ${c.path.slice(0, 60)} ${typeof c.body === 'string' ? c.body.slice(0, 60) : ''}`,
      ),
    );
    assert.deepEqual(
      answers.filter((a) => a.startsWith('5')),
      [],
    );
  });

  it('B4: a request the HTTP parser refuses answers a registered error code', async () => {
    const res = await socketRequest(server.url, Buffer.from('GET /tok\u0000en HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'));
    assert.equal(res.status, 400);
    assert.equal(wellFormedApiError(JSON.parse(res.body)), undefined, res.body);
    const big = await rawRequest(server.url, { method: 'GET', path: `/token?${'a=1&'.repeat(10_000)}` });
    assert.equal(big.status, 431);
    assert.equal(wellFormedApiError(JSON.parse(big.body.toString())), undefined, big.body.toString());
  });
});
