import { flagSetting } from '../../test/support/env.js';
import type { BenchClient } from '../fixtures.js';
import { batch, Stock } from '../lib/http.js';
import { codeExchangeBody, MINT_CONNECTIONS, mintCodes, signIn, type MintedCode } from './code-flow.js';
import { basicAuth } from '../../test/support/basic-auth.js';
import {
  API,
  apiResource,
  BENCH_USER,
  checkAccessToken,
  failOn,
  FORM_HEADERS,
  isLatchkey,
  isOidcProvider,
  REDIRECT_URI,
} from './common.js';
import type { TargetId } from '../targets.js';
import type { RequestSpec, Scenario } from './types.js';

export const offlineClient: BenchClient = {
  client_id: 'bench-offline',
  client_secret: 'bench-offline-secret-0123456789abcdefghijklmnopq',
  grant_types: ['authorization_code', 'refresh_token'],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: 'openid offline_access api:read',
  audiences: [API],
  redirect_uris: [REDIRECT_URI],
  skip_consent: true,
};

const SCOPE = 'openid offline_access api:read';
const authorization = basicAuth(offlineClient.client_id, offlineClient.client_secret);

/** Codes minted for refresh tokens are exchanged right away, in the same stocking step. */
async function mintRefreshTokens(target: TargetId, baseUrl: string, cookie: string, n: number, push: (rt: string) => void): Promise<void> {
  const codes: MintedCode[] = [];
  await mintCodes(target, baseUrl, cookie, offlineClient, SCOPE, n, MINT_CONNECTIONS, (c) => codes.push(c));
  let i = 0;
  await batch<null>(
    baseUrl,
    codes.length,
    MINT_CONNECTIONS,
    () => ({
      req: { method: 'POST', path: '/token', headers: { authorization, ...FORM_HEADERS }, body: codeExchangeBody(codes[i++]!) },
      value: null,
    }),
    (_v, a) => {
      if (a.status !== 200) return false;
      const rt = (JSON.parse(a.body) as { refresh_token?: unknown }).refresh_token;
      if (typeof rt !== 'string' || !rt) return false;
      push(rt);
      return true;
    },
  );
}

const refreshRequest = (rt: string): RequestSpec => ({
  method: 'POST',
  path: '/token',
  headers: { authorization, ...FORM_HEADERS },
  body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(rt)}`,
});

/**
 * How many refresh tokens are minted through the code flow. Each answer's new refresh token goes
 * back into the stock (first in, first out), so every request still presents a token that has
 * never been presented — what a client that rotates does — and the stock never runs dry.
 * BENCH_REFRESH_SINGLE_USE=1 instead mints one code-flow token per request (a grant per request;
 * minting then costs about twice the measured time).
 */
const SEED = 1000;
/** Read when the scenario runs; bench/run.ts has checked the setting with the others at start-up. */
const singleUse = () => flagSetting(process.env, 'BENCH_REFRESH_SINGLE_USE');
const NEW_REFRESH_TOKEN = /"refresh_token":"([^"]+)"/;

/** Issue 4: refresh with rotation, each request presenting a refresh token never used before. */
export const refreshToken: Scenario = {
  id: 'refresh_token',
  title: 'refresh_token with rotation, client_secret_basic (fresh refresh token per request)',
  description:
    'POST /token, Authorization: Basic, grant_type=refresh_token&refresh_token=… → ES256 JWT access token, RS256 ID token and ' +
    'a new refresh token (rotation on every use in both servers; the presented one stops working). Every request presents a ' +
    `refresh token never presented before. The first ${SEED.toLocaleString('en-US')} per target come from the code flow ` +
    `(scope "${SCOPE}", each code minted with prompt=none on a signed-in session and exchanged once, before the measurement); ` +
    "after that each answer's new refresh token joins the back of the queue, so the tokens form rotation chains, as real " +
    "clients' do (BENCH_REFRESH_SINGLE_USE=1: one code-flow token per request instead). Latchkey: PostgreSQL, a grant (family) per " +
    'code. oidc-provider: in memory or on PostgreSQL (its own database, every write committed), rotateRefreshToken: true; it drops offline_access from prompt=none requests, so its bench ' +
    'config issues refresh tokens to clients allowed the refresh_token grant (issueRefreshToken) that outlive the browser ' +
    "session (expiresWithSession: false), as offline_access does on Latchkey; all its tokens share the session's one Grant.",
  fixtures: { clients: [offlineClient], resources: [apiResource], users: [BENCH_USER] },
  targets: ['latchkey', 'latchkey-workers2', 'oidc-provider', 'oidc-provider-pg'],
  defaultTargets: ['latchkey', 'oidc-provider', 'oidc-provider-pg'],
  workload(target, ctx) {
    if (!isLatchkey(target) && !isOidcProvider(target)) throw new Error(`no refresh tokens on ${target}`);
    const stock = new Stock<string>();
    let cookie: string | undefined;
    return {
      next: () => {
        const rt = stock.take();
        return rt === undefined ? undefined : refreshRequest(rt);
      },
      available: () => stock.size,
      ...(singleUse()
        ? {}
        : {
            answer(status: number, body: string) {
              const m = status === 200 ? NEW_REFRESH_TOKEN.exec(body) : null;
              if (m) stock.recycle(m[1]!);
            },
          }),
      async stock(count) {
        cookie ??= await signIn(target, ctx.baseUrl, offlineClient, SCOPE);
        const want = singleUse() ? count : Math.max(Math.min(count, SEED), stock.made === 0 ? SEED : 0);
        await stock.fill(want, (n) => mintRefreshTokens(target, ctx.baseUrl, cookie!, n, (rt) => stock.push(rt)));
      },
      describeStocking: () => stock.describe('refresh tokens (a code and its exchange each)'),
    };
  },
  verify(_target, res) {
    const { json, problems, summary } = checkAccessToken(res, { scope: 'api:read' });
    const sent = new URLSearchParams(res.request.body ?? '').get('refresh_token');
    if (typeof json.refresh_token !== 'string' || !json.refresh_token) problems.push('no new refresh_token: rotation is off');
    else if (json.refresh_token === sent) problems.push('the same refresh_token came back: rotation is off');
    if (typeof json.id_token !== 'string') problems.push('no id_token (scope has openid)');
    failOn(problems, res);
    return `${summary}, new refresh_token (${String(json.refresh_token).length} chars), id_token`;
  },
  // Issue 13's targets.
  goals: [
    { kind: 'throughput-ratio', target: 'latchkey', versus: 'oidc-provider', atLeast: 1.2 },
    { kind: 'throughput-ratio', target: 'latchkey', versus: 'oidc-provider-pg', atLeast: 2 },
  ],
};
