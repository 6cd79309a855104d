/**
 * The consent page in a real browser (headless Chromium via playwright-core): each resource is
 * shown by its name, with its scopes in the words the resource gave them, and
 * allowing there is remembered for that resource only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext } from 'playwright-core';
import { startServer, type TestServer } from '../helpers/server.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { CallbackTrap, captureCallback, closeBrowser, launchBrowser, newPage, skipReason } from '../helpers/browser.js';

const CB = 'http://127.0.0.1:8080/cb';
const ORDERS = 'https://orders.example.com';
const BILLING = 'https://billing.example.com';
const SECRET = 'web-secret-web-secret-web-secret-0123';
const PASSWORD = 'correct horse battery staple';
const TEST = { timeout: 30_000 };

describe('real browser (headless Chromium): the consent page names each resource and its scopes', { skip: skipReason }, () => {
  let server: TestServer;
  let browser: Browser;
  let web: oidc.Configuration;
  const contexts: BrowserContext[] = [];

  before(async () => {
    const [started, launched] = await Promise.allSettled([
      startServer({
        bootstrap: {
          resources: [
            {
              identifier: ORDERS,
              name: 'Orders API',
              scopes: ['read', 'write'],
              scope_descriptions: { read: 'See your past orders', write: 'Place orders in your name' },
            },
            { identifier: BILLING, name: 'Billing API', scopes: ['read'], scope_descriptions: { read: 'See your invoices' } },
          ],
          clients: [
            {
              client_id: 'web',
              client_secret: SECRET,
              client_name: 'Web App',
              redirect_uris: [CB],
              grant_types: ['authorization_code'],
              scope: 'openid read write',
              audiences: [ORDERS, BILLING],
            },
          ],
          users: [{ username: 'alice', password: PASSWORD, claims: { name: 'Alice Example' } }],
        },
      }),
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
    await (server as TestServer | undefined)?.close();
  });

  it('Orders API and its scope descriptions are on the page; allowing there does not allow the Billing API', TEST, async () => {
    const { context, page } = await newPage(browser);
    contexts.push(context);
    const trap = await CallbackTrap.on(page, CB);

    const a = await pkceAuthorizationUrl(web, CB, { scope: 'openid read write', resource: ORDERS });
    await page.goto(a.url.href);
    await page.locator('input[name="username"]').fill('alice');
    await page.locator('input[name="password"]').fill(PASSWORD);
    await page.locator('form button').click();
    await page.locator('button[name="decision"][value="allow"]').waitFor();

    const resource = page.locator('section.resource');
    assert.equal(await resource.count(), 1, 'one resource asked for');
    assert.equal(await resource.locator('h3 .resource-name').innerText(), 'Orders API');
    assert.equal(await resource.locator('h3 .resource-identifier').innerText(), ORDERS);
    const scopes = await resource.locator('li .scope-description').allInnerTexts();
    assert.deepEqual(scopes, ['See your past orders', 'Place orders in your name']);
    assert.doesNotMatch(await page.locator('main').innerText(), /Billing API/);
    assert.ok(await page.locator('section.resource h3').isVisible(), 'the resource heading is visible');

    const cb = await captureCallback(trap, () => page.locator('button[name="decision"][value="allow"]').click());
    assert.ok(cb.params.get('code'), 'a code');

    // The same browser, now asking for read at the Billing API: consent is asked again, naming it.
    const b = await pkceAuthorizationUrl(web, CB, { scope: 'openid read', resource: BILLING });
    await page.goto(b.url.href);
    await page.locator('button[name="decision"][value="allow"]').waitFor();
    assert.equal(await page.locator('section.resource h3 .resource-name').innerText(), 'Billing API');
    assert.deepEqual(await page.locator('section.resource li .scope-description').allInnerTexts(), ['See your invoices']);
  });
});
