import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { ManualClock } from '../../src/clock.js';
import { collectSecurityEvents } from '../../src/observability/security-events.js';
import { postForm, startServer, type TestServer } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';
import { UserAgent } from '../support/user-agent.js';
import { formAction, hiddenField } from '../support/html-form.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';

const API = 'https://api.example.com';
const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'web-secret-web-secret-web-secret-0123';
const PASSWORD = 'correct horse battery staple';
const insecure = { execute: [oidc.allowInsecureRequests] };
/** RFC 7636 Appendix B: a challenge for requests whose code is never redeemed. */
const PKCE = { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };

describe('authorization code + PKCE with OpenID Connect (openid-client)', () => {
  let server: TestServer;
  let web: oidc.Configuration;
  let spa: oidc.Configuration;
  const clock = new ManualClock();
  const events = collectSecurityEvents();

  before(async () => {
    server = await startServer({
      clock,
      events,
      env: { LOGIN_FAILURE_LIMIT_ACCOUNT: '3' },
      bootstrap: {
        resources: [{ identifier: API, scopes: ['api:read', 'api:write'] }],
        clients: [
          {
            client_id: 'web',
            client_secret: SECRET,
            client_name: 'Web App',
            redirect_uris: [CB, 'http://127.0.0.1/loopback'],
            post_logout_redirect_uris: ['http://127.0.0.1:8080/bye'],
            grant_types: ['authorization_code'],
            response_types: ['code', 'code id_token'],
            scope: 'openid profile email api:read offline_access',
            audiences: [API],
          },
          {
            client_id: 'web2',
            client_secret: SECRET,
            redirect_uris: [CB],
            grant_types: ['authorization_code'],
            scope: 'openid',
            audiences: [],
          },
          {
            client_id: 'spa',
            token_endpoint_auth_method: 'none',
            client_name: 'Single Page App',
            redirect_uris: [CB],
            grant_types: ['authorization_code'],
            scope: 'openid profile',
            skip_consent: true,
          },
        ],
        users: [
          { username: 'alice', password: PASSWORD, claims: { email: 'alice@example.com', email_verified: true, name: 'Alice Example' } },
          { username: 'bob', password: PASSWORD, claims: { name: 'Bob' } },
          { username: 'carol', password: PASSWORD, claims: {} },
        ],
      },
    });
    web = await oidc.discovery(new URL(server.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), insecure);
    spa = await oidc.discovery(new URL(server.issuer), 'spa', undefined, oidc.None(), insecure);
  });
  after(() => server.close());

  const authUrl = (config: oidc.Configuration, extra: Record<string, string> = {}) => pkceAuthorizationUrl(config, CB, extra);

  /** Signs in on the login page (and allows on the consent page when shown); returns the callback URL. */
  async function signIn(ua: UserAgent, url: URL | string, opts: { username?: string; consent?: 'allow' | 'deny' } = {}): Promise<string> {
    let r = await ua.follow(await ua.get(url.toString()), server.url);
    if (r.status >= 300) return r.headers.get('location')!;
    let html = await r.text();
    if (html.includes('name="password"')) {
      r = await ua.post(formAction(html, server.url), {
        username: opts.username ?? 'alice',
        password: PASSWORD,
        csrf: hiddenField(html, 'csrf'),
      });
      r = await ua.follow(r, server.url);
      if (r.status >= 300) return r.headers.get('location')!;
      html = await r.text();
    }
    assert.match(html, /name="decision"/, 'consent page');
    r = await ua.post(formAction(html, server.url), { decision: opts.consent ?? 'allow', csrf: hiddenField(html, 'csrf') });
    assert.equal(r.status, 303);
    return r.headers.get('location')!;
  }

  const errorOf = (location: string) => {
    const u = new URL(location);
    const p = u.hash ? new URLSearchParams(u.hash.slice(1)) : u.searchParams;
    return Object.fromEntries(p);
  };

  it('the whole flow: login, consent, code, tokens, ID token, userinfo', async () => {
    const ua = new UserAgent();
    const a = await authUrl(web, { scope: 'openid profile email api:read', resource: API });
    const cb = await signIn(ua, a.url);
    const tokens = await oidc.authorizationCodeGrant(web, new URL(cb), {
      pkceCodeVerifier: a.verifier,
      expectedNonce: a.nonce,
      expectedState: a.state,
    });
    const claims = tokens.claims()!;
    assert.equal(claims.iss, server.issuer);
    assert.equal(claims.aud, 'web');
    assert.equal(claims.azp, 'web');
    assert.equal(claims.nonce, a.nonce);
    assert.ok(claims.auth_time && claims.at_hash);
    const at = decodeJwt(tokens.access_token);
    assert.deepEqual(at.aud, [API, `${server.issuer}/userinfo`]);
    assert.equal(at.scope, 'openid profile email api:read');
    assert.equal(at.sub, claims.sub);
    const info = await oidc.fetchUserInfo(web, tokens.access_token, claims.sub);
    assert.deepEqual(info, { sub: claims.sub, name: 'Alice Example', email: 'alice@example.com', email_verified: true });
  });

  it('the authorization response carries iss and state (RFC 9207)', async () => {
    const ua = new UserAgent();
    const a = await authUrl(web);
    const cb = new URL(await signIn(ua, a.url));
    assert.equal(cb.searchParams.get('iss'), server.issuer);
    assert.equal(cb.searchParams.get('state'), a.state);
    assert.equal(cb.origin + cb.pathname, CB);
  });

  it('single sign-on: a signed-in person is not asked again; prompt=none succeeds silently with the same sub', async () => {
    const ua = new UserAgent();
    const first = await authUrl(web);
    const t1 = await oidc.authorizationCodeGrant(web, new URL(await signIn(ua, first.url)), {
      pkceCodeVerifier: first.verifier,
      expectedNonce: first.nonce,
      expectedState: first.state,
    });
    const again = await authUrl(web, { prompt: 'none' });
    const r = await ua.get(again.url.toString());
    assert.equal(r.status, 303);
    const t2 = await oidc.authorizationCodeGrant(web, new URL(r.headers.get('location')!), {
      pkceCodeVerifier: again.verifier,
      expectedNonce: again.nonce,
      expectedState: again.state,
    });
    assert.equal(t2.claims()!.sub, t1.claims()!.sub);
  });

  it('prompt=none signed out: login_required, to the redirect URI, with state and iss', async () => {
    const a = await authUrl(web, { prompt: 'none' });
    const r = await new UserAgent().get(a.url.toString());
    assert.equal(r.status, 303);
    const e = errorOf(r.headers.get('location')!);
    assert.equal(e.error, 'login_required');
    assert.equal(e.state, a.state);
    assert.equal(e.iss, server.issuer);
  });

  it('prompt=none without consent: consent_required; prompt=consent asks again', async () => {
    const ua = new UserAgent();
    await signIn(ua, (await authUrl(web2Config())).url, { username: 'bob' }).catch(() => undefined);
    const a = await authUrl(web, { prompt: 'none', scope: 'openid api:read' });
    const e = errorOf((await ua.get(a.url.toString())).headers.get('location')!);
    assert.equal(e.error, 'consent_required');
  });

  function web2Config() {
    return web; // bob signs in through "web" so the session exists without consent to api:read
  }

  it('max_age: an older sign-in asks for the password again and auth_time moves on', async () => {
    const ua = new UserAgent();
    const a = await authUrl(web);
    const t1 = await oidc.authorizationCodeGrant(web, new URL(await signIn(ua, a.url)), {
      pkceCodeVerifier: a.verifier,
      expectedNonce: a.nonce,
      expectedState: a.state,
    });
    clock.advance(5);
    const b = await authUrl(web, { max_age: '1' });
    const page = await (await ua.follow(await ua.get(b.url.toString()), server.url)).text();
    assert.match(page, /name="password"/, 'the login page is shown again');
    // The server's clock is a ManualClock, which stands still while the file runs (tens of seconds
    // on a busy machine): the relying party checks auth_time + max_age against the server's time,
    // not against a real clock that has moved on (openid-client's clockSkew, in seconds).
    const rp = new oidc.Configuration(
      web.serverMetadata(),
      'web',
      { [oidc.clockSkew]: Math.round((clock.now() - Date.now()) / 1000) },
      oidc.ClientSecretBasic(SECRET),
    );
    oidc.allowInsecureRequests(rp);
    const t2 = await oidc.authorizationCodeGrant(rp, new URL(await signIn(ua, b.url)), {
      pkceCodeVerifier: b.verifier,
      expectedNonce: b.nonce,
      expectedState: b.state,
      maxAge: 1,
    });
    assert.ok(t2.claims()!.auth_time! > t1.claims()!.auth_time!);
  });

  it('max_age=0 asks for the password again even within the same second as the last sign-in (OIDC Core §3.1.2.1)', async () => {
    const ua = new UserAgent();
    const a = await authUrl(web);
    const t1 = await oidc.authorizationCodeGrant(web, new URL(await signIn(ua, a.url)), {
      pkceCodeVerifier: a.verifier,
      expectedNonce: a.nonce,
      expectedState: a.state,
    });
    // The ManualClock stands still: this request comes in the very second of the sign-in.
    const b = await authUrl(web, { max_age: '0' });
    const page = await (await ua.follow(await ua.get(b.url.toString()), server.url)).text();
    assert.match(page, /name="password"/, 'the login page is shown again');
    const none = await authUrl(web, { max_age: '0', prompt: 'none' });
    assert.equal(errorOf((await ua.get(none.url.toString())).headers.get('location')!).error, 'login_required');
    const t2 = await oidc.authorizationCodeGrant(web, new URL(await signIn(ua, b.url)), {
      pkceCodeVerifier: b.verifier,
      expectedNonce: b.nonce,
      expectedState: b.state,
    });
    assert.ok(t2.claims()!.auth_time! >= t1.claims()!.auth_time!);
  });

  describe('id_token_hint naming someone else (OIDC Core §3.1.2.1, §3.1.2.6)', () => {
    /** Alice's ID token, from a sign-in in a browser of her own. */
    async function aliceIdToken(): Promise<string> {
      const a = await authUrl(web);
      const t = await oidc.authorizationCodeGrant(web, new URL(await signIn(new UserAgent(), a.url)), {
        pkceCodeVerifier: a.verifier,
        expectedNonce: a.nonce,
        expectedState: a.state,
      });
      return t.id_token!;
    }

    it('Bob signed in, prompt=none with a hint for Alice: login_required, no code', async () => {
      const hint = await aliceIdToken();
      const bob = new UserAgent();
      await signIn(bob, (await authUrl(web)).url, { username: 'bob' });
      const a = await authUrl(web, { prompt: 'none', id_token_hint: hint });
      const r = await bob.get(a.url.toString());
      assert.equal(r.status, 303);
      const e = errorOf(r.headers.get('location')!);
      assert.equal(e.error, 'login_required');
      assert.equal(e.code, undefined);
      assert.equal(e.state, a.state);
    });

    it('a pending sign-in stores the hint as its verified subject, not the hint itself; ui_locales and unknown acr_values are not kept', async () => {
      const hint = await aliceIdToken();
      const alice = decodeJwt(hint).sub!;
      const a = await authUrl(web, { id_token_hint: hint, ui_locales: 'de fr', acr_values: 'urn:example:loa:2' });
      const r = await new UserAgent().get(a.url.toString());
      assert.equal(r.status, 303);
      const id = /\/interaction\/([^/?]+)/.exec(r.headers.get('location') ?? '')?.[1];
      assert.ok(id, `a sign-in page, not ${r.headers.get('location') ?? r.status}`);
      const row = (await server.ctx.db.query<{ request: string }>('SELECT request::text AS request FROM interactions WHERE id = $1', [id]))
        .rows[0];
      assert.ok(row);
      assert.ok(!row.request.includes(hint), 'the ID token is not stored');
      assert.ok(!row.request.includes('urn:example:loa:2') && !row.request.includes('de fr'));
      assert.equal((JSON.parse(row.request) as { idTokenHintSub?: string }).idTokenHintSub, alice);
      assert.ok(row.request.length < hint.length, `${row.request.length} bytes stored for a ${hint.length}-byte hint`);
    });

    it('Bob signs in on the login page of a request hinting Alice: login_required, no code and no session; Alice gets her code', async () => {
      const hint = await aliceIdToken();
      for (const signedInAsBob of [false, true]) {
        const ua = new UserAgent();
        if (signedInAsBob) await signIn(ua, (await authUrl(web)).url, { username: 'bob' });
        const a = await authUrl(web, { id_token_hint: hint });
        const before = ua.jar.get('lk_session');
        const e = errorOf(await signIn(ua, a.url, { username: 'bob' }));
        assert.equal(e.error, 'login_required', `signed in as Bob before: ${signedInAsBob}`);
        assert.equal(e.code, undefined);
        assert.equal(e.state, a.state);
        assert.equal(ua.jar.get('lk_session'), before, 'no new session for Bob');
      }
      const ua = new UserAgent();
      const a = await authUrl(web, { id_token_hint: hint });
      const cb = new URL(await signIn(ua, a.url, { username: 'alice' }));
      assert.ok(cb.searchParams.get('code'), 'the person the hint names gets a code');
    });
  });

  it('prompt=login asks again even when signed in', async () => {
    const ua = new UserAgent();
    await signIn(ua, (await authUrl(web)).url);
    const b = await authUrl(web, { prompt: 'login' });
    const page = await (await ua.follow(await ua.get(b.url.toString()), server.url)).text();
    assert.match(page, /name="password"/);
  });

  it('a code is single-use: reuse is invalid_grant and revokes the first access token', async () => {
    const ua = new UserAgent();
    const a = await authUrl(web);
    const cb = new URL(await signIn(ua, a.url));
    const tokens = await oidc.authorizationCodeGrant(web, cb, {
      pkceCodeVerifier: a.verifier,
      expectedNonce: a.nonce,
      expectedState: a.state,
    });
    assert.equal((await oidc.tokenIntrospection(web, tokens.access_token)).active, true);
    const replay = await postForm(
      `${server.url}/token`,
      { grant_type: 'authorization_code', code: cb.searchParams.get('code')!, redirect_uri: CB, code_verifier: a.verifier },
      { authorization: basicAuth('web', SECRET) },
    );
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    assert.match(replay.body.error_description, /already been used/);
    assert.equal((await oidc.tokenIntrospection(web, tokens.access_token)).active, false);
    // Item 34: the replay is a security event, with identifiers only.
    const grantId = decodeJwt(tokens.access_token).gid;
    const event = events.events.find((e) => e.type === 'authorization_code.replay' && e.details?.grant_id === grantId);
    assert.ok(event, `an authorization_code.replay event for the grant: ${JSON.stringify(events.events)}`);
    assert.equal(event.clientId, 'web');
    assert.equal(event.details?.grant_revoked, true);
    assert.doesNotMatch(JSON.stringify(event), new RegExp(cb.searchParams.get('code')!), 'never the code itself');
  });

  it('a code whose exchange was refused says so on retry, not that tokens were revoked (issue 11 item 29)', async () => {
    for (const [first, because] of [
      [{ redirect_uri: 'http://127.0.0.1:8080/elsewhere' }, /redirect_uri did not match/],
      [{ redirect_uri: CB, code_verifier: 'x'.repeat(43) }, /code_verifier/],
    ] as const) {
      const a = await authUrl(web);
      const code = new URL(await signIn(new UserAgent(), a.url)).searchParams.get('code')!;
      const send = (extra: Record<string, string>) =>
        postForm(`${server.url}/token`, { grant_type: 'authorization_code', code, ...extra }, { authorization: basicAuth('web', SECRET) });
      const refused = await send({ code_verifier: a.verifier, ...first });
      assert.equal(refused.body.error, 'invalid_grant');
      const before = events.events.length;
      const retry = await send({ redirect_uri: CB, code_verifier: a.verifier });
      assert.equal(retry.status, 400);
      assert.equal(retry.body.error, 'invalid_grant');
      assert.match(retry.body.error_description, /already been used by a token request that was refused/);
      assert.match(retry.body.error_description, because);
      assert.match(retry.body.error_description, /no token was issued from it/);
      assert.doesNotMatch(retry.body.error_description, /revoked/);
      assert.match(retry.body.error_description, /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/, 'RFC 6749 §5.2 characters only');
      const replay = events.events.slice(before).find((e) => e.type === 'authorization_code.replay');
      assert.equal(replay?.details?.first_exchange, 'refused');
      assert.equal(replay.details.grant_revoked, false);
    }
  });

  it('two concurrent redemptions: exactly one succeeds', async () => {
    const a = await authUrl(web);
    const code = new URL(await signIn(new UserAgent(), a.url)).searchParams.get('code')!;
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        postForm(
          `${server.url}/token`,
          { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: a.verifier },
          { authorization: basicAuth('web', SECRET) },
        ),
      ),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 1);
  });

  it('a code presented by another client: invalid_grant', async () => {
    const a = await authUrl(web);
    const code = new URL(await signIn(new UserAgent(), a.url)).searchParams.get('code')!;
    const r = await postForm(
      `${server.url}/token`,
      { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: a.verifier },
      { authorization: basicAuth('web2', SECRET) },
    );
    assert.equal(r.body.error, 'invalid_grant');
    assert.match(r.body.error_description, /another client/);
    // … and the rightful client can still redeem it.
    const ok = await postForm(
      `${server.url}/token`,
      { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: a.verifier },
      { authorization: basicAuth('web', SECRET) },
    );
    assert.equal(ok.status, 200);
  });

  it('codes expire after AUTHORIZATION_CODE_TTL (60 s)', async () => {
    const a = await authUrl(web);
    const code = new URL(await signIn(new UserAgent(), a.url)).searchParams.get('code')!;
    clock.advance(61);
    const r = await postForm(
      `${server.url}/token`,
      { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: a.verifier },
      { authorization: basicAuth('web', SECRET) },
    );
    assert.equal(r.body.error, 'invalid_grant');
    assert.match(r.body.error_description, /expired/);
  });

  describe('PKCE', () => {
    it('a public client without code_challenge: invalid_request', async () => {
      const url = oidc.buildAuthorizationUrl(spa, { redirect_uri: CB, scope: 'openid', state: 's' });
      const e = errorOf((await new UserAgent().get(url.toString())).headers.get('location')!);
      assert.equal(e.error, 'invalid_request');
      assert.match(e.error_description!, /PKCE/);
    });
    it('a confidential client without code_challenge, even an OpenID request with a nonce: invalid_request naming PKCE (OAuth 2.1 §4.1.1)', async () => {
      const url = oidc.buildAuthorizationUrl(web, { redirect_uri: CB, scope: 'openid', nonce: 'n', state: 's' });
      const r = await new UserAgent().get(url.toString());
      assert.equal(r.status, 303);
      const e = errorOf(r.headers.get('location')!);
      assert.equal(e.error, 'invalid_request');
      assert.match(e.error_description!, /PKCE is required/);
      assert.equal(e.state, 's');
    });
    it('plain is refused', async () => {
      const url = oidc.buildAuthorizationUrl(spa, {
        redirect_uri: CB,
        scope: 'openid',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'plain',
      });
      assert.equal(errorOf((await new UserAgent().get(url.toString())).headers.get('location')!).error, 'invalid_request');
    });
    it('the public client flow works with S256 and no secret (skip_consent: no consent page)', async () => {
      const a = await authUrl(spa, { scope: 'openid profile' });
      const tokens = await oidc.authorizationCodeGrant(spa, new URL(await signIn(new UserAgent(), a.url)), {
        pkceCodeVerifier: a.verifier,
        expectedNonce: a.nonce,
        expectedState: a.state,
      });
      assert.ok(tokens.id_token);
    });
    const redeem = (code: string, extra: Record<string, string>) =>
      postForm(
        `${server.url}/token`,
        { grant_type: 'authorization_code', code, redirect_uri: CB, ...extra },
        { authorization: basicAuth('web', SECRET) },
      );
    it('wrong verifier: invalid_grant', async () => {
      const a = await authUrl(web);
      const code = new URL(await signIn(new UserAgent(), a.url)).searchParams.get('code')!;
      const r = await redeem(code, { code_verifier: oidc.randomPKCECodeVerifier() });
      assert.equal(r.body.error, 'invalid_grant');
    });
    it('challenge without verifier: invalid_grant', async () => {
      const a = await authUrl(web);
      const code = new URL(await signIn(new UserAgent(), a.url)).searchParams.get('code')!;
      assert.equal((await redeem(code, {})).body.error, 'invalid_grant');
    });
    it('RFC 7636 Appendix B: the example verifier matches its challenge', async () => {
      const url = oidc.buildAuthorizationUrl(web, {
        redirect_uri: CB,
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      });
      const code = new URL(await signIn(new UserAgent(), url)).searchParams.get('code')!;
      assert.equal((await redeem(code, { code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk' })).status, 200);
    });
  });

  describe('redirect URIs and client ids that cannot be trusted get an HTML page, never a redirect', () => {
    const variants = [
      'HTTP://127.0.0.1:8080/cb',
      'http://127.0.0.1:8080/CB',
      'http://127.0.0.1:8080/cb/',
      'http://127.0.0.1:8080/cb?x=1',
      'http://127.0.0.1:8080/cb/../cb',
      'http://127.0.0.1:8080/%2e%2e/cb',
      'http://127.0.0.1:8080/c%2562',
      'http://evil@127.0.0.1:8080/cb',
      'http://127.0.0.1:8080/cb#frag',
      'http://127.0.0.1:8080.evil.com/cb',
      'https://127.0.0.1:8080/cb',
      'http://localhost:8080/cb',
    ];
    for (const uri of variants) {
      it(`refuses ${uri}`, async () => {
        const url = new URL(`${server.url}/authorize`);
        for (const [k, v] of Object.entries({ client_id: 'web', response_type: 'code', redirect_uri: uri, scope: 'openid', state: 's' }))
          url.searchParams.set(k, v);
        const r = await new UserAgent().get(url.toString());
        assert.equal(r.status, 400);
        assert.equal(r.headers.get('location'), null);
        assert.match(r.headers.get('content-type') ?? '', /text\/html/);
        assert.match(await r.text(), /redirect_uri is not registered/);
      });
    }
    it('a loopback redirect may change its port (RFC 8252 §7.3)', async () => {
      const url = oidc.buildAuthorizationUrl(web, {
        redirect_uri: 'http://127.0.0.1:53211/loopback',
        scope: 'openid',
        prompt: 'none',
        ...PKCE,
      });
      const r = await new UserAgent().get(url.toString());
      assert.equal(r.status, 303);
      assert.ok(r.headers.get('location')!.startsWith('http://127.0.0.1:53211/loopback?'));
    });
    it('unknown client_id and a missing redirect_uri', async () => {
      for (const q of [
        'client_id=nobody&response_type=code&redirect_uri=' + encodeURIComponent(CB),
        'client_id=web&response_type=code',
        'response_type=code',
      ]) {
        const r = await new UserAgent().get(`${server.url}/authorize?${q}`);
        assert.equal(r.status, 400);
        assert.equal(r.headers.get('location'), null);
        assert.match(await r.text(), /<html/);
      }
    });
  });

  describe('request validation', () => {
    const raw = async (q: string) => {
      const r = await new UserAgent().get(`${server.url}/authorize?client_id=web&redirect_uri=${encodeURIComponent(CB)}&${q}`);
      assert.equal(r.status, 303, await r.clone().text());
      return errorOf(r.headers.get('location')!);
    };
    it('response_type missing or token: errors naming the fix', async () => {
      assert.equal((await raw('scope=openid&state=s1')).error, 'invalid_request');
      const e = await raw('response_type=token&scope=openid&state=s2');
      assert.equal(e.error, 'unsupported_response_type');
      assert.match(e.error_description!, /code with PKCE/);
      assert.equal(e.state, 's2');
      assert.equal((await raw('response_type=id_token%20token&scope=openid')).error, 'unsupported_response_type');
    });
    it('a repeated parameter is refused; unknown parameters are ignored', async () => {
      assert.equal((await raw('response_type=code&scope=openid&scope=openid')).error, 'invalid_request');
      const url = oidc.buildAuthorizationUrl(web, {
        redirect_uri: CB,
        scope: 'openid',
        prompt: 'none',
        made_up: 'x',
        another: 'y',
        ...PKCE,
      });
      assert.equal(errorOf((await new UserAgent().get(url.toString())).headers.get('location')!).error, 'login_required');
    });
    it('a request object that is not one, and a request_uri /par did not issue: a page naming the error, no redirect', async () => {
      // The redirect_uri inside a request object or a pushed request is not known yet (RFC 9101 §6.3).
      const page = async (q: string) => {
        const r = await new UserAgent().get(`${server.url}/authorize?client_id=web&redirect_uri=${encodeURIComponent(CB)}&${q}`);
        assert.equal(r.status, 400);
        assert.equal(r.headers.get('location'), null);
        return r.text();
      };
      assert.match(await page('response_type=code&scope=openid&request=eyJ'), /invalid_request_object/);
      assert.match(await page('response_type=code&scope=openid&request_uri=https%3A%2F%2Fapp.example%2Freq'), /request_uri_not_supported/);
      assert.match(
        await page('response_type=code&scope=openid&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Anope'),
        /invalid_request_uri/,
      );
    });
    it('a scope the client may not have: invalid_scope; a foreign resource: invalid_target', async () => {
      assert.equal((await raw('response_type=code&scope=openid%20admin')).error, 'invalid_scope');
      assert.equal((await raw('response_type=code&scope=openid&resource=https%3A%2F%2Fevil.example')).error, 'invalid_target');
    });
  });

  it('deny on the consent page: access_denied', async () => {
    const a = await authUrl(web, { scope: 'openid email' });
    const ua = new UserAgent();
    const loc = await signIn(ua, a.url, { username: 'carol', consent: 'deny' });
    const e = errorOf(loc);
    assert.equal(e.error, 'access_denied');
    assert.equal(e.state, a.state);
  });

  it('consent is remembered per user, client and scopes', async () => {
    const ua = new UserAgent();
    const a = await authUrl(web, { scope: 'openid' });
    await signIn(ua, a.url, { username: 'carol' });
    const b = await authUrl(web, { scope: 'openid', prompt: 'login' });
    let r = await ua.follow(await ua.get(b.url.toString()), server.url);
    const html = await r.text();
    r = await ua.post(formAction(html, server.url), { username: 'carol', password: PASSWORD, csrf: hiddenField(html, 'csrf') });
    assert.equal(r.status, 303);
    assert.ok(r.headers.get('location')!.startsWith(CB), 'straight back to the client: no consent page');
  });

  it('the login form refuses a missing CSRF token and a wrong password (one generic message)', async () => {
    const ua = new UserAgent();
    const a = await authUrl(web);
    const r = await ua.follow(await ua.get(a.url.toString()), server.url);
    const html = await r.text();
    const action = formAction(html, server.url);
    const noCsrf = await ua.post(action, { username: 'alice', password: PASSWORD });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.headers.get('location'), null);
    const wrong = await ua.post(action, { username: 'alice', password: 'nope-nope', csrf: hiddenField(html, 'csrf') });
    assert.equal(wrong.status, 401);
    const unknown = await ua.post(action, { username: 'nobody-here', password: 'nope-nope', csrf: hiddenField(html, 'csrf') });
    const msg = (t: string) => /role="alert"[^>]*>([\s\S]*?)</.exec(t)?.[1]?.trim();
    assert.equal(msg(await wrong.text()), msg(await unknown.text()));
  });

  it('sign-in is throttled per account, across attempts, with a clear page', async () => {
    const ua = new UserAgent();
    const a = await authUrl(web);
    const html = await (await ua.follow(await ua.get(a.url.toString()), server.url)).text();
    const action = formAction(html, server.url);
    const csrf = hiddenField(html, 'csrf');
    for (let i = 0; i < 3; i++) assert.equal((await ua.post(action, { username: 'bob', password: 'wrong-password', csrf })).status, 401);
    const blocked = await ua.post(action, { username: 'bob', password: PASSWORD, csrf });
    assert.equal(blocked.status, 429);
    assert.match(await blocked.text(), /Too many failed sign-in attempts/);
    clock.advance(901);
  });

  it('the session cookie is HttpOnly and SameSite=Lax, and a new id is issued at every login', async () => {
    const ua = new UserAgent();
    await signIn(ua, (await authUrl(web)).url);
    const first = ua.jar.get('lk_session');
    const b = await authUrl(web, { prompt: 'login' });
    const html = await (await ua.follow(await ua.get(b.url.toString()), server.url)).text();
    const r = await ua.post(formAction(html, server.url), { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') });
    const setCookie = r.headers.getSetCookie().find((c) => c.startsWith('lk_session='))!;
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Lax/);
    assert.notEqual(ua.jar.get('lk_session'), first);
  });

  it('login and consent pages carry the anti-framing and referrer headers', async () => {
    const ua = new UserAgent();
    const page = await ua.follow(await ua.get((await authUrl(web)).url.toString()), server.url);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.match(page.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'none'/);
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  });

  it('hybrid code id_token: fragment response with an ID token carrying c_hash', async () => {
    const ua = new UserAgent();
    const a = await authUrl(web, { response_type: 'code id_token' });
    const loc = new URL(await signIn(ua, a.url));
    const p = new URLSearchParams(loc.hash.slice(1));
    assert.ok(p.get('code'));
    const idt = decodeJwt(p.get('id_token')!);
    assert.ok(idt.c_hash);
    assert.equal(idt.nonce, a.nonce);
    assert.equal(p.get('iss'), server.issuer);
  });

  it('form_post: an auto-submitting form to the redirect URI', async () => {
    const ua = new UserAgent();
    await signIn(ua, (await authUrl(web)).url);
    const a = await authUrl(web, { response_mode: 'form_post', prompt: 'none' });
    const r = await ua.get(a.url.toString());
    assert.equal(r.status, 200);
    const html = await r.text();
    assert.match(html, new RegExp(`action="${CB.replace(/[/.]/g, '\\$&')}"`));
    assert.ok(hiddenField(html, 'code'));
    assert.equal(hiddenField(html, 'state'), a.state);
    assert.match(r.headers.get('content-security-policy')!, /script-src 'nonce-/);
  });

  describe('userinfo', () => {
    let token: string;
    before(async () => {
      const a = await authUrl(web);
      token = (
        await oidc.authorizationCodeGrant(web, new URL(await signIn(new UserAgent(), a.url)), {
          pkceCodeVerifier: a.verifier,
          expectedNonce: a.nonce,
          expectedState: a.state,
        })
      ).access_token;
    });
    it('POST with the token in the form body', async () => {
      const r = await postForm(`${server.url}/userinfo`, { access_token: token });
      assert.equal(r.status, 200);
      assert.equal(r.body.email, 'alice@example.com');
    });
    it('never from the query string', async () => {
      const r = await fetch(`${server.url}/userinfo?access_token=${token}`);
      assert.equal(r.status, 400);
      assert.match(r.headers.get('www-authenticate')!, /invalid_request/);
    });
    it('no token: 401 with a Bearer challenge; a bad one: invalid_token', async () => {
      const none = await fetch(`${server.url}/userinfo`);
      assert.equal(none.status, 401);
      // Both schemes /userinfo accepts are offered (RFC 6750 §3, RFC 9449 §7.1).
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer realm="latchkey", DPoP algs="[A-Za-z0-9 ]+"$/);
      const bad = await fetch(`${server.url}/userinfo`, { headers: { authorization: 'Bearer abc.def.ghi' } });
      assert.equal(bad.status, 401);
      assert.match(bad.headers.get('www-authenticate')!, /error="invalid_token"/);
    });
    it('a revoked token: invalid_token', async () => {
      await postForm(`${server.url}/revoke`, { token }, { authorization: basicAuth('web', SECRET) });
      const r = await fetch(`${server.url}/userinfo`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(r.status, 401);
    });
  });

  describe('RP-initiated logout', () => {
    it('with id_token_hint: signs out and returns to the registered URI with state', async () => {
      const ua = new UserAgent();
      const a = await authUrl(web);
      const tokens = await oidc.authorizationCodeGrant(web, new URL(await signIn(ua, a.url)), {
        pkceCodeVerifier: a.verifier,
        expectedNonce: a.nonce,
        expectedState: a.state,
      });
      const url = oidc.buildEndSessionUrl(web, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: 'http://127.0.0.1:8080/bye',
        state: 'xyz',
      });
      const r = await ua.get(url.toString());
      assert.equal(r.status, 303);
      assert.equal(r.headers.get('location'), 'http://127.0.0.1:8080/bye?state=xyz');
      const after = await ua.get((await authUrl(web, { prompt: 'none' })).url.toString());
      assert.equal(errorOf(after.headers.get('location')!).error, 'login_required', 'the session has ended');
    });
    it('without a hint: a confirmation page; confirming signs out', async () => {
      const ua = new UserAgent();
      await signIn(ua, (await authUrl(web)).url);
      const r = await ua.get(
        `${server.url}/end_session?client_id=web&post_logout_redirect_uri=${encodeURIComponent('http://127.0.0.1:8080/bye')}`,
      );
      assert.equal(r.status, 200);
      const html = await r.text();
      assert.match(html, /name="decision"/);
      const form: Record<string, string> = {
        decision: 'logout',
        csrf: hiddenField(html, 'csrf'),
        client_id: 'web',
        post_logout_redirect_uri: 'http://127.0.0.1:8080/bye',
      };
      const done = await ua.post(formAction(html, server.url), form);
      assert.equal(done.status, 303);
      const after = await ua.get((await authUrl(web, { prompt: 'none' })).url.toString());
      assert.equal(errorOf(after.headers.get('location')!).error, 'login_required');
    });
    it('an unregistered post_logout_redirect_uri: an error page, no redirect', async () => {
      const r = await new UserAgent().get(
        `${server.url}/end_session?client_id=web&post_logout_redirect_uri=${encodeURIComponent('https://evil.example/')}`,
      );
      assert.equal(r.status, 400);
      assert.equal(r.headers.get('location'), null);
    });
  });

  it('discovery lists the OpenID Connect endpoints and capabilities', () => {
    const md = web.serverMetadata();
    assert.equal(md.authorization_endpoint, `${server.issuer}/authorize`);
    assert.equal(md.userinfo_endpoint, `${server.issuer}/userinfo`);
    assert.equal(md.end_session_endpoint, `${server.issuer}/end_session`);
    assert.deepEqual(md.code_challenge_methods_supported, ['S256']);
    assert.equal(md.authorization_response_iss_parameter_supported, true);
    assert.ok(md.response_types_supported!.includes('code'));
    assert.ok(md.grant_types_supported!.includes('authorization_code'));
    assert.ok(md.id_token_signing_alg_values_supported!.includes('RS256'));
    // RFC 9126 §5, RFC 9101 §10.5: pushed requests, request objects by value, no fetching by reference.
    assert.equal(md.pushed_authorization_request_endpoint, `${server.issuer}/par`);
    assert.equal(md.require_pushed_authorization_requests, false);
    assert.equal(md.request_parameter_supported, true);
    assert.equal(md.request_uri_parameter_supported, false);
    assert.ok(md.request_object_signing_alg_values_supported!.includes('ES256'));
  });
});
