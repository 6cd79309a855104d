import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { ManualClock } from '../../src/clock.js';
import { USER_CODE_ALPHABET } from '../../src/device/user-code.js';
import { postForm, startServer, type TestServer } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';
import { UserAgent } from '../support/user-agent.js';
import { formAction, hiddenField } from '../support/html-form.js';

const PASSWORD = 'correct horse battery staple';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const insecure = { execute: [oidc.allowInsecureRequests] };

const bootstrap = {
  resources: [{ identifier: 'https://api.example.com', scopes: ['api:read'] }],
  clients: [
    {
      client_id: 'tv',
      client_name: 'Living Room TV',
      token_endpoint_auth_method: 'none',
      grant_types: [DEVICE_GRANT, 'refresh_token'],
      scope: 'openid profile offline_access api:read',
      audiences: ['https://api.example.com'],
    },
    { client_id: 'console', client_name: 'Console', token_endpoint_auth_method: 'none', grant_types: [DEVICE_GRANT], scope: 'openid' },
    {
      client_id: 'web',
      client_secret: 'w'.repeat(40),
      redirect_uris: ['https://app.example.com/cb'],
      grant_types: ['authorization_code'],
      scope: 'openid',
    },
  ],
  users: [{ username: 'alice', password: PASSWORD, claims: { name: 'Alice' } }],
};

describe('device authorization grant (RFC 8628)', () => {
  const clock = new ManualClock();
  let server: TestServer;
  let tv: oidc.Configuration;

  before(async () => {
    server = await startServer({ clock, bootstrap, env: { DEVICE_ENTRY_LIMIT_SESSION: '3' } });
    tv = await oidc.discovery(new URL(server.issuer), 'tv', undefined, oidc.None(), insecure);
  });
  after(() => server.close());

  const start = (client = 'tv', extra: Record<string, string> = {}) =>
    postForm(`${server.url}/device_authorization`, { client_id: client, scope: 'openid profile offline_access', ...extra });
  const poll = (deviceCode: string, client = 'tv') =>
    postForm(`${server.url}/token`, { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: client });

  /** A person at /device: enters the code, signs in, decides. Returns the final page. */
  async function approve(userCode: string, decision: 'allow' | 'deny' = 'allow', ua = new UserAgent()) {
    let html = await (await ua.get(`${server.url}/device`)).text();
    let r = await ua.post(formAction(html, server.url), { user_code: userCode, csrf: hiddenField(html, 'csrf') });
    r = await ua.follow(r, server.url);
    html = await r.text();
    if (html.includes('name="password"')) {
      r = await ua.post(formAction(html, server.url), { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') });
      r = await ua.follow(r, server.url);
      html = await r.text();
    }
    assert.match(html, /Living Room TV|Console/, 'the confirmation page names the client');
    r = await ua.post(formAction(html, server.url), { decision, csrf: hiddenField(html, 'csrf') });
    return { status: r.status, html: await r.text() };
  }

  it("answers like the RFC's example (§3.2)", async () => {
    const r = await start();
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.deepEqual(Object.keys(r.body).sort(), [
      'device_code',
      'expires_in',
      'interval',
      'user_code',
      'verification_uri',
      'verification_uri_complete',
    ]);
    assert.equal(Buffer.from(r.body.device_code, 'base64url').length, 32);
    assert.match(r.body.user_code, new RegExp(`^[${USER_CODE_ALPHABET}]{4}-[${USER_CODE_ALPHABET}]{4}$`));
    assert.equal(r.body.verification_uri, `${server.issuer}/device`);
    assert.equal(r.body.verification_uri_complete, `${server.issuer}/device?user_code=${r.body.user_code}`);
    assert.equal(r.body.expires_in, 600);
    assert.equal(r.body.interval, 5);
  });

  it('user codes are unique among many live codes', async () => {
    const codes = await Promise.all(Array.from({ length: 40 }, () => start('console', { scope: 'openid' })));
    const set = new Set(codes.map((c) => c.body.user_code));
    assert.equal(set.size, 40);
  });

  it('openid-client polls while a person approves at /device; tokens come exactly once', async () => {
    const da = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid profile offline_access api:read' });
    const pending = await poll(da.device_code);
    assert.equal(pending.body.error, 'authorization_pending');
    clock.advance(6);
    // The person types it in lower case, without the dash.
    const done = await approve(da.user_code.replace('-', '').toLowerCase());
    assert.equal(done.status, 200);
    assert.match(done.html, /Device connected/);
    clock.advance(6);
    const tokens = await oidc.pollDeviceAuthorizationGrant(tv, da);
    assert.ok(tokens.access_token && tokens.id_token && tokens.refresh_token);
    assert.equal(tokens.claims()!.aud, 'tv');
    clock.advance(6);
    const again = await poll(da.device_code);
    assert.equal(again.body.error, 'invalid_grant', 'the device code is single-use');
  });

  it('slow_down when polled faster than the interval, adding 5 s each time', async () => {
    const { body } = await start();
    assert.equal((await poll(body.device_code)).body.error, 'authorization_pending');
    const fast = await poll(body.device_code);
    assert.equal(fast.body.error, 'slow_down');
    clock.advance(6); // 5 s was enough before, but the interval is now 10 s
    assert.equal((await poll(body.device_code)).body.error, 'slow_down');
    clock.advance(16);
    assert.equal((await poll(body.device_code)).body.error, 'authorization_pending');
  });

  it('a poller that restarts with the interval of the device authorization response after one slow_down still gets its tokens (issue 11 item 5)', async () => {
    const da = await start();
    const interval = da.body.interval as number;
    assert.equal((await poll(da.body.device_code)).body.error, 'authorization_pending');
    clock.advance(1);
    assert.equal((await poll(da.body.device_code)).body.error, 'slow_down');
    await approve(da.body.user_code);
    // It restarts, and keeps polling every `interval` seconds as the response first said.
    const answers: string[] = [];
    for (let i = 0; i < 12 && !answers.includes('tokens'); i++) {
      clock.advance(interval);
      const r = await poll(da.body.device_code);
      answers.push(r.status === 200 ? 'tokens' : r.body.error);
      if (r.status === 200) assert.ok(r.body.access_token && r.body.refresh_token);
    }
    assert.ok(answers.includes('tokens'), `the approved code reached the poller: ${answers.join(', ')}`);
    assert.deepEqual(
      answers.filter((a) => a !== 'slow_down' && a !== 'tokens'),
      [],
    );
  });

  it('a client that waits the interval it was last told is answered normally, however many fast polls it sent', async () => {
    const { body } = await start();
    assert.equal((await poll(body.device_code)).body.error, 'authorization_pending');
    let told = body.interval as number;
    for (let i = 0; i < 3; i++) {
      clock.advance(1);
      const fast = await poll(body.device_code);
      assert.equal(fast.body.error, 'slow_down');
      told = Number(/wait at least (\d+) seconds/.exec(fast.body.error_description)![1]);
    }
    assert.equal(told, 10, 'the interval rose by 5 s once, not once per fast poll');
    clock.advance(told);
    assert.equal((await poll(body.device_code)).body.error, 'authorization_pending');
    clock.advance(told);
    assert.equal((await poll(body.device_code)).body.error, 'authorization_pending', 'and keeps being answered at that interval');
  });

  it('deny: access_denied', async () => {
    const { body } = await start();
    const done = await approve(body.user_code, 'deny');
    assert.match(done.html, /Request denied/);
    clock.advance(6);
    assert.equal((await poll(body.device_code)).body.error, 'access_denied');
  });

  it('expiry: expired_token; the page says the code has expired', async () => {
    const { body } = await start();
    clock.advance(601);
    assert.equal((await poll(body.device_code)).body.error, 'expired_token');
    const ua = new UserAgent();
    const html = await (await ua.get(`${server.url}/device`)).text();
    const r = await ua.post(formAction(html, server.url), { user_code: body.user_code, csrf: hiddenField(html, 'csrf') });
    assert.match(await r.text(), /not valid or has expired/);
  });

  it('bound to the client that started it', async () => {
    const { body } = await start();
    const r = await poll(body.device_code, 'console');
    assert.equal(r.body.error, 'invalid_grant');
    assert.match(r.body.error_description, /another client/);
  });

  it('a client without the device grant: unauthorized_client', async () => {
    const r = await postForm(
      `${server.url}/device_authorization`,
      { scope: 'openid' },
      { authorization: basicAuth('web', 'w'.repeat(40)) },
    );
    assert.equal(r.body.error, 'unauthorized_client');
  });

  it('a pre-filled link still asks the person to submit and confirm', async () => {
    const { body } = await start();
    const ua = new UserAgent();
    const r = await ua.get(`${server.url}/device?user_code=${body.user_code}`);
    const html = await r.text();
    assert.equal(r.status, 200);
    assert.equal(hiddenField(html, 'user_code'), body.user_code);
    clock.advance(6);
    assert.equal((await poll(body.device_code)).body.error, 'authorization_pending', 'nothing was approved by opening the link');
  });

  it('a used code gets a clear message', async () => {
    const { body } = await start();
    await approve(body.user_code);
    const ua = new UserAgent();
    const html = await (await ua.get(`${server.url}/device`)).text();
    const r = await ua.post(formAction(html, server.url), { user_code: body.user_code, csrf: hiddenField(html, 'csrf') });
    assert.match(await r.text(), /already been used/);
  });

  it('guessing is throttled per browser, with a page that says when to try again', async () => {
    const ua = new UserAgent();
    const html = await (await ua.get(`${server.url}/device`)).text();
    const action = formAction(html, server.url);
    const csrf = hiddenField(html, 'csrf');
    for (let i = 0; i < 3; i++) assert.equal((await ua.post(action, { user_code: 'BBBB-BBBB', csrf })).status, 400);
    const blocked = await ua.post(action, { user_code: 'BBBB-BBBB', csrf });
    assert.equal(blocked.status, 429);
    assert.match(await blocked.text(), /Try again in \d+ minute/);
    // A real code is refused too while blocked.
    const { body } = await start();
    assert.equal((await ua.post(action, { user_code: body.user_code, csrf })).status, 429);
  });

  it('discovery lists the device authorization endpoint and grant', () => {
    const md = tv.serverMetadata();
    assert.equal(md.device_authorization_endpoint, `${server.issuer}/device_authorization`);
    assert.ok(md.grant_types_supported!.includes(DEVICE_GRANT));
  });
});
