/**
 * The authorization code flow in a real browser: headless Chromium (Debian package) driven by
 * playwright-core, against the real server, with openid-client v6 as the relying party. The
 * redirect URIs are intercepted in the browser (nothing listens on 127.0.0.1:8080).
 * One browser for the file, a fresh context (fresh cookies) per test.
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
  navigateWithoutWaiting,
  newPage,
  recordPages,
  serveHtml,
  skipReason,
  type PageRecorder,
} from '../helpers/browser.js';

const CB = 'http://127.0.0.1:8080/cb';
const BYE = 'http://127.0.0.1:8080/bye';
const SECRET = 'web-secret-web-secret-web-secret-0123';
const PASSWORD = 'correct horse battery staple';
const ALICE = { email: 'alice@example.com', email_verified: true, name: 'Alice Example' };
const RP_ORIGIN = new URL(CB).origin;
const OTHER_USERS = ['bob', 'carol', 'dave', 'erin', 'frank', 'grace'] as const;
const insecure = { execute: [oidc.allowInsecureRequests] };
const TEST = { timeout: 20_000 };

describe('real browser (headless Chromium): authorization code + PKCE + OpenID Connect', { skip: skipReason }, () => {
  // Assigned in before(); after() copes with either missing when start-up failed.
  let server: TestServer;
  let browser: Browser;
  let web: oidc.Configuration;
  const contexts: BrowserContext[] = [];

  before(async () => {
    // Both at once; whichever started is closed by after() even when the other failed.
    const [started, launched] = await Promise.allSettled([
      startServer({
        bootstrap: {
          clients: [
            {
              client_id: 'web',
              client_secret: SECRET,
              client_name: 'Web App',
              redirect_uris: [CB],
              post_logout_redirect_uris: [BYE],
              grant_types: ['authorization_code'],
              response_types: ['code'],
              token_endpoint_auth_method: 'client_secret_basic',
              scope: 'openid profile email',
            },
          ],
          // Consent is remembered per user, so each test signs in as its own user: order-independent.
          users: [
            { username: 'alice', password: PASSWORD, claims: ALICE },
            ...OTHER_USERS.map((username) => ({ username, password: PASSWORD, claims: { name: `${username} example` } })),
          ],
        },
      }),
      launchBrowser(),
    ]);
    if (started.status === 'fulfilled') server = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
    web = await oidc.discovery(new URL(server.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), insecure);
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await closeBrowser(browser);
    await (server as TestServer | undefined)?.close(); // unset if before() failed
  });

  /** A fresh browser context with a page, the callback trap armed and every request recorded. */
  async function open(options: Parameters<typeof newPage>[1] = {}) {
    const { context, page } = await newPage(browser, options);
    contexts.push(context);
    const rec = recordPages(context);
    const trap = await CallbackTrap.on(page, CB, BYE);
    return { context, page, rec, trap };
  }

  const authUrl = (extra: Record<string, string> = {}) => pkceAuthorizationUrl(web, CB, extra);

  /** The login form: the form holding the password field. */
  const loginForm = (page: Page) => page.locator('form').filter({ has: page.locator('input[name="password"]') });

  /** Fills the login page by field names and presses its one submit button. */
  async function logIn(page: Page, username = 'alice', password = PASSWORD) {
    const form = loginForm(page);
    await form.locator('input[name="username"]').fill(username);
    await form.locator('input[name="password"]').fill(password);
    await form.locator('button, input[type="submit"]').click();
  }

  /** Waits for the consent page and presses a decision button. */
  async function decide(page: Page, decision: 'allow' | 'deny') {
    await page.locator(`button[name="decision"][value="${decision}"]`).click();
  }

  /** Login then consent from a fresh context; resolves with the callback. */
  async function signInAndAllow(page: Page, trap: CallbackTrap, url: URL, username: string) {
    await page.goto(url.href);
    await logIn(page, username);
    return captureCallback(trap, () => decide(page, 'allow'));
  }

  /**
   * docs/security.md item 10: nothing loaded from anywhere but the server (and the intercepted
   * callback); no console errors, no uncaught script errors.
   */
  function assertCleanPages(rec: PageRecorder, trap: CallbackTrap, allowConsole: RegExp[] = []) {
    assert.ok(rec.requests.length > 0, 'requests were recorded');
    const foreign = rec.requests.filter((r) => new URL(r.url).origin !== server.url && !trap.matches(r.url));
    assert.deepEqual(foreign, [], 'every request goes to the server or the intercepted redirect URI');
    // Messages about the intercepted redirect URIs' origin (nothing listens there: e.g. Chrome's
    // own favicon request for the callback page) are about the test rig, not the server.
    const errors = rec.consoleErrors.filter((m) => !allowConsole.some((re) => re.test(m)) && !m.includes(`${RP_ORIGIN}/`));
    assert.deepEqual(errors, [], 'no console errors');
    assert.deepEqual(rec.pageErrors, [], 'no uncaught page errors');
  }

  it(
    'happy path: login page names the client, login, consent lists the client and each scope in words, Allow, code → tokens, ID token, userinfo',
    TEST,
    async () => {
      const { page, rec, trap } = await open();
      const a = await authUrl();

      const first = await page.goto(a.url.href);
      assert.equal(first?.status(), 200);
      assert.equal(new URL(page.url()).origin, server.url, 'the login page is served by the server');
      assert.match(await page.title(), /Web App/, 'the login page title names the client');
      assert.match(await page.locator('h1').innerText(), /sign in/i);
      assert.match(await page.locator('main').innerText(), /Web App/, 'the login page body names the client');
      const form = loginForm(page);
      assert.equal(await form.count(), 1, 'one login form');
      assert.equal(await form.locator('input[name="username"]').count(), 1);
      assert.equal(await form.locator('input[name="password"]').getAttribute('type'), 'password');
      assert.equal(
        await form.locator('button:not([type]), button[type="submit"], input[type="submit"], input[type="image"]').count(),
        1,
        'exactly one submit button',
      );
      assert.equal(await page.locator('form input[name="csrf"]').count(), 1, 'the login form carries an anti-CSRF token');

      await logIn(page);
      await page.locator('button[name="decision"][value="allow"]').waitFor();
      assert.equal(new URL(page.url()).origin, server.url);
      assert.match(await page.title(), /Web App/, 'the consent page title names the client');
      const text = await page.locator('main').innerText();
      assert.match(text, /Web App/, 'the consent page names the client');
      assert.match(text, /Alice Example/, 'the consent page says who is signed in');
      const items = (await page.locator('main li').allInnerTexts()).join('\n');
      assert.match(items, /identity/i, 'openid in words');
      assert.match(items, /profile/i, 'profile in words');
      assert.match(items, /\bname\b/i, 'profile in words mentions the name');
      assert.match(items, /email address/i, 'email in words');
      assert.equal(await page.locator('main li').count(), 3, 'one line per requested scope');
      assert.equal(await page.locator('button[name="decision"][value="deny"]').count(), 1);

      const cb = await captureCallback(trap, () => decide(page, 'allow'));
      assert.equal(cb.method, 'GET');
      assert.ok(cb.redirected, 'reached by a redirect from the server');
      assert.equal(cb.url.split('?')[0], CB);
      assert.ok(cb.params.get('code'));
      assert.equal(cb.params.get('state'), a.state);
      assert.equal(cb.params.get('iss'), server.issuer);
      assert.equal(page.url(), cb.url, 'the browser ended on the callback URL');

      const tokens = await oidc.authorizationCodeGrant(web, new URL(cb.url), {
        pkceCodeVerifier: a.verifier,
        expectedNonce: a.nonce,
        expectedState: a.state,
      });
      const claims = tokens.claims()!;
      assert.equal(claims.iss, server.issuer);
      assert.equal(claims.aud, 'web');
      assert.equal(claims.nonce, a.nonce);
      assert.ok(claims.sub);
      assert.equal(typeof claims.auth_time, 'number');
      assert.ok(Math.abs(claims.auth_time! - Date.now() / 1000) < 60, 'auth_time is the sign-in just made');
      const info = await oidc.fetchUserInfo(web, tokens.access_token, claims.sub);
      assert.deepEqual(info, { sub: claims.sub, ...ALICE });

      assertCleanPages(rec, trap);
      assert.ok(
        rec.requests.some((r) => r.resourceType === 'stylesheet' && r.url === `${server.url}/assets/latchkey.css`),
        'the stylesheet came from the server',
      );
    },
  );

  it('deny: the callback carries error=access_denied with state and iss, and no code', TEST, async () => {
    const { page, rec, trap } = await open();
    const a = await authUrl();
    await page.goto(a.url.href);
    await logIn(page, 'bob');
    const cb = await captureCallback(trap, () => decide(page, 'deny'));
    assert.equal(cb.url.split('?')[0], CB);
    assert.equal(cb.params.get('error'), 'access_denied');
    assert.equal(cb.params.get('state'), a.state);
    assert.equal(cb.params.get('iss'), server.issuer);
    assert.equal(cb.params.get('code'), null);
    await assert.rejects(
      oidc.authorizationCodeGrant(web, new URL(cb.url), { pkceCodeVerifier: a.verifier, expectedNonce: a.nonce, expectedState: a.state }),
      (err: unknown) => err instanceof oidc.AuthorizationResponseError && err.error === 'access_denied',
    );
    assertCleanPages(rec, trap);
  });

  it('single sign-on: a second authorization in the same browser goes straight to the callback without a page', TEST, async () => {
    const { page, rec, trap } = await open();
    const a = await authUrl();
    const t1 = await oidc.authorizationCodeGrant(web, new URL((await signInAndAllow(page, trap, a.url, 'carol')).url), {
      pkceCodeVerifier: a.verifier,
      expectedNonce: a.nonce,
      expectedState: a.state,
    });

    const b = await authUrl();
    const seen = rec.responses.length;
    const cb = await captureCallback(trap, () => page.goto(b.url.href));
    assert.equal(cb.params.get('state'), b.state);
    const pages = rec.responses.slice(seen).filter((r) => new URL(r.url).origin === server.url && r.status < 300);
    assert.deepEqual(pages, [], 'no page from the server in between: only the redirect');
    assert.ok(rec.responses.slice(seen).some((r) => r.url.startsWith(`${server.url}/authorize`) && r.status === 303));
    const t2 = await oidc.authorizationCodeGrant(web, new URL(cb.url), {
      pkceCodeVerifier: b.verifier,
      expectedNonce: b.nonce,
      expectedState: b.state,
    });
    assert.equal(t2.claims()!.sub, t1.claims()!.sub);
    assert.equal(t2.claims()!.auth_time, t1.claims()!.auth_time, 'the same sign-in, not a new one');
    assertCleanPages(rec, trap);
  });

  it(
    'response_mode=form_post: the browser auto-submits a POST to the redirect URI with code, state and iss (and again silently under SSO)',
    TEST,
    async () => {
      const { page, rec, trap } = await open();
      const a = await authUrl({ response_mode: 'form_post' });
      const cb = await signInAndAllow(page, trap, a.url, 'dave');
      assert.equal(cb.method, 'POST');
      assert.ok(!cb.redirected, 'submitted by the page, not a redirect');
      assert.equal(cb.url, CB, 'nothing in the query');
      assert.match(cb.contentType ?? '', /^application\/x-www-form-urlencoded/);
      assert.ok(cb.params.get('code'));
      assert.equal(cb.params.get('state'), a.state);
      assert.equal(cb.params.get('iss'), server.issuer);
      const tokens = await oidc.authorizationCodeGrant(web, cb.toRequest(), {
        pkceCodeVerifier: a.verifier,
        expectedNonce: a.nonce,
        expectedState: a.state,
      });
      assert.equal(tokens.claims()!.nonce, a.nonce);

      // Signed in and consented: /authorize answers the auto-submitting page itself.
      const b = await authUrl({ response_mode: 'form_post' });
      // The page submits itself at once, which interrupts page.goto's own wait (even for the
      // commit): navigate without it and wait for what matters, the POST to the redirect URI and
      // the page arriving there.
      const cb2 = await captureCallback(trap, () => navigateWithoutWaiting(page, b.url.href));
      await page.waitForURL(CB, { waitUntil: 'commit' });
      assert.equal(cb2.method, 'POST');
      assert.equal(cb2.params.get('state'), b.state);
      assert.equal(cb2.params.get('iss'), server.issuer);
      const t2 = await oidc.authorizationCodeGrant(web, cb2.toRequest(), {
        pkceCodeVerifier: b.verifier,
        expectedNonce: b.nonce,
        expectedState: b.state,
      });
      assert.equal(t2.claims()!.sub, tokens.claims()!.sub);

      // The auto-submit is the nonce'd inline script; the CSP still blocks every other script.
      const formPost = rec.responses.filter(
        (r) => new URL(r.url).origin === server.url && /script-src 'nonce-/.test(r.headers['content-security-policy'] ?? ''),
      );
      assert.equal(formPost.length, 2, 'two form_post pages, each with a script nonce');
      assertCleanPages(rec, trap);
    },
  );

  it(
    'logout: the end-session URL with id_token_hint and a registered post_logout_redirect_uri ends the session; then prompt=none gets login_required',
    TEST,
    async () => {
      const { context, page, rec, trap } = await open();
      const a = await authUrl();
      const tokens = await oidc.authorizationCodeGrant(web, new URL((await signInAndAllow(page, trap, a.url, 'erin')).url), {
        pkceCodeVerifier: a.verifier,
        expectedNonce: a.nonce,
        expectedState: a.state,
      });

      // Signed in: prompt=none succeeds silently.
      const silent = await authUrl({ prompt: 'none' });
      const ok = await captureCallback(trap, () => page.goto(silent.url.href));
      assert.ok(ok.params.get('code'), 'prompt=none succeeds while signed in');

      const cookiesBefore = (await context.cookies(server.url)).length;
      const endUrl = oidc.buildEndSessionUrl(web, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: BYE, state: 'bye-state' });
      const bye = await captureCallback(trap, () => page.goto(endUrl.href));
      assert.equal(bye.url.split('?')[0], BYE, 'back at the registered post_logout_redirect_uri, no confirmation page');
      assert.equal(bye.params.get('state'), 'bye-state');
      assert.ok((await context.cookies(server.url)).length < cookiesBefore, 'the session cookie is cleared');

      const after = await authUrl({ prompt: 'none' });
      const cb = await captureCallback(trap, () => page.goto(after.url.href));
      assert.equal(cb.params.get('error'), 'login_required');
      assert.equal(cb.params.get('state'), after.state);
      assert.equal(cb.params.get('iss'), server.issuer);
      assert.equal(cb.params.get('code'), null);
      assertCleanPages(rec, trap);
    },
  );

  it(
    'every page (login, failed login, consent, error, sign-out confirm, signed out) loads only from the server, styled, with the security headers and no console errors',
    TEST,
    async () => {
      const { page, rec, trap } = await open();
      const documents: { name: string; status: number; headers: Record<string, string> }[] = [];
      /** Runs `go` and waits for the server's page it leads to (redirects followed) to load. */
      const visit = async (name: string, go: () => Promise<unknown>) => {
        const ours = (url: string) => new URL(url).origin === server.url;
        const doc = page.waitForResponse(
          (r) =>
            r.request().isNavigationRequest() &&
            r.frame() === page.mainFrame() &&
            ours(r.url()) &&
            !(r.status() >= 300 && r.status() < 400),
        );
        const committed = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() && ours(f.url()) });
        await go();
        const res = await doc;
        await committed;
        await page.waitForLoadState('load');
        documents.push({ name, status: res.status(), headers: await res.allHeaders() });
        const styled = await page.evaluate<string>('getComputedStyle(document.querySelector("main")).borderTopStyle');
        assert.equal(styled, 'solid', `${name}: the stylesheet applies under the CSP`);
      };

      // An untrusted redirect_uri: an HTML error page, never a redirect.
      await visit('error', () =>
        page.goto(oidc.buildAuthorizationUrl(web, { redirect_uri: 'http://127.0.0.1:8080/elsewhere', scope: 'openid' }).href),
      );
      assert.ok(!trap.hits.length, 'no redirect to an unregistered URI');
      const a = await authUrl();
      await visit('login', () => page.goto(a.url.href));
      await visit('login (wrong password)', () => logIn(page, 'frank', 'wrong password'));
      assert.equal(await page.getByRole('alert').count(), 1, 'the failure is announced');
      await visit('consent', () => logIn(page, 'frank'));
      await captureCallback(trap, () => decide(page, 'allow'));
      await visit('sign-out confirmation', () => page.goto(`${server.url}/end_session`));
      await visit('signed out', () => page.locator('button[name="decision"][value="logout"]').click());

      assert.deepEqual(
        documents.map((d) => [d.name, d.status]),
        [
          ['error', 400],
          ['login', 200],
          ['login (wrong password)', 401],
          ['consent', 200],
          ['sign-out confirmation', 200],
          ['signed out', 200],
        ],
      );
      for (const d of documents) {
        assert.equal(d.headers['x-frame-options'], 'DENY', `${d.name}: X-Frame-Options`);
        const csp = d.headers['content-security-policy'] ?? '';
        assert.match(csp, /frame-ancestors 'none'/, `${d.name}: CSP frame-ancestors`);
        assert.match(csp, /default-src 'none'/, `${d.name}: strict default-src`);
        assert.equal(d.headers['referrer-policy'], 'no-referrer', `${d.name}: Referrer-Policy`);
      }
      // Chrome reports the deliberately failing page loads (400 error page, 401 wrong password) as console errors.
      assertCleanPages(rec, trap, [/status of 40[01]/]);
    },
  );

  it('phone-sized viewport (375x812): the login and consent pages have no horizontal scroll', TEST, async () => {
    const { page, rec, trap } = await open({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true });
    const a = await authUrl();
    const fits = async (name: string) => {
      const m = await page.evaluate<{ sw: number; cw: number; right: number }>(
        '({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth, right: Math.max(...[...document.querySelectorAll("input, button")].map((e) => e.getBoundingClientRect().right)) })',
      );
      assert.ok(m.cw > 0 && m.cw <= 375, `${name}: layout viewport is the phone width (${m.cw})`);
      assert.ok(m.sw <= m.cw, `${name}: scrollWidth ${m.sw} <= clientWidth ${m.cw}`);
      assert.ok(m.right <= m.cw, `${name}: every control is on screen (right edge ${m.right})`);
    };
    await page.goto(a.url.href);
    await fits('login');
    await logIn(page, 'grace');
    await page.locator('button[name="decision"][value="allow"]').waitFor();
    await fits('consent');
    await captureCallback(trap, () => decide(page, 'allow'));
    assertCleanPages(rec, trap);
  });

  it('framing: a page at another origin cannot frame the login page (X-Frame-Options DENY, CSP frame-ancestors none)', TEST, async () => {
    const { page, rec } = await open();
    const a = await authUrl();
    const res = await page.goto(a.url.href);
    assert.equal(res?.headers()['x-frame-options'], 'DENY');
    assert.match(res.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    const loginUrl = page.url();

    // An attacker's page from a real server on another origin (same site, so this browser's
    // cookies go along and the server really renders the login page for the frame), with a
    // control frame of its own that nothing forbids framing.
    const evil = await serveHtml({
      '/framer': `<!doctype html><title>framer</title><iframe name="victim" src="${loginUrl}"></iframe><iframe name="control" src="/frameable"></iframe>`,
      '/frameable': '<!doctype html><title>control</title><p id="ok">framed fine</p>',
    });
    try {
      const n = rec.responses.length;
      await page.goto(`${evil.origin}/framer`, { waitUntil: 'load' });

      const control = page.frame({ name: 'control' });
      assert.ok(control, 'control frame exists');
      assert.equal(
        await control.locator('#ok').innerText(),
        'framed fine',
        'an ordinary cross-origin page can be framed: the check does see frames load',
      );
      const served = rec.responses.slice(n).find((r) => r.url === loginUrl);
      assert.equal(served?.status, 200, 'the server answered the framed request with the login page');
      assert.equal(served.headers['x-frame-options'], 'DENY');
      assert.match(served.headers['content-security-policy'] ?? '', /frame-ancestors 'none'/);
      const victim = page.frame({ name: 'victim' });
      assert.ok(victim, 'victim frame exists');
      assert.notEqual(victim.url(), loginUrl, `the browser refused to show it (the frame is at ${victim.url()})`);
      assert.equal(await victim.locator('input[name="password"]').count(), 0, 'no password field inside the frame');
      assert.deepEqual(
        rec.failures.filter((f) => f.url === loginUrl).map((f) => f.error),
        ['net::ERR_BLOCKED_BY_RESPONSE'],
        'blocked because of the response headers',
      );
      assert.ok(
        rec.consoleErrors.some((m) => /frame-ancestors|X-Frame-Options/i.test(m)),
        `the browser says why: ${rec.consoleErrors.join(' | ')}`,
      );
    } finally {
      await evil.close();
    }
  });
});
