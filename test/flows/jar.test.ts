import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { SignJWT, generateKeyPair } from 'jose';
import { postForm, startServer, type TestServer } from '../helpers/server.js';
import { clientKeyPair, type ClientKeys } from '../helpers/fixtures.js';
import { formAction, hiddenField } from '../support/html-form.js';
import { UserAgent } from '../support/user-agent.js';

const CB = 'http://127.0.0.1:8080/cb';
const PASSWORD = 'correct horse battery staple';
const insecure = { execute: [oidc.allowInsecureRequests] };
const PKCE = { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };
const TYP = 'oauth-authz-req+jwt';

/**
 * Signed request objects (RFC 9101) by value at /authorize and inside a pushed request, made by
 * openid-client's buildAuthorizationUrlWithJAR; and the attacks: unsigned, HMAC, another key,
 * another audience, a replayed jti, another client's client_id, no explicit type.
 */
describe('signed request objects (RFC 9101)', () => {
  let server: TestServer;
  let jar: oidc.Configuration;
  let keys: ClientKeys;
  const base = (id: string, extra: Record<string, unknown> = {}) => ({
    client_id: id,
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [keys.publicJwk] },
    redirect_uris: [CB],
    scope: 'openid profile',
    skip_consent: true,
    ...extra,
  });

  before(async () => {
    keys = await clientKeyPair('ES256', 'k1');
    server = await startServer({
      bootstrap: {
        clients: [
          base('jar', { request_object_signing_alg: 'ES256' }),
          base('jar2'),
          base('signed-only', { require_signed_request_object: true }),
          { client_id: 'keyless', token_endpoint_auth_method: 'none', redirect_uris: [CB], scope: 'openid', skip_consent: true },
        ],
        users: [{ username: 'alice', password: PASSWORD, claims: {} }],
      },
    });
    jar = await oidc.discovery(new URL(server.issuer), 'jar', undefined, oidc.PrivateKeyJwt({ key: keys.privateKey, kid: 'k1' }), insecure);
  });
  after(() => server.close());

  const signingKey = () => ({ key: keys.privateKey, kid: 'k1' });

  /** openid-client's JAR URL (/authorize?client_id=…&request=…) and what the callback needs. */
  async function jarUrl(config: oidc.Configuration, extra: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = await oidc.buildAuthorizationUrlWithJAR(
      config,
      {
        redirect_uri: CB,
        scope: 'openid profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...extra,
      },
      signingKey(),
    );
    return { url, verifier, state, nonce };
  }

  async function signIn(url: URL | string): Promise<URL> {
    const ua = new UserAgent();
    let r = await ua.follow(await ua.get(url.toString()), server.url);
    if (r.status < 300) {
      const html = await r.text();
      assert.match(html, /name="password"/, 'the login page');
      r = await ua.post(formAction(html, server.url), { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') });
    }
    assert.equal(r.status, 303);
    return new URL(r.headers.get('location')!);
  }

  /** A request object made by hand, to send what openid-client would never make. */
  async function requestObject(
    opts: { claims?: Record<string, unknown>; header?: Record<string, unknown>; key?: Parameters<SignJWT['sign']>[0]; alg?: string } = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: 'jar',
      aud: server.issuer,
      client_id: 'jar',
      response_type: 'code',
      redirect_uri: CB,
      scope: 'openid',
      state: 's',
      ...PKCE,
      jti: randomUUID(),
      iat: now,
      exp: now + 60,
      ...opts.claims,
    })
      .setProtectedHeader({ alg: opts.alg ?? 'ES256', kid: 'k1', typ: TYP, ...opts.header })
      .sign(opts.key ?? keys.privateKey);
  }

  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

  /** /authorize?client_id=jar&request=… refused: a page naming the error (its redirect_uri is inside what was refused). */
  async function refused(request: string, clientId = 'jar'): Promise<string> {
    const r = await new UserAgent().get(`${server.url}/authorize?${new URLSearchParams({ client_id: clientId, request }).toString()}`);
    const text = await r.text();
    assert.equal(r.status, 400, text);
    assert.equal(r.headers.get('location'), null);
    assert.match(text, /invalid_request_object/);
    return text.replaceAll('&quot;', '"').replaceAll('&#39;', "'");
  }

  it('discovery: request objects by value, the algorithms, and no request_uri by reference', async () => {
    const md = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(md.request_parameter_supported, true);
    assert.equal(md.request_uri_parameter_supported, false);
    assert.ok((md.request_object_signing_alg_values_supported as string[]).includes('ES256'));
    assert.ok(!(md.request_object_signing_alg_values_supported as string[]).some((a) => a === 'none' || a.startsWith('HS')));
  });

  it('by value: sign in and redeem with openid-client; the outer URL carries only client_id and request', async () => {
    const a = await jarUrl(jar);
    assert.deepEqual([...a.url.searchParams.keys()].sort(), ['client_id', 'request']);
    const cb = await signIn(a.url);
    const tokens = await oidc.authorizationCodeGrant(jar, cb, {
      pkceCodeVerifier: a.verifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
    });
    assert.equal(tokens.scope, 'openid profile');
    assert.ok(tokens.claims()?.sub);
  });

  it('inside a pushed request (RFC 9126 §3): sign in and redeem', async () => {
    // A fresh request object with known PKCE values, pushed by openid-client (authenticated with private_key_jwt).
    const verifier = oidc.randomPKCECodeVerifier();
    const signed = await oidc.buildAuthorizationUrlWithJAR(
      jar,
      {
        redirect_uri: CB,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: 'st',
      },
      signingKey(),
    );
    const url = await oidc.buildAuthorizationUrlWithPAR(jar, { request: signed.searchParams.get('request')! });
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
    const cb = await signIn(url);
    const tokens = await oidc.authorizationCodeGrant(jar, cb, { pkceCodeVerifier: verifier, expectedState: 'st' });
    assert.equal(tokens.scope, 'openid');
  });

  it('only the request object counts: outer parameters are ignored (RFC 9101 §6.3)', async () => {
    const a = await jarUrl(jar, { state: 'inner' });
    a.url.searchParams.set('state', 'outer');
    a.url.searchParams.set('redirect_uri', 'https://evil.example/cb');
    a.url.searchParams.set('scope', 'openid');
    const cb = await signIn(a.url);
    assert.equal(cb.origin + cb.pathname, CB);
    assert.equal(cb.searchParams.get('state'), 'inner');
    const tokens = await oidc.authorizationCodeGrant(jar, cb, {
      pkceCodeVerifier: a.verifier,
      expectedState: 'inner',
      expectedNonce: a.nonce,
    });
    assert.equal(tokens.scope, 'openid profile');
  });

  describe('attacks at /authorize', () => {
    it('alg none', async () => {
      const payload = {
        iss: 'jar',
        aud: server.issuer,
        client_id: 'jar',
        response_type: 'code',
        redirect_uri: CB,
        scope: 'openid',
        jti: randomUUID(),
        exp: Math.floor(Date.now() / 1000) + 60,
        ...PKCE,
      };
      assert.match(await refused(`${b64({ alg: 'none', typ: TYP })}.${b64(payload)}.`), /alg "none" is not allowed/);
    });
    it('HMAC with any secret (HS256)', async () => {
      assert.match(
        await refused(await requestObject({ alg: 'HS256', key: new TextEncoder().encode('x'.repeat(32)) })),
        /alg "HS256" is not allowed/,
      );
    });
    it('an algorithm other than the registered request_object_signing_alg', async () => {
      const rsa = await generateKeyPair('RS256');
      assert.match(await refused(await requestObject({ alg: 'RS256', key: rsa.privateKey })), /is not allowed; use one of ES256/);
    });
    it('signed with a key the client did not register', async () => {
      const other = await generateKeyPair('ES256');
      assert.match(await refused(await requestObject({ key: other.privateKey })), /signature does not verify/);
    });
    it('an embedded key (jwk header)', async () => {
      assert.match(await refused(await requestObject({ header: { jwk: keys.publicJwk } })), /"jwk" header is not accepted/);
    });
    it('another audience', async () => {
      assert.match(await refused(await requestObject({ claims: { aud: 'https://other-as.example' } })), /aud/);
    });
    it('iss other than the client', async () => {
      assert.match(await refused(await requestObject({ claims: { iss: 'jar2' } })), /iss/);
    });
    it('a client_id claim other than the outer client_id', async () => {
      assert.match(await refused(await requestObject({ claims: { client_id: 'jar2' } })), /client_id/);
      // …and the outer client_id of another client that shares the key: iss gives it away.
      assert.match(await refused(await requestObject(), 'jar2'), /iss/);
    });
    it('no explicit type, or typ JWT (RFC 9101 §10.8)', async () => {
      assert.match(await refused(await requestObject({ header: { typ: 'JWT' } })), /typ/);
      assert.match(await refused(await requestObject({ header: { typ: undefined } })), /typ/);
    });
    it('no exp, an exp far ahead, an exp in the past, an nbf in the future', async () => {
      const now = Math.floor(Date.now() / 1000);
      assert.match(await refused(await requestObject({ claims: { exp: undefined } })), /exp/);
      assert.match(await refused(await requestObject({ claims: { iat: now, exp: now + 86400 } })), /exp/);
      assert.match(await refused(await requestObject({ claims: { iat: now - 600, exp: now - 300 } })), /exp/);
      assert.match(await refused(await requestObject({ claims: { nbf: now + 3600 } })), /nbf/);
    });
    it('no jti, and a jti replayed (across requests: PostgreSQL)', async () => {
      assert.match(await refused(await requestObject({ claims: { jti: undefined } })), /jti/);
      const once = await requestObject();
      const first = await new UserAgent().get(`${server.url}/authorize?client_id=jar&request=${once}`);
      assert.equal(first.status, 303);
      assert.match(await refused(once), /used before/);
    });
    it('a request object inside the request object', async () => {
      assert.match(await refused(await requestObject({ claims: { request: 'eyJ' } })), /must not contain/);
    });
    it('outer response_type contradicting the inner one', async () => {
      const r = await new UserAgent().get(
        `${server.url}/authorize?client_id=jar&response_type=code%20id_token&request=${await requestObject()}`,
      );
      assert.equal(r.status, 400);
      assert.match(await r.text(), /response_type/);
    });
    it('a client without registered keys', async () => {
      assert.match(
        await refused(await requestObject({ claims: { iss: 'keyless', client_id: 'keyless' } }), 'keyless'),
        /no registered keys/,
      );
    });
    it('garbage', async () => {
      assert.match(await refused('not.a.jwt'), /invalid_request_object/);
    });
  });

  describe('inside /par: JSON errors', () => {
    const pushAs = async (request: string) => {
      const assertion = await new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer('jar')
        .setSubject('jar')
        .setAudience(server.issuer)
        .setIssuedAt()
        .setExpirationTime('60s')
        .sign(keys.privateKey);
      return postForm(`${server.url}/par`, {
        client_id: 'jar',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
        request,
      });
    };
    it('an unsigned request object: 400 invalid_request_object', async () => {
      const payload = { iss: 'jar', aud: server.issuer, client_id: 'jar', jti: randomUUID(), exp: Math.floor(Date.now() / 1000) + 60 };
      const r = await pushAs(`${b64({ alg: 'none', typ: TYP })}.${b64(payload)}.`);
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_request_object');
    });
    it('the same request object pushed twice: the second is a replay', async () => {
      const once = await requestObject();
      assert.equal((await pushAs(once)).status, 201);
      const r = await pushAs(once);
      assert.equal(r.body.error, 'invalid_request_object');
      assert.match(r.body.error_description, /used before/);
    });
    it('a valid request object with invalid parameters: their own error', async () => {
      const r = await pushAs(await requestObject({ claims: { scope: 'openid admin' } }));
      assert.equal(r.body.error, 'invalid_scope');
    });
  });

  it('require_signed_request_object (RFC 9101 §10.5): plain requests refused, request objects served', async () => {
    const cfg = await oidc.discovery(new URL(server.issuer), 'signed-only', undefined, oidc.PrivateKeyJwt(signingKey()), insecure);
    const plain = oidc.buildAuthorizationUrl(cfg, { redirect_uri: CB, scope: 'openid', state: 's', ...PKCE });
    const r = await new UserAgent().get(plain.toString());
    assert.equal(r.status, 303);
    const e = new URL(r.headers.get('location')!).searchParams;
    assert.equal(e.get('error'), 'invalid_request');
    assert.match(e.get('error_description')!, /signed request object/);
    await assert.rejects(
      oidc.buildAuthorizationUrlWithPAR(cfg, { redirect_uri: CB, scope: 'openid', ...PKCE }),
      (err: oidc.ResponseBodyError) => {
        assert.equal(err.error, 'invalid_request');
        return true;
      },
    );
    const a = await jarUrl(cfg);
    const cb = await signIn(a.url);
    assert.ok(cb.searchParams.get('code'));
  });
});
