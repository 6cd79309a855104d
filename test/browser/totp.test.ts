/**
 * Two-step verification (TOTP, RFC 6238) and the account page in a real browser (headless
 * Chromium via playwright-core), with openid-client as the relying party: enrolment reads the
 * otpauth:// URI from /account and confirms with a computed code; sign-in asks for the code after
 * the password and the ID token says amr ["pwd","otp","mfa"] and acr urn:latchkey:acr:mfa; a
 * replayed code and a used recovery code are refused; acr_values asks a password-only session for
 * the second factor (step-up); wrong codes are throttled; /account forms refuse a missing CSRF
 * token and an old sign-in; removing an application's access kills its refresh token.
 *
 * The server's clock is real time minus an offset the tests shrink by whole TOTP periods, so each
 * sign-in uses a fresh time step while ID tokens stay within openid-client's clock checks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startAdminServer, type AdminTestServer } from '../helpers/admin.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { CallbackTrap, captureCallback, closeBrowser, launchBrowser, newPage, skipReason } from '../helpers/browser.js';
import { totpCode } from '../../src/users/totp.js';
import type { Clock } from '../../src/clock.js';

const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'web-secret-web-secret-web-secret-0123';
const PASSWORD = 'correct horse battery staple';
const TEST = { timeout: 60_000 };

/** Real time minus `offset` seconds; `step()` moves it one TOTP period (and a second) forward. */
class ShiftedClock implements Clock {
  constructor(private offset = 1800) {}
  now(): number {
    return Date.now() - this.offset * 1000;
  }
  step(periods = 1): void {
    this.offset -= 31 * periods;
  }
  advance(seconds: number): void {
    this.offset -= seconds;
  }
}

describe('real browser (headless Chromium): two-step verification and the account page', { skip: skipReason }, () => {
  let server: AdminTestServer;
  let browser: Browser;
  let web: oidc.Configuration;
  const clock = new ShiftedClock();
  const contexts: BrowserContext[] = [];
  /** alice's TOTP secret, read from the enrolment page. */
  let secret = '';
  let recoveryCodes: string[] = [];

  before(async () => {
    const [started, launched] = await Promise.allSettled([
      startAdminServer(
        {
          clients: [
            {
              client_id: 'web',
              client_secret: SECRET,
              client_name: 'Web App',
              redirect_uris: [CB],
              grant_types: ['authorization_code', 'refresh_token'],
              scope: 'openid profile offline_access',
            },
            {
              client_id: 'strict',
              client_secret: SECRET,
              client_name: 'Strict App',
              redirect_uris: [CB],
              grant_types: ['authorization_code'],
              scope: 'openid',
              skip_consent: true,
              require_mfa: true,
            },
          ],
          users: [
            { username: 'alice', password: PASSWORD, claims: { name: 'Alice Example' } },
            { username: 'bob', password: PASSWORD },
            { username: 'carol', password: PASSWORD },
          ],
        },
        { clock, env: { LOGIN_FAILURE_LIMIT_ACCOUNT: '6' } },
      ),
      launchBrowser(),
    ]);
    if (started.status === 'fulfilled') server = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
    web = await oidc.discovery(new URL(server.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), {
      execute: [oidc.allowInsecureRequests],
    });
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await closeBrowser(browser);
    await (server as AdminTestServer | undefined)?.close();
  });

  async function fresh(): Promise<{ page: Page; context: BrowserContext; trap: CallbackTrap }> {
    const { context, page } = await newPage(browser);
    contexts.push(context);
    return { context, page, trap: await CallbackTrap.on(page, CB) };
  }

  async function password(page: Page, username: string) {
    await page.locator('input[name="username"]').fill(username);
    await page.locator('input[name="password"]').fill(PASSWORD);
    await page.locator('form button[type="submit"]').click();
  }

  /** The code flow through the page; returns the ID token's claims (and the tokens). */
  async function codeFlow(page: Page, trap: CallbackTrap, steps: (page: Page) => Promise<unknown>, extra: Record<string, string> = {}) {
    const a = await pkceAuthorizationUrl(web, CB, { scope: 'openid profile offline_access', prompt: 'consent', ...extra });
    await page.goto(a.url.href);
    await steps(page);
    const cb = await captureCallback(trap, () => page.locator('button[name="decision"][value="allow"]').click());
    const tokens = await oidc.authorizationCodeGrant(web, cb.asUrl(), {
      pkceCodeVerifier: a.verifier,
      expectedNonce: a.nonce,
      expectedState: a.state,
    });
    return { claims: tokens.claims()!, tokens };
  }

  /** alice's browser, signed in with the password only; enrolled once the enrolment test ran. */
  let alice: { page: Page; context: BrowserContext; trap: CallbackTrap };

  it(
    'enrols from /account: QR code and otpauth:// URI on the page, confirmed with a computed code, ten recovery codes shown once',
    TEST,
    async () => {
      alice = await fresh();
      const { page } = alice;
      // Not signed in: /account goes through the login page and back.
      await page.goto(`${server.issuer}/account`);
      await password(page, 'alice');
      await page.waitForURL(`${server.issuer}/account`);
      assert.equal(await page.locator('[data-account-username]').innerText(), 'alice');
      assert.equal(await page.locator('[data-totp-status]').getAttribute('data-totp-status'), 'off');
      const response = await page.request.get(`${server.issuer}/account`);
      assert.equal(response.headers()['x-frame-options'], 'DENY');
      assert.equal(response.headers()['cache-control'], 'no-store');
      assert.match(response.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/);

      await page.locator('[data-action="enrol-totp"]').click();
      const uri = await page.locator('[data-otpauth-uri]').innerText();
      assert.match(uri, /^otpauth:\/\/totp\//);
      assert.equal(await page.locator('figure.qr svg').count(), 1, 'the QR code is inline SVG');
      secret = new URL(uri).searchParams.get('secret')!;
      assert.match(secret, /^[A-Z2-7]{32}$/);
      assert.equal(await page.locator('[data-totp-secret]').innerText(), secret);

      // A wrong code does not turn it on.
      await page.locator('input[name="otp"]').fill('000000' === totpCode(secret, clock.now()) ? '111111' : '000000');
      await page.locator('[data-totp-confirm] button').click();
      assert.match(await page.locator('.alert').innerText(), /not right/);

      await page.locator('input[name="otp"]').fill(totpCode(secret, clock.now()));
      await page.locator('[data-totp-confirm] button').click();
      assert.equal(await page.locator('[data-totp-status]').getAttribute('data-totp-status'), 'on');
      recoveryCodes = await page.locator('[data-recovery-code]').allInnerTexts();
      assert.equal(recoveryCodes.length, 10);
      assert.equal(new Set(recoveryCodes).size, 10);
      // Shown once: reloading the page shows the count, not the codes.
      await page.goto(`${server.issuer}/account`);
      assert.equal(await page.locator('[data-recovery-code]').count(), 0);
    },
  );

  it('acr_values=urn:latchkey:acr:mfa on the password-only session asks for the code (step-up), then amr has otp', TEST, async () => {
    clock.step();
    const { page, trap } = alice;
    // prompt=none cannot show the code page: interaction_required, no code.
    const silent = await pkceAuthorizationUrl(web, CB, { scope: 'openid', prompt: 'none', acr_values: 'urn:latchkey:acr:mfa' });
    const refused = await captureCallback(trap, () => page.goto(silent.url.href));
    assert.equal(refused.params.get('error'), 'interaction_required');
    assert.equal(refused.params.get('code'), null);
    const { claims } = await codeFlow(
      page,
      trap,
      async (p) => {
        // Signed in already, yet asked for the second factor, not let through.
        await p.locator('form[data-second-factor] input[name="otp"]').fill(totpCode(secret, clock.now()));
        await p.locator('form[data-second-factor] button').click();
      },
      { acr_values: 'urn:latchkey:acr:mfa' },
    );
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(claims.acr, 'urn:latchkey:acr:mfa');
  });

  it(
    'sign-in with password and a computed code through openid-client: amr contains otp; the same code again is refused',
    TEST,
    async () => {
      clock.step();
      const code = totpCode(secret, clock.now());
      const first = await fresh();
      const { claims } = await codeFlow(first.page, first.trap, async (p) => {
        await password(p, 'alice');
        await p.locator('form[data-second-factor] input[name="otp"]').fill(code);
        await p.locator('form[data-second-factor] button').click();
      });
      assert.ok(Array.isArray(claims.amr) && claims.amr.includes('otp') && claims.amr.includes('pwd'));

      // The same code in another browser, within the same 30 seconds: refused (replay).
      const second = await fresh();
      const a = await pkceAuthorizationUrl(web, CB, { scope: 'openid' });
      await second.page.goto(a.url.href);
      await password(second.page, 'alice');
      await second.page.locator('input[name="otp"]').fill(code);
      await second.page.locator('form[data-second-factor] button').click();
      assert.match(await second.page.locator('.alert').innerText(), /already used/);
      assert.equal(second.trap.hits.length, 0, 'no code reached the client');
    },
  );

  it('a recovery code signs in once and not twice', TEST, async () => {
    const recovery = recoveryCodes[0]!;
    const first = await fresh();
    const { claims } = await codeFlow(first.page, first.trap, async (p) => {
      await password(p, 'alice');
      await p.locator('input[name="otp"]').fill(recovery.toUpperCase());
      await p.locator('form[data-second-factor] button').click();
    });
    assert.ok(Array.isArray(claims.amr) && claims.amr.includes('otp'));

    const second = await fresh();
    const a = await pkceAuthorizationUrl(web, CB, { scope: 'openid' });
    await second.page.goto(a.url.href);
    await password(second.page, 'alice');
    await second.page.locator('input[name="otp"]').fill(recovery);
    await second.page.locator('form[data-second-factor] button').click();
    assert.match(await second.page.locator('.alert').innerText(), /already used/);
    assert.equal(second.trap.hits.length, 0);
  });

  it('a client with require_mfa refuses a user without two-step verification, pointing to /account', TEST, async () => {
    const { page, trap } = await fresh();
    const strict = await oidc.discovery(new URL(server.issuer), 'strict', undefined, oidc.ClientSecretBasic(SECRET), {
      execute: [oidc.allowInsecureRequests],
    });
    const a = await pkceAuthorizationUrl(strict, CB, { scope: 'openid' });
    await page.goto(a.url.href);
    await password(page, 'bob');
    await page.locator('[data-mfa-required]').waitFor();
    assert.equal(await page.locator('[data-mfa-required] a').getAttribute('href'), '/account');
    assert.equal(trap.hits.length, 0, 'no code for the client');
  });

  let carol: Page;

  it('wrong codes are throttled with the password: past the account limit even the right code is refused', TEST, async () => {
    // carol enrols through the account page first.
    const { page } = await fresh();
    carol = page;
    await page.goto(`${server.issuer}/account`);
    await password(page, 'carol');
    await page.waitForURL(`${server.issuer}/account`);
    await page.locator('[data-action="enrol-totp"]').click();
    const carolSecret = new URL(await page.locator('[data-otpauth-uri]').innerText()).searchParams.get('secret')!;
    await page.locator('input[name="otp"]').fill(totpCode(carolSecret, clock.now()));
    await page.locator('[data-totp-confirm] button').click();
    assert.equal(await page.locator('[data-totp-status]').getAttribute('data-totp-status'), 'on');

    clock.step();
    const other = await fresh();
    const a = await pkceAuthorizationUrl(web, CB, { scope: 'openid' });
    await other.page.goto(a.url.href);
    await password(other.page, 'carol');
    const right = totpCode(carolSecret, clock.now());
    const wrong = right === '123456' ? '654321' : '123456';
    const statuses: number[] = [];
    for (let n = 0; n < 7; n++) {
      const [response] = await Promise.all([
        other.page.waitForResponse((r) => r.url().endsWith('/otp')),
        (async () => {
          await other.page.locator('input[name="otp"]').fill(n < 6 ? wrong : right);
          await other.page.locator('form[data-second-factor] button').click();
        })(),
      ]);
      statuses.push(response.status());
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 429]);
    assert.match(await other.page.locator('.alert').innerText(), /Too many/);
    assert.equal(other.trap.hits.length, 0);
  });

  it('/account forms refuse a missing CSRF token; a change after an old sign-in asks to sign in again', TEST, async () => {
    const { page, context } = alice;
    const res = await context.request.post(`${server.issuer}/account/sessions/end-others`, {
      form: { nothing: 'here' },
      maxRedirects: 0,
    });
    assert.equal(res.status(), 403);
    assert.match(await res.text(), /form has expired/);

    await page.goto(`${server.issuer}/account`);
    clock.advance(601);
    await page.locator('[data-action="regenerate-recovery-codes"]').click();
    // prompt=login: the password, then (alice is enrolled) the code, then back to /account.
    await page.locator('input[name="password"]').waitFor();
    await password(page, 'alice');
    await page.locator('form[data-second-factor] input[name="otp"]').fill(totpCode(secret, clock.now()));
    await page.locator('form[data-second-factor] button').click();
    await page.waitForURL(`${server.issuer}/account`);
    await page.locator('[data-action="regenerate-recovery-codes"]').click();
    assert.equal(await page.locator('[data-recovery-code]').count(), 10);
    assert.match(await page.locator('[data-account-notice]').innerText(), /old ones no longer work/);
  });

  it('removing an application on /account revokes its refresh token', TEST, async () => {
    clock.step();
    const { page, trap } = alice;
    const { tokens } = await codeFlow(page, trap, () => Promise.resolve());
    assert.ok(tokens.refresh_token, 'a refresh token');
    await oidc.refreshTokenGrant(web, tokens.refresh_token).then((t) => assert.ok(t.access_token));
    // The refresh above rotated nothing for a confidential client; the original still works.

    await page.goto(`${server.issuer}/account`);
    const app = page.locator('[data-app="web"]');
    assert.match(await app.innerText(), /Web App/);
    await app.locator('button').click();
    assert.match(await page.locator('[data-account-notice]').innerText(), /Web App no longer has access/);
    assert.equal(await page.locator('[data-app="web"]').count(), 0);
    await assert.rejects(oidc.refreshTokenGrant(web, tokens.refresh_token), (err: unknown) => {
      assert.ok(err instanceof oidc.ResponseBodyError);
      assert.equal(err.error, 'invalid_grant');
      return true;
    });
  });

  it('turning two-step verification off needs a current code', TEST, async () => {
    clock.step();
    const { page } = alice;
    await page.goto(`${server.issuer}/account`);
    await page.locator('[data-totp-remove] input[name="otp"]').fill('999999' === totpCode(secret, clock.now()) ? '888888' : '999999');
    await page.locator('[data-totp-remove] button').click();
    assert.match(await page.locator('[data-account-error]').innerText(), /still on/);
    await page.locator('[data-totp-remove] input[name="otp"]').fill(totpCode(secret, clock.now()));
    await page.locator('[data-totp-remove] button').click();
    assert.equal(await page.locator('[data-totp-status]').getAttribute('data-totp-status'), 'off');
  });

  it(
    'an operator removes a second factor with DELETE /admin/api/v1/users/{id}/totp (audited); the account page shows it off',
    TEST,
    async () => {
      const users = await server.api('GET', '/users?username=carol');
      const carolId = (users.body as { items: { id: string; username: string }[] }).items.find((u) => u.username === 'carol')!.id;
      const first = await server.api('DELETE', `/users/${carolId}/totp`);
      assert.equal(first.status, 200);
      assert.deepEqual(first.body, { totp_removed: true });
      assert.deepEqual((await server.api('DELETE', `/users/${carolId}/totp`)).body, { totp_removed: false });
      const missing = await server.api('DELETE', '/users/nobody-here/totp');
      assert.equal(missing.status, 404);
      assert.match(missing.headers.get('content-type') ?? '', /application\/problem\+json/);
      const events = await server.api('GET', `/events?type=user.totp_reset`);
      assert.ok((events.body as { items: { type: string }[] }).items.some((e) => e.type === 'user.totp_reset'));
      await carol.goto(`${server.issuer}/account`);
      assert.equal(await carol.locator('[data-totp-status]').getAttribute('data-totp-status'), 'off');
    },
  );
});
