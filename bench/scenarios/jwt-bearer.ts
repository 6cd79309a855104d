import { generateKeyPairSync, sign } from 'node:crypto';
import type { BenchClient, BenchTrustedIssuer } from '../fixtures.js';
import { Stock } from '../lib/http.js';
import { basicAuth } from '../../test/support/basic-auth.js';
import { API, apiResource, BENCH_USER, checkAccessToken, failOn, FORM_HEADERS, isBare, random, verifyBare } from './common.js';
import type { Scenario } from './types.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const PARTNER_ISSUER = 'https://idp.partner.example';

export const partnerClient: BenchClient = {
  client_id: 'bench-partner',
  client_secret: 'bench-partner-secret-0123456789abcdefghijklmnopq',
  grant_types: [JWT_BEARER],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: 'api:read',
  audiences: [API],
};

// The partner's signing key: made per run; its public half goes into the bootstrap file.
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const KID = 'bench-partner-1';
const partnerKey = privateKey;

const trustedIssuer: BenchTrustedIssuer = {
  issuer: PARTNER_ISSUER,
  jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: KID, alg: 'ES256', use: 'sig' }] },
  subject: BENCH_USER.username,
  scope: 'api:read',
  client_ids: [partnerClient.client_id],
};

/** Assertions are valid 300 s (JWT_BEARER_MAX_ASSERTION_LIFETIME's default) from when they are made. */
const LIFETIME = 300;
const MAX_AGE_MS = 200_000;

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const HEADER = b64({ alg: 'ES256', typ: 'JWT', kid: KID });

/** RFC 7523 §3: an ES256 assertion for `aud` with a new `jti`. */
function assertion(aud: string): string {
  const iat = Math.floor(Date.now() / 1000);
  const input = `${HEADER}.${b64({ iss: PARTNER_ISSUER, sub: BENCH_USER.username, aud, iat, exp: iat + LIFETIME, jti: random(16) })}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: partnerKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

const authorization = basicAuth(partnerClient.client_id, partnerClient.client_secret);

/** Issue 6: RFC 7523 §2.1, an access token for a partner-asserted user. */
export const jwtBearer: Scenario = {
  id: 'jwt_bearer',
  title: 'JWT-bearer grant (RFC 7523), client_secret_basic (fresh assertion per request)',
  description:
    `POST /token, Authorization: Basic, grant_type=${JWT_BEARER}&assertion=…&scope=api:read → ES256 JWT access token for the ` +
    `asserted user. Each assertion is a new ES256 JWT from the trusted issuer ${PARTNER_ISSUER} (bootstrap trusted_issuers, ` +
    `inline jwks) with its own jti (recorded atomically by Latchkey: replays are refused), signed by the bench before the ` +
    'measurement. No peer: node-oidc-provider has no JWT-bearer grant. The bare route gets look-alike assertions of the same size.',
  fixtures: { clients: [partnerClient], resources: [apiResource], users: [BENCH_USER], trusted_issuers: [trustedIssuer] },
  targets: ['latchkey', 'latchkey-workers2', 'bare-fastify'],
  defaultTargets: ['latchkey'],
  async workload(target, ctx) {
    // The assertion's audience is the server's issuer identifier, from its discovery document.
    let aud = 'https://bare.invalid';
    if (!isBare(target)) {
      const res = await fetch(`${ctx.baseUrl}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(10_000) });
      aud = ((await res.json()) as { issuer: string }).issuer;
    }
    const stock = new Stock<string>(MAX_AGE_MS);
    // The bare route checks nothing: it gets look-alikes (a real assertion with a random
    // signature), the same size, made without signing each one.
    const real = assertion(aud);
    const unsigned = real.slice(0, real.lastIndexOf('.') + 1);
    const make = isBare(target) ? () => unsigned + random(64) : () => assertion(aud);
    return {
      next: () => {
        const a = stock.take();
        return a === undefined
          ? undefined
          : {
              method: 'POST',
              path: '/token',
              headers: { authorization, ...FORM_HEADERS },
              body: `grant_type=${encodeURIComponent(JWT_BEARER)}&assertion=${a}&scope=api%3Aread`,
            };
      },
      available: () => stock.size,
      stock: (count) =>
        stock.fill(count, (n) => {
          for (let i = 0; i < n; i++) stock.push(make());
        }),
      describeStocking: () => stock.describe('assertions'),
    };
  },
  verify(target, res) {
    if (isBare(target)) return verifyBare(res);
    const { json, payload, problems, summary } = checkAccessToken(res, { scope: 'api:read' });
    if (typeof payload.sub !== 'string' || !payload.sub) problems.push('no sub');
    if (json.refresh_token !== undefined) problems.push('a refresh_token was issued (RFC 7523 grants get none)');
    failOn(problems, res);
    const mapped = payload.sub === BENCH_USER.username ? 'sub = asserted username' : "sub = the user's id";
    return `${summary}, ${mapped}`;
  },
  goals: [],
};
