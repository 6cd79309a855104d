import type { BenchClient } from '../fixtures.js';
import { Stock } from '../lib/http.js';
import { codeExchangeBody, MINT_CONNECTIONS, mintCodes, signIn, type MintedCode } from './code-flow.js';
import { basicAuth } from '../../test/support/basic-auth.js';
import {
  API,
  apiResource,
  BENCH_USER,
  checkAccessToken,
  decodeJwt,
  failOn,
  FORM_HEADERS,
  isBare,
  random,
  REDIRECT_URI,
  verifyBare,
} from './common.js';
import type { TargetId } from '../targets.js';
import type { RequestSpec, Scenario, Workload } from './types.js';

export const authorizationCodeClient: BenchClient = {
  client_id: 'bench-web',
  client_secret: 'bench-web-secret-0123456789abcdefghijklmnopqrstu',
  grant_types: ['authorization_code'],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: 'openid api:read',
  audiences: [API],
  redirect_uris: [REDIRECT_URI],
  skip_consent: true,
};

const SCOPE = 'openid api:read';
/** Codes are minted at most this long before use (AUTHORIZATION_CODE_TTL=600 on Latchkey, 600 s on oidc-provider). */
const CODE_MAX_AGE_MS = 480_000;

/**
 * A stock of codes, or for the bare route of look-alike random strings, and the token request
 * that spends one each.
 */
function codeWorkload(
  target: TargetId,
  baseUrl: string,
  client: BenchClient,
  scope: string,
  then: (c: MintedCode) => RequestSpec,
): Workload {
  const stock = new Stock<MintedCode>(CODE_MAX_AGE_MS);
  let cookie: string | undefined;
  return {
    next: () => {
      const c = stock.take();
      return c && then(c);
    },
    available: () => stock.size,
    async stock(count) {
      if (isBare(target)) {
        await stock.fill(count, (n) => {
          for (let i = 0; i < n; i++) stock.push({ code: random(32), verifier: random(32) });
        });
        return;
      }
      cookie ??= await signIn(target, baseUrl, client, scope);
      await stock.fill(count, (n) => mintCodes(target, baseUrl, cookie!, client, scope, n, MINT_CONNECTIONS, (c) => stock.push(c)));
    },
    describeStocking: () => (isBare(target) ? undefined : stock.describe('codes')),
  };
}

/** RFC 6749 §4.1.3 + RFC 7636: the exchange a web app makes after every sign-in. */
export const authorizationCode: Scenario = {
  id: 'authorization_code',
  title: 'authorization_code exchange, client_secret_basic, PKCE S256 (fresh code per request)',
  description:
    'POST /token, Authorization: Basic, grant_type=authorization_code&code=…&redirect_uri=…&code_verifier=… with a code minted ' +
    `beforehand (GET authorize with prompt=none on a signed-in session, scope "${SCOPE}", resource ${API}) → ES256 JWT access token ` +
    'and RS256 ID token. Every request spends its own code and verifier; codes are minted before each measurement and never ' +
    'during one. Latchkey runs with AUTHORIZATION_CODE_TTL=600 (default 60 s) and oidc-provider with 600 s codes, so that codes ' +
    'minted before a round are still valid when it runs. The bare route gets look-alike random codes.',
  fixtures: { clients: [authorizationCodeClient], resources: [apiResource], users: [BENCH_USER] },
  targets: ['latchkey', 'latchkey-workers2', 'oidc-provider', 'oidc-provider-pg', 'bare-fastify'],
  defaultTargets: ['latchkey', 'oidc-provider', 'oidc-provider-pg'],
  // Minting a code costs about as much as exchanging it: shorter rounds keep the run short.
  durationSec: 3,
  workload(target, ctx) {
    const authorization = basicAuth(authorizationCodeClient.client_id, authorizationCodeClient.client_secret);
    return codeWorkload(target, ctx.baseUrl, authorizationCodeClient, SCOPE, (c) => ({
      method: 'POST',
      path: '/token',
      headers: { authorization, ...FORM_HEADERS },
      body: codeExchangeBody(c),
    }));
  },
  verify(target, res) {
    if (isBare(target)) return verifyBare(res);
    const { json, problems, summary } = checkAccessToken(res, { scope: 'api:read' });
    if (typeof json.id_token !== 'string') problems.push('no id_token (scope has openid)');
    else {
      const id = decodeJwt(json.id_token, 'id_token');
      if (id.header.alg !== 'RS256') problems.push(`id_token alg is ${String(id.header.alg)}, expected RS256`);
      if (
        id.payload.aud !== authorizationCodeClient.client_id &&
        !(Array.isArray(id.payload.aud) && id.payload.aud.includes(authorizationCodeClient.client_id))
      ) {
        problems.push(`id_token aud is ${JSON.stringify(id.payload.aud)}`);
      }
      if (typeof id.payload.nonce !== 'string') problems.push('id_token has no nonce');
    }
    if (json.refresh_token !== undefined) problems.push('a refresh_token was issued; this client is not allowed the refresh_token grant');
    failOn(problems, res);
    return `${summary}, id_token RS256 with nonce`;
  },
  // Issue 13's targets.
  goals: [
    { kind: 'throughput-ratio', target: 'latchkey', versus: 'oidc-provider', atLeast: 1.2 },
    { kind: 'throughput-ratio', target: 'latchkey', versus: 'oidc-provider-pg', atLeast: 2 },
  ],
};
