import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose';
import { API, CB, SECRET, dpopBootstrap, insecure, signIn } from '../helpers/dpop.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { postForm, startServer, type TestServer } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';

/**
 * DPoP (RFC 9449) with openid-client's own DPoP support (getDPoPHandle): tokens bound with
 * cnf.jkt and token_type DPoP for the code, refresh and client credentials grants, /userinfo with
 * the DPoP scheme, introspection's cnf, dpop_jkt at /authorize, dpop_bound_access_tokens, and the
 * server-nonce round trip (DPOP_NONCE=required). Attacks: test/security/dpop-*.test.ts.
 */

const thumbprint = async (keys: Awaited<ReturnType<typeof oidc.randomDPoPKeyPair>>) =>
  calculateJwkThumbprint(await exportJWK(keys.publicKey), 'sha256');

/** Introspection as the client the token was issued to (RFC 7662; oauth/introspection-access.ts). */
async function introspect(server: TestServer, token: string, client = 'web') {
  return postForm(`${server.url}/introspect`, { token }, { authorization: basicAuth(client, SECRET) });
}

describe('DPoP with openid-client (RFC 9449)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ bootstrap: dpopBootstrap });
  });
  after(() => server.close());

  const web = () => oidc.discovery(new URL(server.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), insecure);
  const spa = () => oidc.discovery(new URL(server.issuer), 'spa', undefined, oidc.None(), insecure);

  it('discovery advertises the proof algorithms', async () => {
    const md = (await web()).serverMetadata();
    assert.ok(Array.isArray(md.dpop_signing_alg_values_supported));
    assert.ok(md.dpop_signing_alg_values_supported.includes('ES256'));
    assert.ok(md.dpop_signing_alg_values_supported.includes('PS256'));
    assert.ok(!md.dpop_signing_alg_values_supported.some((a: string) => a.startsWith('HS') || a === 'none'));
  });

  it('code flow, userinfo, introspection and refresh of a confidential client: every access token bound to the key', async () => {
    const config = await web();
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const DPoP = oidc.getDPoPHandle(config, keys);
    const jkt = await thumbprint(keys);
    const { callback, verifier, nonce, state } = await signIn(server, config, 'openid profile offline_access');
    const tokens = await oidc.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state },
      undefined,
      { DPoP },
    );
    assert.equal(tokens.token_type, 'dpop');
    assert.deepEqual(decodeJwt(tokens.access_token).cnf, { jkt });

    const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub, { DPoP });
    assert.equal(info.name, 'Alice');

    const seen = await introspect(server, tokens.access_token);
    assert.equal(seen.status, 200);
    assert.equal(seen.body.active, true);
    assert.equal(seen.body.token_type, 'DPoP');
    assert.deepEqual(seen.body.cnf, { jkt });

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
    assert.equal(refreshed.token_type, 'dpop');
    assert.deepEqual(decodeJwt(refreshed.access_token).cnf, { jkt });

    // RFC 9449 §5: a confidential client's refresh token is not bound, the new access token is.
    const otherKeys = await oidc.randomDPoPKeyPair('ES256');
    const again = await oidc.refreshTokenGrant(config, refreshed.refresh_token!, undefined, {
      DPoP: oidc.getDPoPHandle(config, otherKeys),
    });
    assert.deepEqual(decodeJwt(again.access_token).cnf, { jkt: await thumbprint(otherKeys) });
    // …and without a proof, a bearer token.
    const bearer = await oidc.refreshTokenGrant(config, again.refresh_token!);
    assert.equal(bearer.token_type, 'bearer');
    assert.equal(decodeJwt(bearer.access_token).cnf, undefined);
    assert.equal((await introspect(server, bearer.access_token)).body.token_type, 'Bearer');
  });

  it("a public client's refresh token is bound to its key and keeps working with it across rotations", async () => {
    const config = await spa();
    const keys = await oidc.randomDPoPKeyPair('EdDSA');
    const DPoP = oidc.getDPoPHandle(config, keys);
    const { callback, verifier, nonce, state } = await signIn(server, config, 'openid offline_access');
    const tokens = await oidc.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state },
      undefined,
      { DPoP },
    );
    const r1 = await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
    const r2 = await oidc.refreshTokenGrant(config, r1.refresh_token!, undefined, { DPoP });
    assert.equal(r2.token_type, 'dpop');
    assert.deepEqual(decodeJwt(r2.access_token).cnf, { jkt: await thumbprint(keys) });
    const stored = await server.ctx.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM refresh_tokens WHERE client_id = $1 AND dpop_jkt = $2',
      ['spa', await thumbprint(keys)],
    );
    assert.equal(stored.rows[0]!.n, 3, 'the first token and both successors carry the binding');
  });

  it('client_credentials with DPoP: a bound token; a client registered with dpop_bound_access_tokens needs a proof', async () => {
    const config = await oidc.discovery(new URL(server.issuer), 'svc', undefined, oidc.ClientSecretBasic(SECRET), insecure);
    const keys = await oidc.randomDPoPKeyPair('PS256');
    const tokens = await oidc.clientCredentialsGrant(config, { resource: API }, { DPoP: oidc.getDPoPHandle(config, keys) });
    assert.equal(tokens.token_type, 'dpop');
    assert.deepEqual(decodeJwt(tokens.access_token).cnf, { jkt: await thumbprint(keys) });

    const strict = await oidc.discovery(new URL(server.issuer), 'svc-dpop', undefined, oidc.ClientSecretBasic(SECRET), insecure);
    await assert.rejects(oidc.clientCredentialsGrant(strict, { resource: API }), (err: oidc.ResponseBodyError) => {
      assert.equal(err.error, 'invalid_dpop_proof');
      assert.match(err.error_description!, /dpop_bound_access_tokens/);
      return true;
    });
    const bound = await oidc.clientCredentialsGrant(strict, { resource: API }, { DPoP: oidc.getDPoPHandle(strict, keys) });
    assert.equal(bound.token_type, 'dpop');
  });

  it('dpop_jkt at /authorize binds the code to the key: redeemed with a proof of it', async () => {
    const config = await spa();
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const DPoP = oidc.getDPoPHandle(config, keys);
    const { callback, verifier, nonce, state } = await signIn(server, config, 'openid', { dpop_jkt: await DPoP.calculateThumbprint() });
    const tokens = await oidc.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state },
      undefined,
      { DPoP },
    );
    assert.deepEqual(decodeJwt(tokens.access_token).cnf, { jkt: await thumbprint(keys) });
  });

  it('a malformed dpop_jkt is refused at /authorize with a redirect error', async () => {
    const config = await spa();
    const { url } = await pkceAuthorizationUrl(config, CB, { scope: 'openid', dpop_jkt: 'not-a-thumbprint' });
    const r = await fetch(url, { redirect: 'manual' });
    assert.equal(r.status, 303);
    const location = new URL(r.headers.get('location')!);
    assert.equal(location.searchParams.get('error'), 'invalid_request');
    assert.match(location.searchParams.get('error_description')!, /dpop_jkt/);
  });
});

describe('DPoP server nonces (DPOP_NONCE=required) with openid-client', () => {
  let server: TestServer;
  /** Every answer the client received: the nonce round trip shows as a use_dpop_nonce answer. */
  const answers: { url: string; status: number; error?: string; nonce: string | null }[] = [];
  before(async () => {
    server = await startServer({ bootstrap: dpopBootstrap, env: { DPOP_NONCE: 'required' } });
  });
  after(() => server.close());

  const recording: oidc.CustomFetch = async (url, options) => {
    const r = await fetch(url, options as RequestInit);
    const text = await r.clone().text();
    let error: string | undefined;
    try {
      error = (JSON.parse(text) as { error?: string }).error;
    } catch {
      error = /error="([^"]+)"/.exec(r.headers.get('www-authenticate') ?? '')?.[1];
    }
    answers.push({ url, status: r.status, ...(error ? { error } : {}), nonce: r.headers.get('dpop-nonce') });
    return r;
  };

  it('token and userinfo requests first get use_dpop_nonce with a DPoP-Nonce, then succeed with it', async () => {
    const config = await oidc.discovery(new URL(server.issuer), 'spa', undefined, oidc.None(), insecure);
    config[oidc.customFetch] = recording;
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const DPoP = oidc.getDPoPHandle(config, keys);
    const { callback, verifier, nonce, state } = await signIn(server, config, 'openid profile offline_access');
    const tokens = await oidc.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state },
      undefined,
      { DPoP },
    );
    assert.equal(tokens.token_type, 'dpop');
    const tokenAnswers = answers.filter((a) => a.url.endsWith('/token'));
    assert.equal(tokenAnswers.length, 2);
    assert.deepEqual(
      { status: tokenAnswers[0]!.status, error: tokenAnswers[0]!.error, nonce: Boolean(tokenAnswers[0]!.nonce) },
      { status: 400, error: 'use_dpop_nonce', nonce: true },
      'the first proof carried no nonce: the server asked for one (and did not consume the code)',
    );
    assert.equal(tokenAnswers[1]!.status, 200);

    // The nonce the token endpoint gave is good at /userinfo too (one server, one nonce key).
    const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub, { DPoP });
    assert.equal(info.name, 'Alice');
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
    assert.equal(refreshed.token_type, 'dpop');
    assert.equal(answers.filter((a) => a.status === 400 || a.status === 401).length, 1, 'one round trip: later proofs reused the nonce');
  });

  it('a userinfo request whose proof has no nonce gets 401 use_dpop_nonce with a DPoP challenge', async () => {
    const config = await oidc.discovery(new URL(server.issuer), 'spa', undefined, oidc.None(), insecure);
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const DPoP = oidc.getDPoPHandle(config, keys);
    const { callback, verifier, nonce, state } = await signIn(server, config, 'openid');
    const tokens = await oidc.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state },
      undefined,
      { DPoP },
    );
    // A fresh handle knows no nonce yet: its first userinfo proof has none.
    const fresh = oidc.getDPoPHandle(config, keys);
    const first: { status: number; challenge: string | null; nonce: string | null }[] = [];
    config[oidc.customFetch] = async (url, options) => {
      const r = await fetch(url, options as RequestInit);
      first.push({ status: r.status, challenge: r.headers.get('www-authenticate'), nonce: r.headers.get('dpop-nonce') });
      return r;
    };
    const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub, { DPoP: fresh });
    assert.ok(info.sub);
    assert.equal(first[0]!.status, 401);
    assert.match(first[0]!.challenge!, /^DPoP error="use_dpop_nonce"/);
    assert.match(first[0]!.challenge!, /algs="[^"]*ES256/);
    assert.ok(first[0]!.nonce);
    assert.equal(first[1]!.status, 200);
  });
});
