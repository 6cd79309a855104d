import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { SignJWT } from 'jose';
import { ManualClock } from '../../src/clock.js';
import { postForm, startServer, type TestServer } from '../helpers/server.js';
import { clientKeyPair, type ClientKeys } from '../helpers/fixtures.js';
import { basicAuth } from '../support/basic-auth.js';
import { formAction, hiddenField } from '../support/html-form.js';
import { UserAgent } from '../support/user-agent.js';

const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'web-secret-web-secret-web-secret-0123';
const PASSWORD = 'correct horse battery staple';
const PAR_TTL = 60;
const insecure = { execute: [oidc.allowInsecureRequests] };
const PKCE = { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };

/**
 * Pushed authorization requests (RFC 9126) with openid-client's buildAuthorizationUrlWithPAR: the
 * push authenticated as at /token, validated at push time, and a request_uri that one client may
 * use once, before it expires.
 */
describe('pushed authorization requests (RFC 9126)', () => {
  let server: TestServer;
  let web: oidc.Configuration;
  let spa: oidc.Configuration;
  let keys: ClientKeys;
  const clock = new ManualClock();

  before(async () => {
    keys = await clientKeyPair('ES256', 'k1');
    server = await startServer({
      clock,
      env: { PAR_TTL: String(PAR_TTL) },
      bootstrap: {
        clients: [
          { client_id: 'web', client_secret: SECRET, redirect_uris: [CB], scope: 'openid profile', skip_consent: true },
          { client_id: 'web2', client_secret: SECRET, redirect_uris: [CB], scope: 'openid profile', skip_consent: true },
          { client_id: 'spa', token_endpoint_auth_method: 'none', redirect_uris: [CB], scope: 'openid', skip_consent: true },
          {
            client_id: 'pkjwt',
            token_endpoint_auth_method: 'private_key_jwt',
            jwks: { keys: [keys.publicJwk] },
            redirect_uris: [CB],
            scope: 'openid',
            skip_consent: true,
          },
          {
            client_id: 'par-only',
            client_secret: SECRET,
            redirect_uris: [CB],
            scope: 'openid',
            skip_consent: true,
            require_pushed_authorization_requests: true,
          },
        ],
        users: [{ username: 'alice', password: PASSWORD, claims: {} }],
      },
    });
    web = await oidc.discovery(new URL(server.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), insecure);
    spa = await oidc.discovery(new URL(server.issuer), 'spa', undefined, oidc.None(), insecure);
  });
  after(() => server.close());

  const parUrl = () => `${server.url}/par`;

  /** openid-client pushes the request and returns /authorize?client_id=…&request_uri=…, with what the callback needs. */
  async function pushed(config: oidc.Configuration, extra: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = await oidc.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: CB,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    });
    return { url, verifier, state, nonce };
  }

  /** Through the login page; returns the redirect back to the client. */
  async function signIn(url: URL | string, ua = new UserAgent()): Promise<URL> {
    let r = await ua.follow(await ua.get(url.toString()), server.url);
    if (r.status < 300) {
      const html = await r.text();
      assert.match(html, /name="password"/, 'the login page');
      r = await ua.post(formAction(html, server.url), { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') });
    }
    assert.equal(r.status, 303);
    return new URL(r.headers.get('location')!);
  }

  /** The page /authorize answers a refused request_uri with (no redirect: the redirect_uri is unknown). */
  async function refusedPage(url: string): Promise<string> {
    const r = await new UserAgent().get(url);
    const text = await r.text();
    assert.equal(r.status, 400, text);
    assert.equal(r.headers.get('location'), null);
    return text;
  }

  it('discovery advertises the endpoint, and that PAR is not required server-wide', async () => {
    const md = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(md.pushed_authorization_request_endpoint, `${server.issuer}/par`);
    assert.equal(md.require_pushed_authorization_requests, false);
  });

  it('a confidential client: push, sign in, redeem (openid-client), and the request_uri is then spent', async () => {
    const a = await pushed(web, { scope: 'openid profile' });
    assert.deepEqual([...a.url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
    assert.match(a.url.searchParams.get('request_uri')!, /^urn:ietf:params:oauth:request_uri:[\w-]{43}$/);
    const cb = await signIn(a.url);
    const tokens = await oidc.authorizationCodeGrant(web, cb, {
      pkceCodeVerifier: a.verifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
    });
    assert.equal(tokens.claims()?.sub !== undefined, true);
    assert.equal(tokens.scope, 'openid profile');
    assert.match(await refusedPage(a.url.toString()), /invalid_request_uri/);
  });

  it('a public client pushes with only its client_id', async () => {
    const a = await pushed(spa);
    const cb = await signIn(a.url);
    const tokens = await oidc.authorizationCodeGrant(spa, cb, {
      pkceCodeVerifier: a.verifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
    });
    assert.ok(tokens.access_token);
  });

  it('a private_key_jwt client may name the PAR endpoint as its assertion audience (RFC 9126 §2)', async () => {
    const assertion = await new SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('pkjwt')
      .setSubject('pkjwt')
      .setAudience(parUrl())
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(keys.privateKey);
    const r = await postForm(parUrl(), {
      client_id: 'pkjwt',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      response_type: 'code',
      redirect_uri: CB,
      scope: 'openid',
      ...PKCE,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.expires_in, PAR_TTL);
    assert.equal(r.headers.get('cache-control'), 'no-store');
  });

  it('reloading the sign-in page works; the request_uri itself is used once', async () => {
    const a = await pushed(web);
    const ua = new UserAgent();
    const r = await ua.get(a.url.toString());
    assert.equal(r.status, 303);
    const page = new URL(r.headers.get('location')!, server.url).toString();
    for (let i = 0; i < 2; i++) {
      const again = await ua.get(page);
      assert.equal(again.status, 200);
      assert.match(await again.text(), /name="password"/);
    }
    assert.match(await refusedPage(a.url.toString()), /unknown or has already been used/);
    const cb = await signIn(page, ua);
    assert.ok(cb.searchParams.get('code'));
  });

  it('another client cannot use it (invalid_request_uri), and that attempt does not spend it', async () => {
    const a = await pushed(web);
    const stolen = new URL(a.url);
    stolen.searchParams.set('client_id', 'web2');
    assert.match(await refusedPage(stolen.toString()), /issued to another client.*invalid_request_uri/s);
    assert.match(await refusedPage(stolen.toString()), /issued to another client/);
    const cb = await signIn(a.url);
    assert.ok(cb.searchParams.get('code'));
  });

  it('an expired request_uri is refused (invalid_request_uri)', async () => {
    const a = await pushed(web);
    clock.advance(PAR_TTL + 1);
    assert.match(await refusedPage(a.url.toString()), /request_uri has expired.*invalid_request_uri/s);
  });

  it('outer parameters are ignored: only the pushed ones count (RFC 9126 §4)', async () => {
    const a = await pushed(web, { state: 'pushed-state' });
    a.url.searchParams.set('state', 'outer-state');
    a.url.searchParams.set('redirect_uri', 'https://evil.example/cb');
    const cb = await signIn(a.url);
    assert.equal(cb.origin + cb.pathname, CB);
    assert.equal(cb.searchParams.get('state'), 'pushed-state');
  });

  it('two concurrent uses of one request_uri: exactly one proceeds', async () => {
    const a = await pushed(web);
    const answers = await Promise.all([0, 1, 2].map(() => new UserAgent().get(a.url.toString())));
    assert.deepEqual(answers.map((r) => r.status).sort(), [303, 400, 400]);
  });

  it('a request_uri that /par did not issue, or made up in its namespace', async () => {
    assert.match(
      await refusedPage(`${server.url}/authorize?client_id=web&request_uri=${encodeURIComponent('https://app.example/request.jwt')}`),
      /request_uri_not_supported/,
    );
    assert.match(
      await refusedPage(
        `${server.url}/authorize?client_id=web&request_uri=${encodeURIComponent('urn:ietf:params:oauth:request_uri:made-up')}`,
      ),
      /invalid_request_uri/,
    );
    assert.match(await refusedPage(`${server.url}/authorize?request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Ax`), /no client_id/);
  });

  it('require_pushed_authorization_requests: the client is refused at plain /authorize, served through /par', async () => {
    const cfg = await oidc.discovery(new URL(server.issuer), 'par-only', undefined, oidc.ClientSecretBasic(SECRET), insecure);
    const plain = oidc.buildAuthorizationUrl(cfg, { redirect_uri: CB, scope: 'openid', state: 's', ...PKCE });
    const r = await new UserAgent().get(plain.toString());
    assert.equal(r.status, 303);
    const e = new URL(r.headers.get('location')!).searchParams;
    assert.equal(e.get('error'), 'invalid_request');
    assert.match(e.get('error_description')!, /must push its authorization requests/);
    assert.equal(e.get('state'), 's');
    const a = await pushed(cfg);
    const cb = await signIn(a.url);
    assert.ok(cb.searchParams.get('code'));
  });

  describe('errors at /par are RFC 6749 JSON', () => {
    const push = (form: Record<string, string>, auth: string | null = basicAuth('web', SECRET)) =>
      postForm(
        parUrl(),
        { response_type: 'code', redirect_uri: CB, scope: 'openid', ...PKCE, ...form },
        auth ? { authorization: auth } : {},
      );

    it('client authentication as at /token: a wrong secret is 401 invalid_client with a Basic challenge', async () => {
      const r = await push({}, basicAuth('web', 'wrong-secret-wrong-secret-wrong-secret'));
      assert.equal(r.status, 401);
      assert.equal(r.body.error, 'invalid_client');
      assert.match(r.headers.get('www-authenticate') ?? '', /^Basic/);
    });
    it('no authentication at all: invalid_client', async () => {
      const r = await push({}, null);
      assert.equal(r.status, 401);
      assert.equal(r.body.error, 'invalid_client');
    });
    it('a request_uri cannot be pushed', async () => {
      const r = await push({ request_uri: 'urn:ietf:params:oauth:request_uri:x' });
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_request');
      assert.match(r.body.error_description, /cannot be pushed \(RFC 9126/);
    });
    it('an unregistered or missing redirect_uri', async () => {
      assert.match((await push({ redirect_uri: 'https://evil.example/cb' })).body.error_description, /not registered/);
      const missing = await postForm(
        parUrl(),
        { response_type: 'code', scope: 'openid', ...PKCE },
        { authorization: basicAuth('web', SECRET) },
      );
      assert.equal(missing.body.error, 'invalid_request');
    });
    it('the authorization request is validated at push time', async () => {
      const noPkce = await postForm(
        parUrl(),
        { response_type: 'code', redirect_uri: CB, scope: 'openid' },
        { authorization: basicAuth('web', SECRET) },
      );
      assert.equal(noPkce.status, 400);
      assert.equal(noPkce.body.error, 'invalid_request');
      assert.match(noPkce.body.error_description, /PKCE/);
      assert.equal((await push({ scope: 'openid admin' })).body.error, 'invalid_scope');
      assert.equal((await push({ response_type: 'token' })).body.error, 'unsupported_response_type');
    });
    it('GET is not allowed', async () => {
      const r = await fetch(parUrl());
      assert.equal(r.status, 405);
    });
  });
});
