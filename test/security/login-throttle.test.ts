import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { collectSecurityEvents } from '../../src/observability/security-events.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { formAction, hiddenField } from '../support/html-form.js';
import { UserAgent } from '../support/user-agent.js';

const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'web-secret-web-secret-web-secret-0123';
const PASSWORD = 'correct horse battery staple';
const insecure = { execute: [oidc.allowInsecureRequests] };

/**
 * The sign-in throttle holds under concurrency (the attempt is reserved before argon2 runs), keys
 * accounts as the user lookup folds usernames, and reports failures and lockouts as security events.
 */
describe('sign-in throttle', () => {
  let server: TestServer;
  let web: oidc.Configuration;
  const sink = collectSecurityEvents();

  before(async () => {
    server = await startServer({
      events: sink,
      env: { LOGIN_FAILURE_LIMIT_ACCOUNT: '10', LOGIN_FAILURE_LIMIT_IP: '10000', PASSWORD_VERIFY_QUEUE: '100' },
      bootstrap: {
        clients: [
          {
            client_id: 'web',
            client_secret: SECRET,
            redirect_uris: [CB],
            grant_types: ['authorization_code'],
            scope: 'openid',
            skip_consent: true,
          },
        ],
        users: ['victim', 'alice', 'dave'].map((username) => ({ username, password: PASSWORD })),
      },
    });
    web = await oidc.discovery(new URL(server.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), insecure);
  });
  after(() => server.close());

  /** A login form: where it posts and its CSRF token (the interaction survives failed attempts). */
  async function loginForm(ua = new UserAgent()) {
    const { url } = await pkceAuthorizationUrl(web, CB, { scope: 'openid' });
    const html = await (await ua.follow(await ua.get(url.toString()), server.url)).text();
    assert.match(html, /name="password"/);
    const action = formAction(html, server.url);
    const csrf = hiddenField(html, 'csrf');
    return { ua, post: (username: string, password: string) => ua.post(action, { username, password, csrf }) };
  }

  const userId = async (username: string) => (await server.ctx.repos.users.findByUsername(username))!.id;

  it('60 simultaneous wrong passwords for one account: at most 10 are checked, then even the right one is refused', async () => {
    const form = await loginForm();
    const before = sink.events.filter((e) => e.type === 'login.failure').length;
    const answers = await Promise.all(Array.from({ length: 60 }, () => form.post('victim', 'wrong-password-wrong')));
    const statuses = answers.map((r) => r.status);
    await Promise.all(answers.map((r) => r.text()));
    const checked = statuses.filter((s) => s === 401).length;
    const refused = statuses.filter((s) => s === 429).length;
    console.log(`# 60 concurrent wrong passwords: ${checked} checked (401), ${refused} refused (429)`);
    assert.equal(checked + refused, 60, `only 401s and 429s: ${statuses.join(',')}`);
    assert.ok(checked <= 10, `${checked} wrong passwords were checked; the limit is 10`);
    // Every verified failure is a login.failure event: the count of argon2 checks that failed.
    assert.equal(sink.events.filter((e) => e.type === 'login.failure').length - before, checked);
    const right = await form.post('victim', PASSWORD);
    assert.equal(right.status, 429, 'the right password is refused while the account is locked');
    assert.match(right.headers.get('retry-after') ?? '', /^\d+$/);
    assert.match(await right.text(), /Too many failed sign-in attempts/);
  });

  it('emits login.failure (user id, address) and one login.lockout when the account limit is reached', async () => {
    const id = await userId('victim');
    const failures = sink.events.filter((e) => e.type === 'login.failure' && e.userId === id);
    assert.ok(failures.length > 0);
    for (const e of failures) {
      assert.equal(e.ip, '127.0.0.1');
      assert.equal(e.clientId, 'web');
      assert.doesNotMatch(JSON.stringify(e), /wrong-password|correct horse/, 'no password in the event');
    }
    const lockouts = sink.events.filter((e) => e.type === 'login.lockout' && e.userId === id);
    assert.equal(lockouts.length, 1, 'one lockout: the failure that filled the account bucket');
    assert.equal(lockouts[0]!.details?.limit, 'account');
    // An unknown username fails the same way, with no user id.
    const form = await loginForm();
    assert.equal((await form.post('no-such-user', 'whatever-password')).status, 401);
    const last = sink.events.filter((e) => e.type === 'login.failure').at(-1)!;
    assert.equal(last.userId, undefined);
    assert.equal(last.ip, '127.0.0.1');
  });

  it('a successful sign-in gives its reserved attempt back', async () => {
    const form = await loginForm();
    for (let i = 0; i < 9; i++) assert.equal((await form.post('dave', 'wrong-password-wrong')).status, 401);
    // 9 failures + 1 success would be 10 if the success stayed counted: dave could still try once more…
    assert.equal((await form.post('dave', PASSWORD)).status, 303);
    const again = await loginForm();
    assert.equal((await again.post('dave', 'wrong-password-wrong')).status, 401, 'the success did not use up the tenth attempt');
    assert.equal((await again.post('dave', PASSWORD)).status, 429, 'now ten failures: locked');
  });

  it('alİce (U+0130) is not another way into alice\u2019s account around her limit', async () => {
    const form = await loginForm();
    // Ten failures under spellings that fold to "alice" lock her account…
    for (const name of ['ALICE', 'Alice', 'alice', 'ａｌｉｃｅ', 'aLiCe']) {
      for (let i = 0; i < 2; i++) assert.equal((await form.post(name, 'wrong-password-wrong')).status, 401);
    }
    assert.equal((await form.post('alice', PASSWORD)).status, 429);
    assert.equal((await form.post('ALICE', PASSWORD)).status, 429);
    // …and a spelling PostgreSQL's lower() maps to "alice" but the throttle key does not is not
    // her account at all: it does not sign in as alice from another bucket.
    const dotted = await form.post('alİce', PASSWORD);
    assert.notEqual(dotted.status, 303, 'alİce signed in as alice around her lockout');
    assert.equal(dotted.status, 401);
    assert.equal(sink.events.filter((e) => e.type === 'login.failure').at(-1)!.userId, undefined, 'alİce is nobody');
  });
});
