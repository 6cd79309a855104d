/**
 * The console's Users pages in a real browser (headless Chromium), one server for the file: an
 * admin creates a user, finds them, changes their roles, sets a new password (the user then signs
 * in with it through a real code flow; the old one is refused), unlocks an account the sign-in
 * throttle locked, revokes a consent (its refresh token stops working), signs sessions out and
 * deletes a user after confirming. Forms without the CSRF token and non-admins are refused, a
 * stale form changes nothing, every change is an audit event naming the operator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer, type TestServer } from '../helpers/server.js';
import { signInWithCodeFlow } from '../helpers/sign-in.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { UserAgent, formAction, hiddenField } from '../helpers/user-agent.js';
import { closeBrowser, launchBrowser, newPage, recordPages, skipReason } from '../helpers/browser.js';

const PASSWORD = 'correct horse battery staple';
const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'web-secret-web-secret-web-secret-0123';
const SCOPE = 'openid profile offline_access';
const insecure = { execute: [oidc.allowInsecureRequests] };
const TEST = { timeout: 60_000 };

describe('admin console: users (headless Chromium)', { skip: skipReason }, () => {
  let server: TestServer;
  let browser: Browser;
  let config: oidc.Configuration;
  const contexts: BrowserContext[] = [];

  before(async () => {
    const [started, launched] = await Promise.allSettled([
      startServer({
        env: { LOGIN_FAILURE_LIMIT_ACCOUNT: '3' },
        bootstrap: {
          clients: [
            {
              client_id: 'web',
              client_secret: SECRET,
              client_name: 'Web App',
              redirect_uris: [CB],
              grant_types: ['authorization_code', 'refresh_token'],
              scope: SCOPE,
            },
          ],
          users: [
            { username: 'root', password: PASSWORD, roles: ['admin'], claims: { name: 'Root Admin' } },
            { username: 'bob', password: PASSWORD, claims: { name: 'Bob' } },
            { username: 'dave', password: PASSWORD, claims: { email: 'dave@example.com' } },
            { username: 'erin', password: PASSWORD, claims: { name: 'Erin', address: { locality: 'Lyon' } } },
            { username: 'frank', password: PASSWORD },
          ],
        },
      }),
      launchBrowser(),
    ]);
    if (started.status === 'fulfilled') server = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
    config = await oidc.discovery(new URL(server.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), insecure);
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await closeBrowser(browser);
    await (server as TestServer | undefined)?.close();
  });

  let signedIn: Promise<{ page: Page; rec: ReturnType<typeof recordPages> }> | undefined;
  /** The browser signed in to the console as root: once for the file (each sign-in costs an argon2 hash). */
  async function admin() {
    signedIn ??= (async () => {
      const { context, page } = await newPage(browser);
      contexts.push(context);
      const rec = recordPages(context);
      await page.goto(`${server.url}/admin/users`);
      await page.getByLabel('Username').fill('root');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${server.url}/admin/users`);
      return { page, rec };
    })();
    const { page, rec } = await signedIn;
    await page.setViewportSize({ width: 1280, height: 720 });
    return { page, rec };
  }

  const subOf = async (username: string) => (await server.ctx.repos.users.findByUsername(username))!.id;

  /** The audit events of a type about a user, as stored. */
  async function events(type: string, sub: string) {
    const r = await server.ctx.db.query<{ actor: { sub?: string; client_id?: string }; detail: Record<string, unknown> }>(
      "SELECT actor, detail FROM audit_events WHERE type = $1 AND target->>'id' = $2 ORDER BY id",
      [type, sub],
    );
    return r.rows;
  }

  async function assertByOperator(type: string, sub: string) {
    const rows = await events(type, sub);
    assert.ok(rows.length >= 1, `a ${type} event`);
    assert.equal(rows.at(-1)!.actor.sub, await subOf('root'), `${type}: the operator is the actor`);
    assert.equal(rows.at(-1)!.actor.client_id, 'latchkey-console');
  }

  /** A sign-in on Latchkey's login page with a plain HTTP client: the status and page it answers. */
  async function tryPassword(username: string, password: string) {
    const ua = new UserAgent();
    const a = await pkceAuthorizationUrl(config, CB, { scope: SCOPE });
    const html = await (await ua.follow(await ua.get(a.url.toString()), server.url)).text();
    const r = await ua.post(formAction(html, server.url), { username, password, csrf: hiddenField(html, 'csrf') });
    return { status: r.status, location: r.headers.get('location'), text: r.status >= 300 && r.status < 400 ? '' : await r.text() };
  }

  const flash = (page: Page) => page.locator('.flash').textContent();

  it('creates a user, keeps a refused form with errors beside their fields, finds the user and changes their roles', TEST, async () => {
    const { page, rec } = await admin();
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Users');
    assert.equal(
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Users' }).getAttribute('aria-current'),
      'page',
    );

    await page.getByRole('link', { name: 'New user' }).click();
    await page.getByLabel(/^Username/).fill('has space');
    await page.getByLabel(/^Password/).fill('short');
    await page.getByLabel(/^Email/).fill('not-an-address');
    await page.getByLabel(/^Roles/).fill('staff');
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Create user' }).click(),
    ]);
    assert.equal(refused.status(), 422);
    for (const [field, message] of [
      ['username', /spaces/],
      ['password', /at least/],
      ['email', /email/],
    ] as const) {
      const input = page.locator(`#${field}`);
      assert.equal(await input.getAttribute('aria-invalid'), 'true', field);
      assert.match((await input.getAttribute('aria-describedby')) ?? '', new RegExp(`${field}-error`), field);
      assert.match((await page.locator(`#${field}-error`).textContent()) ?? '', message, field);
    }
    assert.equal(await page.getByLabel(/^Email/).inputValue(), 'not-an-address', 'what was typed is kept');
    assert.equal(await page.getByLabel(/^Roles/).inputValue(), 'staff');
    assert.equal(await page.getByLabel(/^Password/).inputValue(), '', 'a password is never sent back');
    assert.equal(await server.ctx.repos.users.findByUsername('has space'), undefined);

    await page.getByLabel(/^Username/).fill('carol');
    await page.getByLabel(/^Password/).fill('first password 1');
    await page.getByLabel(/^Full name/).fill('Carol Jones');
    await page.getByLabel(/^Email/).fill('Carol@Example.com');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.waitForURL(/\/admin\/users\/[\w-]+\?done=created$/);
    assert.equal(await flash(page), 'User created.');
    const sub = await subOf('carol');
    assert.equal(await page.locator('#user-sub').textContent(), sub);
    await assertByOperator('user.created', sub);

    // The same username again (any case): refused beside the field.
    await page.goto(`${server.url}/admin/users/new`);
    await page.getByLabel(/^Username/).fill('CAROL');
    const [conflict] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Create user' }).click(),
    ]);
    assert.equal(conflict.status(), 409);
    assert.match((await page.locator('#username-error').textContent()) ?? '', /A user named "CAROL" already exists/);

    // Search: part of the email, any case; by sub; nothing.
    await page.goto(`${server.url}/admin/users`);
    await page.getByLabel('Find a user').fill('carol@EXAMPLE');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\?q=carol%40EXAMPLE/);
    const rows = page.locator('table.users tbody tr');
    assert.equal(await rows.count(), 1);
    assert.match((await rows.textContent()) ?? '', /carol.*Carol Jones.*Carol@Example\.com.*staff|carol/s);
    await page.goto(`${server.url}/admin/users?q=${encodeURIComponent(sub)}`);
    assert.equal(await rows.count(), 1);
    await page.goto(`${server.url}/admin/users?q=${encodeURIComponent('%')}`);
    assert.match((await rows.textContent()) ?? '', /No user matches/, '% is matched as itself, not as a wildcard');
    await page.goto(`${server.url}/admin/users?q=carol`);
    await page.getByRole('link', { name: 'carol', exact: true }).click();
    await page.waitForURL(`${server.url}/admin/users/${sub}`);

    // Roles and claims: one form; emptying a field removes its claim.
    await page.getByLabel(/^Roles/).fill('staff billing:read');
    await page.getByLabel(/^Full name/).fill('');
    await page.getByLabel(/^Given name/).fill('Carol');
    await page.getByLabel('The email address is verified').check();
    await page.getByRole('button', { name: 'Save profile and roles' }).click();
    await page.waitForURL(/\?done=saved$/);
    assert.equal(await flash(page), 'Profile and roles saved.');
    assert.equal(await page.locator('#user-roles').textContent(), 'billing:read, staff');
    const saved = (await server.ctx.repos.users.findById(sub))!;
    assert.deepEqual(saved.roles, ['billing:read', 'staff']);
    assert.deepEqual(saved.claims, { given_name: 'Carol', email: 'Carol@Example.com', email_verified: true });
    const updated = await events('user.updated', sub);
    assert.deepEqual((updated.at(-1)!.detail.after as { roles: string[] }).roles, ['billing:read', 'staff']);
    await assertByOperator('user.updated', sub);

    // A bad role: beside the roles field, nothing saved.
    await page.getByLabel(/^Roles/).fill('staff bad*role');
    const [bad] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Save profile and roles' }).click(),
    ]);
    assert.equal(bad.status(), 422);
    assert.match((await page.locator('#roles-error').textContent()) ?? '', /letters, digits/);
    assert.equal(await page.getByLabel(/^Roles/).inputValue(), 'staff bad*role');
    assert.deepEqual((await server.ctx.repos.users.findById(sub))!.roles, ['billing:read', 'staff']);
    assert.deepEqual(rec.pageErrors, []);
  });

  it('a stale profile form changes nothing and says so; claims it does not edit are kept', TEST, async () => {
    const { page } = await admin();
    const sub = await subOf('erin');
    await page.goto(`${server.url}/admin/users/${sub}`);
    assert.deepEqual(JSON.parse(await page.getByLabel(/^Other claims/).inputValue()), { address: { locality: 'Lyon' } });
    // Another operator changes the user meanwhile.
    await server.ctx.repos.users.update(sub, { roles: ['auditor'] });
    await page.getByLabel(/^Nickname/).fill('E');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Save profile and roles' }).click(),
    ]);
    assert.equal(res.status(), 409);
    assert.match((await page.getByRole('alert').textContent()) ?? '', /changed this user after you opened the page/);
    assert.equal(await page.getByLabel(/^Roles/).inputValue(), 'auditor', 'the current version is shown');
    assert.equal((await server.ctx.repos.users.findById(sub))!.claims.nickname, undefined);
    // Saved again from the fresh page: the address (not on the form) is still there.
    await page.getByLabel(/^Nickname/).fill('E');
    await page.getByRole('button', { name: 'Save profile and roles' }).click();
    await page.waitForURL(/\?done=saved$/);
    const claims = (await server.ctx.repos.users.findById(sub))!.claims;
    assert.equal(claims.nickname, 'E');
    assert.deepEqual(claims.address, { locality: 'Lyon' });

    // The other claims as JSON: refused beside the box when it is not an object of valid claims.
    const other = page.getByLabel(/^Other claims/);
    for (const [typed, message] of [
      ['{"address": ', /not valid JSON/],
      ['["x"]', /JSON object/],
      ['{"name": "Erin"}', /in the field above/],
      ['{"sub": "someone-else"}', /./],
    ] as const) {
      await other.fill(typed);
      const [refused] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST'),
        page.getByRole('button', { name: 'Save profile and roles' }).click(),
      ]);
      assert.equal(refused.status(), 422, typed);
      assert.equal(await other.getAttribute('aria-invalid'), 'true', typed);
      assert.match((await other.getAttribute('aria-describedby')) ?? '', /other_claims-error/);
      assert.match((await page.locator('#other_claims-error').textContent()) ?? '', message, typed);
      assert.equal(await other.inputValue(), typed, 'what was typed is kept');
    }
    assert.deepEqual((await server.ctx.repos.users.findById(sub))!.claims, claims, 'nothing saved');
    // A member taken out of a nested claim is removed, not merged back.
    await other.fill('{"address": {"country": "FR"}}');
    await page.getByRole('button', { name: 'Save profile and roles' }).click();
    await page.waitForURL(/\?done=saved$/);
    assert.deepEqual((await server.ctx.repos.users.findById(sub))!.claims.address, { country: 'FR' });
  });

  it('sets a new password: the old refresh token and password stop working, the new one signs in through a code flow', TEST, async () => {
    const { tokens } = await signInWithCodeFlow({
      config,
      baseUrl: server.url,
      redirectUri: CB,
      username: 'frank',
      password: PASSWORD,
      scope: SCOPE,
    });
    assert.ok(tokens.refresh_token);
    const { page } = await admin();
    const sub = await subOf('frank');
    await page.goto(`${server.url}/admin/users/${sub}`);
    assert.equal(await page.locator('table.sessions tbody tr').count(), 1, 'the session of the sign-in above');

    await page.getByLabel(/^New password/).fill('short');
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Set password' }).click(),
    ]);
    assert.equal(refused.status(), 422);
    assert.match((await page.locator('#new-password-error').textContent()) ?? '', /at least 8/);
    assert.equal(await page.getByLabel(/^New password/).getAttribute('aria-invalid'), 'true');

    const NEW = 'a brand new passphrase';
    await page.getByLabel(/^New password/).fill(NEW);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.waitForURL(/\?done=password$/);
    assert.match((await flash(page)) ?? '', /Password set/);
    assert.match((await page.locator('table.sessions tbody').textContent()) ?? '', /No live session/);

    await assert.rejects(
      oidc.refreshTokenGrant(config, tokens.refresh_token),
      (err: unknown) => err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant',
    );
    const old = await tryPassword('frank', PASSWORD);
    assert.equal(old.status, 401);
    assert.match(old.text, /username or password is incorrect/);
    const fresh = await signInWithCodeFlow({
      config,
      baseUrl: server.url,
      redirectUri: CB,
      username: 'frank',
      password: NEW,
      scope: SCOPE,
    });
    assert.equal(fresh.tokens.claims()?.sub, sub);
    const changed = await events('user.password_changed', sub);
    assert.equal(changed.length, 1);
    assert.ok(!JSON.stringify(changed).includes(NEW), 'the password is not in the event');
    await assertByOperator('user.password_changed', sub);
  });

  it('shows an account locked by failed sign-ins and unlocks it', TEST, async () => {
    for (let i = 0; i < 3; i++) assert.equal((await tryPassword('dave', 'wrong password!')).status, 401);
    const locked = await tryPassword('dave', PASSWORD);
    assert.match(locked.text, /Too many failed sign-in attempts/, 'the right password is refused while locked');

    const { page } = await admin();
    await page.goto(`${server.url}/admin/users?q=dave`);
    assert.match((await page.locator('table.users tbody tr').textContent()) ?? '', /locked until/);
    await page.getByRole('link', { name: 'dave', exact: true }).click();
    assert.match((await page.locator('#user-status').textContent()) ?? '', /locked/);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.waitForURL(/\?done=unlocked$/);
    assert.match((await flash(page)) ?? '', /lockout cleared/);
    assert.equal((await page.locator('#user-status').textContent())?.trim(), 'not locked');
    assert.equal(await page.getByRole('button', { name: 'Unlock' }).count(), 0);

    const ok = await tryPassword('dave', PASSWORD);
    assert.ok(ok.status === 303 || ok.status === 302, `signed in (${ok.status})`);
    await assertByOperator('user.unlocked', await subOf('dave'));
  });

  it('revokes a consent (its refresh token stops working) and signs sessions out', TEST, async () => {
    const first = await signInWithCodeFlow({
      config,
      baseUrl: server.url,
      redirectUri: CB,
      username: 'erin',
      password: PASSWORD,
      scope: SCOPE,
    });
    const second = await signInWithCodeFlow({
      config,
      baseUrl: server.url,
      redirectUri: CB,
      username: 'erin',
      password: PASSWORD,
      scope: SCOPE,
    });
    const third = await signInWithCodeFlow({
      config,
      baseUrl: server.url,
      redirectUri: CB,
      username: 'erin',
      password: PASSWORD,
      scope: SCOPE,
    });
    const sub = await subOf('erin');
    const { page } = await admin();
    await page.goto(`${server.url}/admin/users/${sub}`);

    const grant = page.locator('table.grants tbody tr[data-client="web"]');
    assert.equal(await grant.count(), 1);
    assert.match((await grant.textContent()) ?? '', /openid.*offline_access.*profile|offline_access/s);
    await grant.getByRole('button', { name: /^Revoke/ }).click();
    await page.waitForURL(/\?done=revoked$/);
    assert.match((await flash(page)) ?? '', /Access revoked/);
    assert.equal(await page.locator('table.grants tbody tr[data-client="web"]').count(), 0);
    // Every token of the grant: both refresh tokens are refused with a plain POST /token.
    for (const t of [first.tokens, second.tokens]) {
      const res = await fetch(`${server.url}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`web:${SECRET}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t.refresh_token! }),
      });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_grant');
    }
    await assertByOperator('consent.revoked', sub);

    // Sessions: three browsers signed in; sign one out, then everywhere.
    const sessions = page.locator('table.sessions tbody tr');
    assert.equal(await sessions.count(), 3);
    await sessions
      .first()
      .getByRole('button', { name: /^Sign out/ })
      .click();
    await page.waitForURL(/\?done=session-ended$/);
    assert.equal(await page.locator('table.sessions tbody tr').count(), 2);
    await assertByOperator('session.ended', sub);
    // Which browser was it? The one whose silent sign-in now needs a login.
    const silent = async (ua: UserAgent) => {
      const a = await pkceAuthorizationUrl(config, CB, { prompt: 'none', scope: 'openid' });
      return new URL((await ua.get(a.url.toString())).headers.get('location')!).searchParams.get('error');
    };
    const outcomes = await Promise.all([first.ua, second.ua, third.ua].map(silent));
    assert.equal(outcomes.filter((e) => e === 'login_required').length, 1, `one browser signed out: ${outcomes.join(',')}`);

    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.waitForURL(/\?done=sessions-ended$/);
    assert.match((await page.locator('table.sessions tbody').textContent()) ?? '', /No live session/);
    assert.deepEqual(await Promise.all([first.ua, second.ua, third.ua].map(silent)), [
      'login_required',
      'login_required',
      'login_required',
    ]);
    assert.equal((await events('session.ended', sub)).length, 3);
  });

  it('deletes a user after a confirmation step; refuses to delete the signed-in operator', TEST, async () => {
    const { page } = await admin();
    const { user } = await server.ctx.db
      .query<{ id: string }>("SELECT id FROM users WHERE username = 'bob'")
      .then((r) => ({ user: r.rows[0]! }));
    await page.goto(`${server.url}/admin/users/${user.id}`);
    await page.getByRole('link', { name: /^Delete bob/ }).click();
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Delete bob?');
    assert.ok(await server.ctx.repos.users.findById(user.id), 'nothing deleted before confirming');
    await page.getByRole('button', { name: 'Delete bob' }).click();
    await page.waitForURL(`${server.url}/admin/users?done=deleted`);
    assert.match((await flash(page)) ?? '', /User deleted/);
    assert.equal(await server.ctx.repos.users.findById(user.id), undefined);
    await assertByOperator('user.deleted', user.id);
    const res = await page.goto(`${server.url}/admin/users/${user.id}`);
    assert.equal(res?.status(), 404);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'No such user');

    const rootSub = await subOf('root');
    await page.goto(`${server.url}/admin/users/${rootSub}/delete`);
    assert.equal(await page.getByRole('button', { name: /^Delete/ }).count(), 0);
    const csrf = await page.locator('input[name="csrf"]').first().inputValue();
    const self = await page.request.post(`${server.url}/admin/users/${rootSub}/delete`, { form: { csrf }, maxRedirects: 0 });
    assert.equal(self.status(), 409);
    assert.ok(await server.ctx.repos.users.findById(rootSub));
    // Nor can the operator take away their own admin role.
    await page.goto(`${server.url}/admin/users/${rootSub}`);
    await page.getByLabel(/^Roles/).fill('');
    await page.getByRole('button', { name: 'Save profile and roles' }).click();
    assert.match((await page.locator('#roles-error').textContent()) ?? '', /shut out of the console/);
    assert.deepEqual((await server.ctx.repos.users.findById(rootSub))!.roles, ['admin']);
  });

  it('refuses every users form without the CSRF token, and non-admins entirely', TEST, async () => {
    const { page } = await admin();
    const sub = await subOf('carol');
    const before = await server.ctx.repos.users.findById(sub);
    for (const [path, form] of [
      ['/admin/users/new', { username: 'mallory', password: 'mallory password' }],
      [`/admin/users/${sub}/profile`, { username: 'carol', roles: 'admin' }],
      [`/admin/users/${sub}/password`, { password: 'taken over password' }],
      [`/admin/users/${sub}/unlock`, {}],
      [`/admin/users/${sub}/sessions/end-all`, {}],
      [`/admin/users/${sub}/grants/revoke`, { client_id: 'web' }],
      [`/admin/users/${sub}/delete`, {}],
    ] as const) {
      for (const csrf of [undefined, 'not-the-token']) {
        const res = await page.request.post(`${server.url}${path}`, { form: { ...form, ...(csrf ? { csrf } : {}) }, maxRedirects: 0 });
        assert.equal(res.status(), 403, `${path} csrf=${csrf}`);
        assert.match(await res.text(), /This form has expired/);
      }
    }
    assert.equal(await server.ctx.repos.users.findByUsername('mallory'), undefined);
    assert.deepEqual(await server.ctx.repos.users.findById(sub), before, 'carol unchanged');

    // A user without the admin role: refused on the users pages, and their forms do nothing.
    const { context } = await newPage(browser);
    contexts.push(context);
    const dave = await context.newPage();
    await dave.goto(`${server.url}/admin/users`);
    await dave.getByLabel('Username').fill('dave');
    await dave.getByLabel('Password').fill(PASSWORD);
    await dave.getByRole('button', { name: 'Sign in' }).click();
    await dave.getByRole('heading', { name: 'Not an administrator' }).waitFor();
    for (const path of ['/admin/users', `/admin/users/${sub}`, '/admin/users/new']) {
      assert.equal((await dave.goto(`${server.url}${path}`))?.status(), 403, path);
    }
    const posted = await dave.request.post(`${server.url}/admin/users/${sub}/password`, {
      form: { password: 'taken over password' },
      maxRedirects: 0,
    });
    assert.ok(posted.status() === 401 || posted.status() === 403, `refused (${posted.status()})`);
    assert.deepEqual(await server.ctx.repos.users.findById(sub), before);
  });

  it('bad addresses and stale actions get readable pages, not errors', TEST, async () => {
    const { page } = await admin();
    for (const path of ['/admin/users/no-such-user', '/admin/users/a%2Fb', '/admin/users/x/delete']) {
      const res = await page.goto(`${server.url}${path}`);
      assert.equal(res?.status(), 404, path);
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'No such user', path);
    }
    const csrf = await page.locator('input[name="csrf"]').first().inputValue();
    const sub = await subOf('carol');
    const gone = await page.request.post(`${server.url}/admin/users/${sub}/sessions/end`, {
      form: { csrf, session: 'nope' },
      maxRedirects: 0,
    });
    assert.equal(gone.status(), 303);
    assert.match(gone.headers().location ?? '', /done=session-gone$/);
    const revoked = await page.request.post(`${server.url}/admin/users/${sub}/grants/revoke`, {
      form: { csrf, client_id: 'nope' },
      maxRedirects: 0,
    });
    assert.match(revoked.headers().location ?? '', /done=grant-gone$/);
    const missing = await page.request.post(`${server.url}/admin/users/no-such-user/password`, {
      form: { csrf, password: 'long enough password' },
      maxRedirects: 0,
    });
    assert.equal(missing.status(), 404);
    assert.match(await missing.text(), /Not found/);
    const unlock = await page.request.post(`${server.url}/admin/users/no-such-user/unlock`, { form: { csrf }, maxRedirects: 0 });
    assert.equal(unlock.status(), 404);
    // A query parameter repeated or far too long is ignored, not a 500.
    assert.equal((await page.goto(`${server.url}/admin/users?q=a&q=b&after=${'z'.repeat(300)}`))?.status(), 200);
    assert.equal((await page.goto(`${server.url}/admin/users?done=__proto__`))?.status(), 200);
  });

  it('fits a 390 px phone screen, and the keyboard reaches every form in order', TEST, async () => {
    const { page } = await admin();
    await page.setViewportSize({ width: 390, height: 844 });
    const sub = await subOf('erin');
    for (const path of ['/admin/users', '/admin/users/new', `/admin/users/${sub}`, `/admin/users/${sub}/delete`]) {
      await page.goto(`${server.url}${path}`);
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      const wide = await page.evaluate<string>(
        `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth).map((e) => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8).join(' ')`,
      );
      assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow} px: ${wide}`);
    }
    await page.goto(`${server.url}/admin/users/new`);
    await page.getByLabel(/^Username/).focus();
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      if (i > 0) await page.keyboard.press('Tab');
      order.push(await page.evaluate<string>('document.activeElement.id || document.activeElement.textContent'));
    }
    assert.deepEqual(order, ['username', 'password', 'name', 'email', 'roles', 'Create user']);
    // Focus is visible: the focused control has an outline.
    const outline = await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle');
    assert.notEqual(outline, 'none');
  });
});
