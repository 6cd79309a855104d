/**
 * One CSRF scheme for every form (interaction/csrf.ts): each form page's POST is
 * refused with a readable 403 page when its token is missing or is not this form's token in this
 * browser — and the refused POST changes nothing. The attacker's POST is sent with the victim's
 * cookies (what a browser ignoring SameSite, or a same-site attacker, would send): the token is
 * the only thing standing in the way.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { hashToken as sessionHash } from '../../src/tokens/opaque.js';
import { postForm, startServer, type TestServer } from '../helpers/server.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { formAction, hiddenField } from '../support/html-form.js';
import { UserAgent } from '../support/user-agent.js';

const API = 'https://api.example.com';
const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'web-secret-web-secret-web-secret-0123';
const PASSWORD = 'correct horse battery staple';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

describe('CSRF: one scheme, every form', () => {
  let server: TestServer;
  let web: oidc.Configuration;

  before(async () => {
    server = await startServer({
      bootstrap: {
        resources: [{ identifier: API, scopes: ['api:read'] }],
        clients: [
          {
            client_id: 'web',
            client_secret: SECRET,
            redirect_uris: [CB],
            post_logout_redirect_uris: ['http://127.0.0.1:8080/bye'],
            grant_types: ['authorization_code'],
            scope: 'openid api:read',
            audiences: [API],
          },
          { client_id: 'tv', token_endpoint_auth_method: 'none', grant_types: [DEVICE_GRANT], scope: 'openid' },
        ],
        users: [{ username: 'alice', password: PASSWORD, claims: {} }],
      },
    });
    web = await oidc.discovery(new URL(server.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), {
      execute: [oidc.allowInsecureRequests],
    });
  });
  after(() => server.close());

  /** A token that is valid — but for another form (the device page's) in the same browser. */
  async function otherFormsToken(ua: UserAgent): Promise<string> {
    return hiddenField(await (await ua.get(`${server.url}/device`)).text(), 'csrf');
  }

  /** A token that is valid — for the same kind of form, in another browser. */
  async function otherBrowsersLoginToken(): Promise<string> {
    const ua = new UserAgent();
    const a = await pkceAuthorizationUrl(web, CB, { scope: 'openid' });
    return hiddenField(await (await ua.follow(await ua.get(a.url.toString()), server.url)).text(), 'csrf');
  }

  async function assertRefused(r: Response, what: string): Promise<void> {
    assert.equal(r.status, 403, what);
    assert.equal(r.headers.get('location'), null, `${what}: no redirect`);
    assert.match(r.headers.get('content-type') ?? '', /^text\/html/, what);
    const body = await r.text();
    assert.match(body, /<h1>This form has expired<\/h1>/, what);
    assert.doesNotMatch(body, /\bat \S+:\d+:\d+|Error:/, `${what}: no stack trace`);
  }

  async function loginPage(ua: UserAgent): Promise<string> {
    const a = await pkceAuthorizationUrl(web, CB, { scope: 'openid api:read' });
    return (await ua.follow(await ua.get(a.url.toString()), server.url)).text();
  }

  it('login: no token, another form’s token, another browser’s token: 403 page, nobody signed in', async () => {
    const ua = new UserAgent();
    const html = await loginPage(ua);
    const action = formAction(html, server.url);
    const attempts: [string, Record<string, string>][] = [
      ['no token', {}],
      ['wrong token', { csrf: 'x'.repeat(43) }],
      ['the device form’s token', { csrf: await otherFormsToken(ua) }],
      ['another browser’s token', { csrf: await otherBrowsersLoginToken() }],
    ];
    for (const [what, extra] of attempts) {
      await assertRefused(await ua.post(action, { username: 'alice', password: PASSWORD, ...extra }), `login, ${what}`);
      assert.equal(ua.jar.get('lk_session'), undefined, `login, ${what}: no session`);
    }
    // The page's own token works.
    const ok = await ua.post(action, { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') });
    assert.equal(ok.status, 303);
    assert.ok(ua.jar.get('lk_session'));
  });

  it('consent: no token or another interaction’s token: 403 page, no consent and no code', async () => {
    const ua = new UserAgent();
    let html = await loginPage(ua);
    let r = await ua.follow(
      await ua.post(formAction(html, server.url), { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') }),
      server.url,
    );
    html = await r.text();
    assert.match(html, /name="decision"/);
    const action = formAction(html, server.url);
    // The same browser's token for another pending interaction (its login page).
    const another = hiddenField(await loginPage(ua), 'csrf');
    for (const [what, extra] of [
      ['no token', {}],
      ['another interaction’s token', { csrf: another }],
      ['the device form’s token', { csrf: await otherFormsToken(ua) }],
    ] as [string, Record<string, string>][]) {
      await assertRefused(await ua.post(action, { decision: 'allow', ...extra }), `consent, ${what}`);
    }
    const alice = (await server.ctx.repos.users.findByUsername('alice'))!;
    assert.equal((await server.ctx.repos.consents.granted(alice.id, 'web')).size, 0, 'nothing remembered');
    r = await ua.post(action, { decision: 'allow', csrf: hiddenField(html, 'csrf') });
    assert.equal(r.status, 303);
    assert.ok(new URL(r.headers.get('location')!).searchParams.get('code'));
  });

  it('device code entry: no token or another browser’s token: 403 page, the code is not taken up', async () => {
    const device = await postForm(`${server.url}/device_authorization`, { client_id: 'tv', scope: 'openid' });
    const ua = new UserAgent();
    const html = await (await ua.get(`${server.url}/device`)).text();
    const action = formAction(html, server.url);
    const elsewhere = await otherFormsToken(new UserAgent());
    for (const [what, extra] of [
      ['no token', {}],
      ['another browser’s token', { csrf: elsewhere }],
      ['the login form’s token', { csrf: await otherBrowsersLoginToken() }],
    ] as [string, Record<string, string>][]) {
      await assertRefused(await ua.post(action, { user_code: device.body.user_code, ...extra }), `device, ${what}`);
    }
    const ok = await ua.post(action, { user_code: device.body.user_code, csrf: hiddenField(html, 'csrf') });
    assert.equal(ok.status, 303);
    assert.match(ok.headers.get('location')!, /\/interaction\//);
  });

  it('logout confirmation: no token or another form’s token: 403 page, still signed in', async () => {
    const ua = new UserAgent();
    const html = await loginPage(ua);
    await ua.post(formAction(html, server.url), { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') });
    const session = ua.jar.get('lk_session');
    assert.ok(session);
    const page = await (await ua.get(`${server.url}/end_session?client_id=web`)).text();
    assert.match(page, /name="decision"/);
    const action = formAction(page, server.url);
    for (const [what, extra] of [
      ['no token', {}],
      ['the device form’s token', { csrf: await otherFormsToken(ua) }],
    ] as [string, Record<string, string>][]) {
      await assertRefused(await ua.post(action, { client_id: 'web', decision: 'logout', ...extra }), `logout, ${what}`);
      assert.ok(await server.ctx.repos.sessions.find(sessionHash(session), new Date()), `logout, ${what}: still signed in`);
    }
    const ok = await ua.post(action, { client_id: 'web', decision: 'logout', csrf: hiddenField(page, 'csrf') });
    assert.equal(ok.status, 200);
    assert.equal(await server.ctx.repos.sessions.find(sessionHash(session), new Date()), undefined, 'signed out');
  });
});
