/**
 * The admin console in a real browser (headless Chromium): an admin signs in through Latchkey's
 * own code flow, creates a web app with the application creation helper, and that new client
 * then runs a full code flow with openid-client; a non-admin is refused; forms without the
 * console's CSRF token are refused; the pages cannot be framed; the layout works at 390 px.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer, type TestServer } from '../helpers/server.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import {
  CallbackTrap,
  captureCallback,
  closeBrowser,
  launchBrowser,
  newPage,
  recordPages,
  serveHtml,
  skipReason,
} from '../helpers/browser.js';

const PASSWORD = 'correct horse battery staple';
const CB = 'http://127.0.0.1:8080/cb';
const insecure = { execute: [oidc.allowInsecureRequests] };
const TEST = { timeout: 30_000 };

describe('admin console (headless Chromium)', { skip: skipReason }, () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    const [started, launched] = await Promise.allSettled([
      startServer({
        bootstrap: {
          users: [
            { username: 'root', password: PASSWORD, roles: ['admin'], claims: { name: 'Root Admin' } },
            { username: 'bob', password: PASSWORD, claims: { name: 'Bob' } },
          ],
        },
      }),
      launchBrowser(),
    ]);
    if (started.status === 'fulfilled') server = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await closeBrowser(browser);
    await (server as TestServer | undefined)?.close();
  });

  async function open(options: Parameters<typeof newPage>[1] = {}) {
    const { context, page } = await newPage(browser, options);
    contexts.push(context);
    return { context, page, rec: recordPages(context) };
  }

  /** /admin → Latchkey's sign-in page → back to the console. */
  async function signIn(page: Page, username: string) {
    await page.goto(`${server.url}/admin`);
    assert.match(new URL(page.url()).pathname, /^\/interaction\//, 'sent to the sign-in page');
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('an admin signs in, creates a web app with the helper, and the new client completes a code flow', TEST, async () => {
    const { context, page, rec } = await open();
    await signIn(page, 'root');
    await page.waitForURL(`${server.url}/admin`);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Dashboard');
    assert.match((await page.locator('.who').textContent()) ?? '', /root/);

    const cookie = (await context.cookies(server.url)).find((c) => c.name === 'lk_console');
    assert.ok(cookie, 'a console session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');

    // The helper: a person signs in → web application with a backend.
    await page.getByRole('link', { name: 'New application' }).first().click();
    await page.getByRole('link', { name: /^Yes/ }).click();
    // `CONSOLE_SCREENSHOT=docs/console.png` refreshes the README's picture of the helper.
    if (process.env.CONSOLE_SCREENSHOT) {
      await page.setViewportSize({ width: 960, height: 900 });
      await page.screenshot({ path: process.env.CONSOLE_SCREENSHOT, fullPage: false });
    }
    await page.getByRole('link', { name: /^Web application with a backend/ }).click();
    assert.match((await page.locator('.lead').textContent()) ?? '', /confidential client/);
    assert.match((await page.locator('.warning').textContent()) ?? '', /password/);
    await page.getByLabel(/^Name/).fill('Billing Portal');
    await page.getByLabel(/^Redirect URIs/).fill(CB);
    await page.getByRole('button', { name: 'Create application' }).click();
    await page.getByRole('heading', { name: 'Billing Portal is ready' }).waitFor();
    const clientId = (await page.locator('#client-id').textContent())!;
    const secret = (await page.locator('#client-secret').textContent())!;
    assert.match(clientId, /^billing-portal-[0-9a-f]{12}$/);
    assert.match(secret, /^[\w-]{43}$/);
    assert.equal(await page.locator('#discovery-url').textContent(), `${server.issuer}/.well-known/openid-configuration`);
    assert.match((await page.locator('#env').textContent())!, new RegExp(`CLIENT_SECRET=${secret}`));

    // The new client, as a relying party would use it: discovery, code + PKCE, tokens.
    const config = await oidc.discovery(new URL(server.issuer), clientId, undefined, oidc.ClientSecretBasic(secret), insecure);
    const trap = await CallbackTrap.on(page, CB);
    const a = await pkceAuthorizationUrl(config, CB, { scope: 'openid profile' });
    // Already signed in to Latchkey (single sign-on): straight to consent for the new app.
    await page.goto(a.url.href);
    const cb = await captureCallback(trap, () => page.locator('button[name="decision"][value="allow"]').click());
    const tokens = await oidc.authorizationCodeGrant(config, cb.toRequest(), {
      pkceCodeVerifier: a.verifier,
      expectedNonce: a.nonce,
      expectedState: a.state,
    });
    assert.equal(tokens.claims()?.aud, clientId);
    assert.equal(tokens.claims()?.sub, (await server.ctx.repos.users.findByUsername('root'))!.id);

    // The list shows it, and nothing came from elsewhere.
    await page.goto(`${server.url}/admin/apps`);
    assert.ok(await page.getByRole('cell', { name: clientId }).isVisible());

    // Recorded as an audit event naming the operator and the console, without the secret.
    const rootId = (await server.ctx.repos.users.findByUsername('root'))!.id;
    await page.goto(`${server.url}/admin/events?type=client.created`);
    const row = page.locator('table.events tbody tr').filter({ hasText: `client ${clientId}` });
    assert.equal(await row.count(), 1);
    const text = (await row.textContent()) ?? '';
    assert.match(text, new RegExp(`user ${rootId} · client latchkey-console`));
    assert.ok(!text.includes(secret), 'the secret is not in the event');
    const foreign = rec.requests.filter((r) => new URL(r.url).origin !== server.url && !trap.matches(r.url));
    assert.deepEqual(foreign, []);
    assert.deepEqual(rec.pageErrors, []);
  });

  it('the helper shows the service’s refusal next to the field, and creates nothing', TEST, async () => {
    const { page } = await open();
    await signIn(page, 'root');
    await page.waitForURL(`${server.url}/admin`);
    const before = (await server.ctx.repos.clients.list()).length;
    await page.goto(`${server.url}/admin/apps/new/web`);
    await page.getByLabel(/^Name/).fill('Plain HTTP');
    await page.getByLabel(/^Redirect URIs/).fill('http://app.example.com/cb');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Create application' }).click(),
    ]);
    assert.equal(res.status(), 422);
    const field = page.getByLabel(/^Redirect URIs/);
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    assert.equal(await field.inputValue(), 'http://app.example.com/cb', 'what was typed is kept');
    assert.match((await page.locator('#redirect_uris-error').textContent()) ?? '', /use https/);
    assert.equal((await server.ctx.repos.clients.list()).length, before);
  });

  it('a user without the admin role is refused with a readable page', TEST, async () => {
    const { context, page } = await open();
    await signIn(page, 'bob');
    await page.waitForURL(/\/admin\/callback/);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Not an administrator');
    assert.match((await page.locator('main').textContent()) ?? '', /bob/);
    assert.ok(!(await context.cookies(server.url)).some((c) => c.name === 'lk_console'), 'no console session');
    // Still no way in on the next visit: the console asks again, and refuses again.
    const again = await page.goto(`${server.url}/admin/apps`);
    assert.equal(again?.status(), 403);
  });

  it('refuses console forms without the session’s CSRF token, and cross-site posts carry no session', TEST, async () => {
    const { page } = await open();
    await signIn(page, 'root');
    await page.waitForURL(`${server.url}/admin`);
    const before = (await server.ctx.repos.clients.list()).length;
    const forged = await page.request.post(`${server.url}/admin/apps/new/service`, {
      form: { csrf: 'not-the-token', client_name: 'Forged', audiences: 'https://api.example.com' },
      maxRedirects: 0,
    });
    assert.equal(forged.status(), 403);
    assert.match(await forged.text(), /This form has expired/);
    const missing = await page.request.post(`${server.url}/admin/apps/new/service`, {
      form: { client_name: 'Forged', audiences: 'https://api.example.com' },
      maxRedirects: 0,
    });
    assert.equal(missing.status(), 403);
    // A page on another site posting a form to the console: the Strict cookie stays home.
    const evil = await serveHtml({
      '/post': `<!doctype html><title>evil</title><form id="f" method="post" action="${server.url}/admin/apps/new/service"><input name="client_name" value="Evil"><input name="audiences" value="https://api.example.com"></form><script>document.getElementById('f').submit()</script>`,
    });
    try {
      const answered = page.waitForResponse((r) => r.url() === `${server.url}/admin/apps/new/service`);
      // localhost and 127.0.0.1 are different sites (ports never make one: RFC 6265bis §5.2).
      await page.goto(`${evil.origin.replace('127.0.0.1', 'localhost')}/post`);
      assert.equal((await answered).status(), 401, 'no console session on a cross-site post');
    } finally {
      await evil.close();
    }
    assert.equal((await server.ctx.repos.clients.list()).length, before, 'no client created');
  });

  it('console pages cannot be framed and are not cached', TEST, async () => {
    const { page } = await open();
    await signIn(page, 'root');
    await page.waitForURL(`${server.url}/admin`);
    for (const path of ['/admin', '/admin/apps', '/admin/apps/new', '/admin/apps/new/spa']) {
      const res = await page.goto(`${server.url}${path}`);
      assert.equal(res?.status(), 200, path);
      const h = res.headers();
      assert.equal(h['x-frame-options'], 'DENY', path);
      assert.match(h['content-security-policy'] ?? '', /frame-ancestors 'none'/, path);
      assert.match(h['cache-control'] ?? '', /no-store/, path);
    }
  });

  it('fits a 390 px phone screen without sideways scrolling, and signs out', TEST, async () => {
    const { page } = await open({ viewport: { width: 390, height: 844 } });
    await signIn(page, 'root');
    await page.waitForURL(`${server.url}/admin`);
    for (const path of ['/admin', '/admin/apps/new?person=yes', '/admin/apps/new/web']) {
      await page.goto(`${server.url}${path}`);
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow} px`);
    }
    // Keyboard: the skip link is the first stop and shows.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate<string>('document.activeElement.textContent'), 'Skip to content');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Signed out of the console' }).waitFor();
    assert.ok(!(await page.context().cookies(server.url)).some((c) => c.name === 'lk_console'), 'the console cookie is gone');
    // Back in through the sign-in again (still signed in to Latchkey itself, so no password).
    const res = await page.goto(`${server.url}/admin/apps`);
    const chain: string[] = [];
    for (let r = res?.request(); r; r = r.redirectedFrom() ?? undefined) chain.unshift(new URL(r.url()).pathname);
    assert.deepEqual(chain.slice(0, 3), ['/admin/apps', '/admin/login', '/authorize']);
  });
});
