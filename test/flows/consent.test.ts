import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { loadConfig } from '../../src/config.js';
import { NO_RESOURCE } from '../../src/interaction/consent.js';
import { collectSecurityEvents } from '../../src/observability/security-events.js';
import type { Db } from '../../src/store/db.js';
import { loadMigrations, migrate } from '../../src/store/migrate.js';
import { openDb } from '../../src/store/open.js';
import { freshDatabaseEnv, postForm, startServer, type TestServer } from '../helpers/server.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { formAction, hiddenField } from '../support/html-form.js';
import { UserAgent } from '../support/user-agent.js';

const ORDERS = 'https://orders.example.com';
const BILLING = 'https://billing.example.com';
const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'web-secret-web-secret-web-secret-0123';
const PASSWORD = 'correct horse battery staple';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

describe('consent is per resource and scope', () => {
  let server: TestServer;
  let web: oidc.Configuration;
  const events = collectSecurityEvents();

  before(async () => {
    server = await startServer({
      events,
      bootstrap: {
        resources: [
          {
            identifier: ORDERS,
            name: 'Orders API',
            scopes: ['read', 'write'],
            scope_descriptions: { read: 'See your orders', write: 'Place orders in your name' },
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
            scope: 'openid profile read write',
            audiences: [ORDERS, BILLING],
          },
          {
            client_id: 'tv',
            client_name: 'Living Room TV',
            token_endpoint_auth_method: 'none',
            grant_types: [DEVICE_GRANT],
            scope: 'openid read',
            audiences: [BILLING],
          },
        ],
        users: [
          { username: 'alice', password: PASSWORD, claims: { name: 'Alice Example' } },
          { username: 'bob', password: PASSWORD, claims: { name: 'Bob' } },
          { username: 'carol', password: PASSWORD, claims: { name: 'Carol' } },
        ],
      },
    });
    web = await oidc.discovery(new URL(server.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), {
      execute: [oidc.allowInsecureRequests],
    });
  });
  after(() => server.close());

  const authUrl = (extra: Record<string, string>) => pkceAuthorizationUrl(web, CB, extra);

  /** Signs in (when asked) and returns the consent page's HTML, or the redirect back when no page is shown. */
  async function toConsent(ua: UserAgent, url: URL, username: string): Promise<{ html?: string; location?: string }> {
    let r = await ua.follow(await ua.get(url.toString()), server.url);
    if (r.status >= 300) return { location: r.headers.get('location')! };
    let html = await r.text();
    if (html.includes('name="password"')) {
      r = await ua.follow(
        await ua.post(formAction(html, server.url), { username, password: PASSWORD, csrf: hiddenField(html, 'csrf') }),
        server.url,
      );
      if (r.status >= 300) return { location: r.headers.get('location')! };
      html = await r.text();
    }
    assert.match(html, /name="decision"/, 'the consent page');
    return { html };
  }

  async function allow(ua: UserAgent, html: string): Promise<URL> {
    const r = await ua.post(formAction(html, server.url), { decision: 'allow', csrf: hiddenField(html, 'csrf') });
    assert.equal(r.status, 303);
    return new URL(r.headers.get('location')!);
  }

  const outcome = (location: string) => Object.fromEntries(new URL(location).searchParams);

  it('the attack: consent to read at one API, then prompt=none for read at another is consent_required, not a code', async () => {
    const ua = new UserAgent();
    const first = await toConsent(ua, (await authUrl({ scope: 'openid read', resource: ORDERS })).url, 'alice');
    assert.ok((await allow(ua, first.html!)).searchParams.get('code'));

    const other = await authUrl({ scope: 'openid read', resource: BILLING, prompt: 'none' });
    const r = await ua.get(other.url.toString());
    assert.equal(r.status, 303);
    const e = outcome(r.headers.get('location')!);
    assert.equal(e.error, 'consent_required');
    assert.equal(e.code, undefined);

    // What was granted still holds where it was granted.
    const same = await authUrl({ scope: 'openid read', resource: ORDERS, prompt: 'none' });
    assert.ok(outcome((await ua.get(same.url.toString())).headers.get('location')!).code, 'read at the Orders API: a code');
    // Without prompt=none, the page asks for the Billing API, by name.
    const page = await toConsent(ua, (await authUrl({ scope: 'openid read', resource: BILLING })).url, 'alice');
    assert.match(page.html!, /Billing API/);
  });

  it('the consent page names each resource and shows its scopes in its own words', async () => {
    const ua = new UserAgent();
    const { html } = await toConsent(ua, (await authUrl({ scope: 'openid read write', resource: ORDERS })).url, 'bob');
    assert.match(
      html!,
      /<span class="resource-name">Orders API<\/span> <code class="resource-identifier">https:\/\/orders\.example\.com<\/code>/,
    );
    assert.match(html!, /<span class="scope-description">See your orders<\/span> <code class="scope-name">read<\/code>/);
    assert.match(html!, /<span class="scope-description">Place orders in your name<\/span> <code class="scope-name">write<\/code>/);
    assert.match(html!, /<span class="scope-description">Confirm your identity<\/span> <code class="scope-name">openid<\/code>/);
    assert.doesNotMatch(html!, /Billing API/, 'only the resource asked for');
  });

  it('granting consent emits consent.granted per resource (user, client, scopes, resource), with no secret in it', async () => {
    const ua = new UserAgent();
    const { html } = await toConsent(ua, (await authUrl({ scope: 'openid write', resource: ORDERS })).url, 'carol');
    const seen = events.events.length;
    const cb = await allow(ua, html!);
    const granted = events.events.slice(seen).filter((e) => e.type === 'consent.granted');
    assert.deepEqual(
      granted.map((e) => ({ client: e.clientId, details: e.details })),
      [
        { client: 'web', details: { scopes: ['openid'] } },
        { client: 'web', details: { resource: ORDERS, scopes: ['write'] } },
      ],
    );
    const carol = (await server.ctx.repos.users.findByUsername('carol'))!;
    for (const e of granted) {
      assert.equal(e.userId, carol.id);
      assert.equal(e.ip, '127.0.0.1');
      assert.ok(!JSON.stringify(e).includes(cb.searchParams.get('code')!), 'no code in the event');
    }
  });

  it('consent given at once from several places is all remembered: one statement, no lost update', async () => {
    const bob = (await server.ctx.repos.users.findByUsername('bob'))!;
    const grants = ['read', 'write', 'read', 'write', 'read', 'write', 'read', 'write'].map((scope, n) =>
      server.ctx.repos.consents.grant(
        bob.id,
        'race',
        new Map([
          [NO_RESOURCE, [`s${n}`]],
          [ORDERS, [scope]],
        ]),
      ),
    );
    await Promise.all(grants);
    const granted = await server.ctx.repos.consents.granted(bob.id, 'race');
    assert.deepEqual([...granted.get(ORDERS)!].sort(), ['read', 'write']);
    assert.deepEqual([...granted.get(NO_RESOURCE)!].sort(), ['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7']);
  });

  it('a device approval is consent at the device code resources', async () => {
    const device = await postForm(`${server.url}/device_authorization`, { client_id: 'tv', scope: 'openid read' });
    assert.equal(device.status, 200, JSON.stringify(device.body));
    const ua = new UserAgent();
    let html = await (await ua.get(`${server.url}/device`)).text();
    let r = await ua.follow(
      await ua.post(formAction(html, server.url), { user_code: device.body.user_code, csrf: hiddenField(html, 'csrf') }),
      server.url,
    );
    html = await r.text();
    r = await ua.follow(
      await ua.post(formAction(html, server.url), { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') }),
      server.url,
    );
    html = await r.text();
    assert.match(html, /Billing API/);
    assert.match(html, /See your invoices/);
    const seen = events.events.length;
    r = await ua.post(formAction(html, server.url), { decision: 'allow', csrf: hiddenField(html, 'csrf') });
    assert.equal(r.status, 200);
    const alice = (await server.ctx.repos.users.findByUsername('alice'))!;
    const granted = await server.ctx.repos.consents.granted(alice.id, 'tv');
    assert.deepEqual(granted.get(BILLING), ['read']);
    assert.deepEqual(
      events.events.slice(seen).flatMap((e) => (e.type === 'consent.granted' ? [e.details] : [])),
      [{ scopes: ['openid'] }, { resource: BILLING, scopes: ['read'] }],
    );
  });
});

describe('migration 013: consent rows by client become rows by resource', () => {
  let db: Db;
  let env: Awaited<ReturnType<typeof freshDatabaseEnv>>;

  before(async () => {
    env = await freshDatabaseEnv();
    db = await openDb(loadConfig(env.env));
  });
  after(async () => {
    await db.close();
    await env.drop();
  });

  it('OpenID scopes go to no resource, an API scope to the one audience defining it; an ambiguous or undefined one is dropped', async () => {
    const all = loadMigrations();
    await migrate(
      db,
      all.filter((m) => m.version < 13),
    );
    await db.exec(`
      INSERT INTO resources (identifier, scopes) VALUES
        ('https://a.example', '["read", "write"]'), ('https://b.example', '["read"]'), ('https://c.example', '["admin"]');
      INSERT INTO clients (client_id, metadata) VALUES
        ('both', '{"audiences": ["https://a.example", "https://b.example"]}'),
        ('only-b', '{"audiences": ["https://b.example"]}');
      INSERT INTO users (id, username, password_hash) VALUES ('u1', 'u1', 'x');
      INSERT INTO consents (user_id, client_id, scopes) VALUES
        ('u1', 'both', '["openid", "profile", "read", "write", "admin"]'),
        ('u1', 'only-b', '["openid", "read"]'),
        ('u1', 'gone', '["openid", "read"]');
    `);
    assert.deepEqual(
      (await migrate(db, all)).filter((n) => n.startsWith('013')),
      ['013_consent_per_resource'],
    );
    const rows = await db.query<{ client_id: string; resource: string; scopes: string[] }>(
      'SELECT client_id, resource, scopes FROM consents ORDER BY client_id, resource',
    );
    const sorted = rows.rows.map((r) => ({ ...r, scopes: [...r.scopes].sort() }));
    assert.deepEqual(sorted, [
      // "read" is defined by both of its audiences: which one the person meant is unknown, so it is asked again.
      { client_id: 'both', resource: '', scopes: ['openid', 'profile'] },
      { client_id: 'both', resource: 'https://a.example', scopes: ['write'] },
      { client_id: 'gone', resource: '', scopes: ['openid'] },
      { client_id: 'only-b', resource: '', scopes: ['openid'] },
      { client_id: 'only-b', resource: 'https://b.example', scopes: ['read'] },
    ]);
  });
});
