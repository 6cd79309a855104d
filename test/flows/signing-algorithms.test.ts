/**
 * Every algorithm Latchkey publishes signs tokens that relying parties and resource servers
 * accept: the native signer (src/keys/compact-jws.ts) checked with jose against /jwks, and with
 * openid-client, which verifies ID token signatures (non-repudiation checks, and always in the
 * hybrid flow's front channel).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import * as oidc from 'openid-client';
import { compactVerify, createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { SIGNING_ALGS } from '../../src/keys/algorithms.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { signInWithCodeFlow } from '../helpers/sign-in.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { UserAgent, formAction, hiddenField } from '../helpers/user-agent.js';

const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'rp-secret-rp-secret-rp-secret-0123456';
const PASSWORD = 'correct horse battery staple';

const bootstrap = {
  clients: SIGNING_ALGS.map((alg) => ({
    client_id: `rp-${alg}`,
    client_secret: SECRET,
    redirect_uris: [CB],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code', 'code id_token'],
    scope: 'openid profile offline_access',
    id_token_signed_response_alg: alg,
    skip_consent: true,
  })),
  users: [{ username: 'alice', password: PASSWORD, claims: { name: 'Alice' } }],
};

for (const accessAlg of SIGNING_ALGS) {
  describe(`signing with ACCESS_TOKEN_SIGNING_ALG=${accessAlg}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer({ bootstrap, env: { ACCESS_TOKEN_SIGNING_ALG: accessAlg } });
    });
    after(() => server.close());

    const relyingParty = (idAlg: string, ...execute: ((c: oidc.Configuration) => void)[]) =>
      oidc.discovery(new URL(server.issuer), `rp-${idAlg}`, undefined, oidc.ClientSecretBasic(SECRET), {
        execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks, ...execute],
      });
    const verifyAccessToken = (token: string) =>
      jwtVerify(token, createRemoteJWKSet(new URL(`${server.url}/jwks`)), {
        issuer: server.issuer,
        typ: 'at+jwt',
        algorithms: [accessAlg],
      });

    if (accessAlg === SIGNING_ALGS[0]) {
      it('every published key signs random claim sets that verify against its JWK in /jwks', async () => {
        const jwks = (await (await fetch(`${server.url}/jwks`)).json()) as JSONWebKeySet;
        assert.deepEqual(jwks.keys.map((k) => k.alg).sort(), [...SIGNING_ALGS].sort(), 'one published key per algorithm');
        const published = createLocalJWKSet(jwks);
        const claimSets = fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 });
        for (const alg of SIGNING_ALGS) {
          const key = server.ctx.keystore.signingKey(alg);
          await fc.assert(
            fc.asyncProperty(claimSets, fc.constantFrom('at+jwt' as const, 'JWT' as const), async (claims, typ) => {
              const token = key.signer.sign(claims, typ);
              const { payload, protectedHeader } = await compactVerify(token, published, { algorithms: [alg] });
              assert.deepEqual(protectedHeader, { alg, kid: key.kid, typ });
              assert.deepEqual(JSON.parse(new TextDecoder().decode(payload)), JSON.parse(JSON.stringify(claims)));
            }),
            { numRuns: 50 },
          );
        }
      });
    }

    for (const idAlg of SIGNING_ALGS) {
      it(`code flow: openid-client verifies the ${idAlg} ID token (code exchange and refresh); the ${accessAlg} access token verifies against /jwks`, async () => {
        const config = await relyingParty(idAlg);
        const { tokens } = await signInWithCodeFlow({
          config,
          baseUrl: server.url,
          redirectUri: CB,
          username: 'alice',
          password: PASSWORD,
          scope: 'openid profile offline_access',
        });
        assert.equal(decodeProtectedHeader(tokens.id_token!).alg, idAlg);
        assert.equal(tokens.claims()?.aud, `rp-${idAlg}`);
        const { payload, protectedHeader } = await verifyAccessToken(tokens.access_token);
        assert.equal(protectedHeader.alg, accessAlg);
        assert.equal(payload.sub, tokens.claims()?.sub);

        const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
        assert.equal(decodeProtectedHeader(refreshed.id_token!).alg, idAlg);
        assert.equal(refreshed.claims()?.sub, tokens.claims()?.sub);
        await verifyAccessToken(refreshed.access_token);
      });

      it(`hybrid code id_token: openid-client verifies the front-channel ${idAlg} ID token`, async () => {
        const config = await relyingParty(idAlg, oidc.useCodeIdTokenResponseType);
        const a = await pkceAuthorizationUrl(config, CB, { scope: 'openid' });
        const ua = new UserAgent();
        const page = await ua.follow(await ua.get(a.url.toString()), server.url);
        const html = await page.text();
        const r = await ua.post(formAction(html, server.url), { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') });
        const callback = (await ua.follow(r, server.url)).headers.get('location') ?? r.headers.get('location');
        if (!callback?.startsWith(`${CB}#`)) assert.fail(`a fragment response, not ${String(callback)}`);
        const frontChannel = new URLSearchParams(new URL(callback).hash.slice(1)).get('id_token');
        assert.equal(decodeProtectedHeader(frontChannel!).alg, idAlg);
        const tokens = await oidc.authorizationCodeGrant(config, new URL(callback), {
          pkceCodeVerifier: a.verifier,
          expectedNonce: a.nonce,
          expectedState: a.state,
        });
        assert.equal(tokens.claims()?.aud, `rp-${idAlg}`);
      });
    }
  });
}
