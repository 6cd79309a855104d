/**
 * The console's Signing keys, Resources and Trusted issuers pages in a real browser (headless
 * Chromium), one server for the file: an admin rotates keys and sees the timeline, retires a key
 * (refused without a successor; unpublished, gone from /jwks); creates a resource with scopes and
 * gets a client_credentials token for it from a client the helper created; creates a trusted
 * issuer and a JWT-bearer grant succeeds with it; edits and deletes both; bad input is answered
 * next to its field; forms without the CSRF token are refused; pages fit a phone screen.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT, decodeJwt } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { postForm, startServer, type TestServer } from '../helpers/server.js';
import { clientKeyPair, SECRET } from '../helpers/fixtures.js';
import { basicAuth } from '../support/basic-auth.js';
import { closeBrowser, launchBrowser, newPage, recordPages, skipReason } from '../helpers/browser.js';

const PASSWORD = 'correct horse battery staple';
const TEST = { timeout: 45_000 };
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const PARTNER_API = 'https://partner-api.example.com';
const PARTNER = 'https://idp.partner.example';
const ORDERS = 'https://orders.example.com';

describe('console: signing keys, resources, trusted issuers (headless Chromium)', { skip: skipReason }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let rootId: string;
  const contexts: BrowserContext[] = [];

  before(async () => {
    const [started, launched] = await Promise.allSettled([
      startServer({
        bootstrap: {
          resources: [{ identifier: PARTNER_API, scopes: ['partner:read'] }],
          clients: [
            { client_id: 'partner-svc', client_secret: SECRET, grant_types: [JWT_BEARER], scope: 'partner:read', audiences: [PARTNER_API] },
          ],
          users: [{ username: 'root', password: PASSWORD, roles: ['admin'] }],
        },
      }),
      launchBrowser(),
    ]);
    if (started.status === 'fulfilled') server = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
    rootId = (await server.ctx.repos.users.findByUsername('root'))!.id;
    page = await signedIn();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await closeBrowser(browser);
    await (server as TestServer | undefined)?.close();
  });

  async function signedIn(options: Parameters<typeof newPage>[1] = {}) {
    const { context, page: p } = await newPage(browser, options);
    contexts.push(context);
    recordPages(context);
    await p.goto(`${server.url}/admin`);
    await p.getByLabel('Username').fill('root');
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForURL(`${server.url}/admin`);
    return p;
  }

  /** Clicks and returns the status of the POST it sends (before any redirect). */
  async function submit(button: string) {
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: button }).click(),
    ]);
    await page.waitForLoadState();
    return res.status();
  }

  const keyCard = (kid: string) => page.locator(`li.key[id="key-${kid}"]`);
  const jwksKids = async () => ((await (await fetch(`${server.url}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
  const keysNow = () => server.ctx.repos.keys.listAll();
  const auditEvents = async (type: string) => {
    await server.ctx.events.flush();
    return server.ctx.repos.auditEvents.list({ type, limit: 50 });
  };

  it('rotates keys with a delay and shows the timeline; retires a key (refused without a successor, then unpublished)', TEST, async () => {
    await page.getByRole('link', { name: 'Signing keys' }).first().click();
    await page.getByRole('heading', { level: 1, name: 'Signing keys' }).waitFor();
    const before = await keysNow();
    const oldEs = before.find((k) => k.alg === 'ES256')!.kid;
    const oldRs = before.find((k) => k.alg === 'RS256')!.kid;
    assert.equal(await keyCard(oldEs).locator('.badge').textContent(), 'signing');

    // Bad delay: refused next to the field, what was typed kept, nothing rotated.
    await page.getByLabel('Algorithm').selectOption('ES256');
    await page.getByLabel(/^Delay before signing/).fill('soon');
    assert.equal(await submit('Rotate keys'), 422);
    const delay = page.getByLabel(/^Delay before signing/);
    assert.equal(await delay.getAttribute('aria-invalid'), 'true');
    assert.equal(await delay.inputValue(), 'soon');
    assert.match((await page.locator('#delay_seconds-error').textContent()) ?? '', /whole number of seconds/);
    assert.equal((await keysNow()).length, before.length);

    // Rotate ES256 with a 10-minute delay: Post/Redirect/Get, the new key pending with its timeline.
    await delay.fill('600');
    assert.equal(await submit('Rotate keys'), 303);
    assert.equal(new URL(page.url()).pathname, '/admin/keys');
    assert.match((await page.getByRole('status').textContent()) ?? '', /New keys are published/);
    const fresh = (await keysNow()).find((k) => k.alg === 'ES256' && k.kid !== oldEs)!;
    const card = keyCard(fresh.kid);
    assert.equal(await card.locator('.badge').textContent(), 'pending');
    const steps = await card
      .getByRole('list', { name: `Timeline of key ${fresh.kid}` })
      .getByRole('listitem')
      .allTextContents();
    assert.deepEqual(
      steps.map((s) => s.split(' ')[0]),
      ['Published', 'Signs', 'Retired', 'Leaves'],
    );
    assert.match(steps[1]!, new RegExp(fresh.active_from.toISOString().replace('T', ' ').slice(0, 16)));
    assert.match((await keyCard(oldEs).textContent()) ?? '', /Retired at\s+\d{4}-/, 'the old key retires when the new one signs');

    // RS256 has no successor: the confirmation page explains the choice, the refusal says to rotate first.
    await keyCard(oldRs)
      .getByRole('link', { name: /^Retire/ })
      .click();
    await page.getByRole('heading', { level: 1, name: /Retire key/ }).waitFor();
    assert.match((await page.locator('#unpublish-yes-hint').textContent()) ?? '', /Every token it signed stops verifying/);
    await page.getByLabel(/leaves \/jwks now/).check();
    assert.equal(await submit('Retire key'), 409);
    assert.match((await page.getByRole('alert').textContent()) ?? '', /rotate the RS256 keys first/);
    assert.equal(await page.getByLabel(/leaves \/jwks now/).isChecked(), true, 'the choice is kept');
    assert.ok((await jwksKids()).includes(oldRs));

    // Retire the signing ES256 key and remove it from /jwks: the pending key takes over now.
    await page.goto(`${server.url}/admin/keys`);
    await keyCard(oldEs)
      .getByRole('link', { name: /^Retire/ })
      .click();
    await page.getByLabel(/leaves \/jwks now/).check();
    assert.equal(await submit('Retire key'), 303);
    assert.match((await page.getByRole('status').textContent()) ?? '', /removed from \/jwks/);
    assert.equal(await keyCard(oldEs).locator('.badge').textContent(), 'expired');
    assert.equal(await keyCard(fresh.kid).locator('.badge').textContent(), 'signing');
    assert.equal(
      await keyCard(oldEs)
        .getByRole('link', { name: /^Retire/ })
        .count(),
      0,
    );
    assert.ok(!(await jwksKids()).includes(oldEs));

    // The dashboard says the same.
    await page.goto(`${server.url}/admin`);
    const dashboardKeys = page.getByRole('table', { name: 'Signing keys and their status' });
    assert.equal(
      await dashboardKeys
        .getByRole('row', { name: new RegExp(fresh.kid) })
        .getByText('signing')
        .count(),
      1,
    );
    assert.equal(await dashboardKeys.getByRole('row', { name: new RegExp(oldEs) }).count(), 0, 'expired keys are not on the dashboard');

    const [retired] = await auditEvents('key.retired');
    assert.equal(retired?.target?.id, oldEs);
    assert.deepEqual(retired.actor.sub, rootId);
    assert.equal(retired.actor.client_id, 'latchkey-console');
    assert.equal((retired.detail as { unpublished: boolean }).unpublished, true);
    assert.equal((await auditEvents('key.rotated'))[0]?.actor.sub, rootId);
  });

  it('creates a resource with scopes, a client gets a client_credentials token for it; edits and deletes it', TEST, async () => {
    await page.goto(`${server.url}/admin`);
    await page.getByRole('link', { name: 'Resources' }).first().click();
    await page.getByRole('link', { name: 'New resource' }).click();

    // Bad input: errors next to their fields, values kept, nothing stored.
    await page.getByLabel(/^Identifier/).fill('not a uri');
    await page.getByLabel(/^Scopes/).fill('orders:read Read your orders');
    await page.getByLabel(/^Access token lifetime/).fill('5');
    assert.equal(await submit('Create resource'), 422);
    assert.equal(await page.getByLabel(/^Identifier/).getAttribute('aria-invalid'), 'true');
    assert.match((await page.locator('#access_token_ttl-error').textContent()) ?? '', /at least 30 seconds/);
    assert.equal(await page.getByLabel(/^Scopes/).inputValue(), 'orders:read Read your orders');
    assert.equal(await server.ctx.repos.resources.find(ORDERS), undefined);

    await page.getByLabel(/^Identifier/).fill(ORDERS);
    await page.getByLabel(/^Name/).fill('Orders');
    await page.getByLabel(/^Scopes/).fill('orders:read Read your orders\norders:write Change your orders');
    await page.getByLabel(/^Access token lifetime/).fill('900');
    assert.equal(await submit('Create resource'), 303);
    assert.match((await page.getByRole('status').textContent()) ?? '', /resource was created/);
    const row = page.getByRole('row', { name: new RegExp(ORDERS.replace(/\./g, '\\.')) });
    assert.match((await row.textContent()) ?? '', /orders:read — Read your orders/);
    assert.match((await row.textContent()) ?? '', /900 s/);

    // A machine-to-machine client from the helper, allowed the new resource and one of its scopes.
    await page.goto(`${server.url}/admin/apps/new/service`);
    await page.getByLabel(/^Name/).fill('Order sync');
    await page.getByLabel(/^Audiences/).fill(ORDERS);
    await page.getByLabel(/^Scopes?/).fill('orders:read');
    await page.getByRole('button', { name: 'Create application' }).click();
    const clientId = (await page.locator('#client-id').textContent())!;
    const secret = (await page.locator('#client-secret').textContent())!;
    const res = await postForm(
      `${server.url}/token`,
      { grant_type: 'client_credentials', resource: ORDERS, scope: 'orders:read' },
      { authorization: basicAuth(clientId, secret) },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.scope, 'orders:read');
    const claims = decodeJwt(res.body.access_token as string);
    assert.equal(claims.aud, ORDERS);
    assert.equal(claims.exp! - claims.iat!, 900, "the resource's own token lifetime");

    // Edit: a new description, orders:write dropped, the default lifetime.
    await page.goto(`${server.url}/admin/resources`);
    await row.getByRole('link', { name: /^Edit/ }).click();
    assert.equal(await page.getByLabel(/^Identifier/).getAttribute('readonly'), '');
    assert.equal(await page.getByLabel(/^Scopes/).inputValue(), 'orders:read Read your orders\norders:write Change your orders');
    await page.getByLabel(/^Scopes/).fill('orders:read See your orders');
    await page.getByLabel(/^Access token lifetime/).fill('');
    assert.equal(await submit('Save resource'), 303);
    assert.match((await page.getByRole('status').textContent()) ?? '', /resource was saved/);
    const saved = await server.ctx.repos.resources.find(ORDERS);
    assert.deepEqual(
      { scopes: saved?.scopes, scope_descriptions: saved?.scope_descriptions, ttl: saved?.access_token_ttl },
      { scopes: ['orders:read'], scope_descriptions: { 'orders:read': 'See your orders' }, ttl: undefined },
    );
    const [updated] = await auditEvents('resource.updated');
    assert.equal(updated?.actor.sub, rootId);

    // Delete, after a confirmation step.
    await row.getByRole('link', { name: /^Delete/ }).click();
    await page.getByRole('heading', { name: 'Delete this resource?' }).waitFor();
    assert.equal(await submit('Delete'), 303);
    assert.match((await page.getByRole('status').textContent()) ?? '', /resource was deleted/);
    assert.equal(await server.ctx.repos.resources.find(ORDERS), undefined);
    assert.equal((await auditEvents('resource.deleted'))[0]?.target?.id, ORDERS);
  });

  it('creates a trusted issuer and a JWT-bearer grant succeeds with it; edits and deletes it', TEST, async () => {
    const partner = await clientKeyPair('ES256', 'partner-1');
    await page.goto(`${server.url}/admin`);
    await page.getByRole('link', { name: 'Trusted issuers' }).first().click();
    await page.getByRole('link', { name: 'New trusted issuer' }).click();

    // No keys and no subject: both refusals next to their fields.
    await page.getByLabel(/^Issuer/).fill(PARTNER);
    await page.getByLabel(/^Clients allowed/).fill('partner-svc');
    assert.equal(await submit('Create trusted issuer'), 422);
    assert.match((await page.locator('#jwks-error').textContent()) ?? '', /needs its public keys/);
    assert.match((await page.locator('#subject-error').textContent()) ?? '', /allow_any_subject/);
    assert.equal(await page.getByLabel(/^Clients allowed/).inputValue(), 'partner-svc');

    await page.getByLabel(/^Public keys/).fill(JSON.stringify({ keys: [partner.publicJwk] }));
    await page.getByLabel(/^Any subject/).check();
    await page.getByLabel(/^Scope/).fill('partner:read');
    assert.equal(await submit('Create trusted issuer'), 303);
    assert.match((await page.getByRole('status').textContent()) ?? '', /trusted issuer was created/);

    const assertion = (sub: string) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: PARTNER, sub, aud: server.issuer, jti: randomUUID(), iat: now, exp: now + 120 })
        .setProtectedHeader({ alg: 'ES256', kid: 'partner-1' })
        .sign(partner.privateKey);
    };
    const grant = async (sub: string) =>
      postForm(
        `${server.url}/token`,
        { grant_type: JWT_BEARER, assertion: await assertion(sub), resource: PARTNER_API, scope: 'partner:read' },
        { authorization: basicAuth('partner-svc', SECRET) },
      );
    const ok = await grant('partner-user-7');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.scope, 'partner:read');
    assert.equal(decodeJwt(ok.body.access_token as string).sub, 'partner-user-7');

    // Edit: only one subject from now on.
    const row = page.getByRole('row', { name: new RegExp(PARTNER.replace(/\./g, '\\.')) });
    await row.getByRole('link', { name: /^Edit/ }).click();
    assert.equal(await page.getByLabel(/^Any subject/).isChecked(), true);
    await page.getByLabel(/^Any subject/).uncheck();
    await page.getByLabel(/^Subject/).fill('partner-user-7');
    assert.equal(await submit('Save trusted issuer'), 303);
    const stored = (await server.ctx.repos.trustedIssuers.find(PARTNER))!.metadata;
    assert.deepEqual([stored.subject, stored.allow_any_subject], ['partner-user-7', false]);
    assert.match((await row.textContent()) ?? '', /partner-user-7/);

    await row.getByRole('link', { name: /^Delete/ }).click();
    assert.equal(await submit('Delete'), 303);
    assert.match((await page.getByRole('status').textContent()) ?? '', /trusted issuer was deleted/);
    const events = await auditEvents('trusted_issuer.created');
    assert.equal(events[0]?.actor.sub, rootId);
    assert.equal(events[0].actor.client_id, 'latchkey-console');
  });

  it('refuses these forms without the console session’s CSRF token, and changes nothing', TEST, async () => {
    const before = (await keysNow()).length;
    for (const [path, form] of [
      ['/admin/keys/rotate', { delay_seconds: '0' }],
      [`/admin/keys/${(await keysNow())[0]!.kid}/retire`, { unpublish: 'yes' }],
      ['/admin/resources/new', { identifier: 'https://forged.example.com', scopes: 'x' }],
      [
        '/admin/trusted-issuers/new',
        { issuer: 'https://forged.example', jwks_uri: 'https://forged.example/jwks', allow_any_subject: 'yes', client_ids: 'partner-svc' },
      ],
      [`/admin/resources/delete?identifier=${encodeURIComponent(PARTNER_API)}`, {}],
    ] as const) {
      const missing = await page.request.post(`${server.url}${path}`, { form, maxRedirects: 0 });
      assert.equal(missing.status(), 403, path);
      assert.match(await missing.text(), /This form has expired/, path);
      const wrong = await page.request.post(`${server.url}${path}`, { form: { ...form, csrf: 'forged' }, maxRedirects: 0 });
      assert.equal(wrong.status(), 403, path);
    }
    assert.equal((await keysNow()).length, before);
    assert.equal(await server.ctx.repos.resources.find('https://forged.example.com'), undefined);
    assert.ok(await server.ctx.repos.resources.find(PARTNER_API));
    assert.equal(await server.ctx.repos.trustedIssuers.find('https://forged.example'), undefined);
  });

  it('answers unknown items with readable pages, and fits a 390 px phone screen', TEST, async () => {
    for (const path of [
      '/admin/keys/nope/retire',
      `/admin/resources/edit?identifier=${encodeURIComponent('https://nope.example')}`,
      '/admin/trusted-issuers/delete?issuer=nope',
    ]) {
      const res = await page.goto(`${server.url}${path}`);
      assert.equal(res?.status(), 404, path);
      assert.match((await page.getByRole('heading', { level: 1 }).textContent()) ?? '', /^No such/, path);
    }
    const builtIn = await page.goto(`${server.url}/admin/resources/edit?identifier=${encodeURIComponent(`${server.issuer}/admin/api`)}`);
    assert.equal(builtIn?.status(), 409);

    const phone = await signedIn({ viewport: { width: 390, height: 844 } });
    const kid = (await keysNow())[0]!.kid;
    for (const path of [
      '/admin/keys',
      `/admin/keys/${kid}/retire`,
      '/admin/resources',
      '/admin/resources/new',
      '/admin/trusted-issuers',
      '/admin/trusted-issuers/new',
    ]) {
      const res = await phone.goto(`${server.url}${path}`);
      assert.equal(res?.status(), 200, path);
      const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow} px`);
    }
  });
});
