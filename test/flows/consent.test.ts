import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { collectSecurityEvents } from '../../src/observability/security-events.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { formAction, hiddenField } from '../support/html-form.js';
import { UserAgent } from '../support/user-agent.js';

const ORDERS = 'https://orders.example.com';
const BILLING = 'https://billing.example.com';
const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'web-secret-web-secret-web-secret-0123';
const PASSWORD = 'correct horse battery staple';

describe('consent', () => {
  let server: TestServer;
  let web: oidc.Configuration;
  const events = collectSecurityEvents();

  before(async () => {
    server = await startServer({
      events,
      bootstrap: {
        resources: [
          { identifier: ORDERS, scopes: ['read', 'write'] },
          { identifier: BILLING, scopes: ['read'] },
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
        ],
        users: [
          { username: 'alice', password: PASSWORD, claims: { name: 'Alice Example' } },
          { username: 'bob', password: PASSWORD, claims: { name: 'Bob' } },
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

  it('granting consent on the page emits consent.granted naming the user, the client, the scopes and the resource', async () => {
    const ua = new UserAgent();
    const a = await authUrl({ scope: 'openid write', resource: ORDERS });
    const { html } = await toConsent(ua, a.url, 'alice');
    const seen = events.events.length;
    const cb = await allow(ua, html!);
    assert.ok(cb.searchParams.get('code'));
    const granted = events.events.slice(seen).filter((e) => e.type === 'consent.granted');
    assert.equal(granted.length, 1);
    const e = granted[0]!;
    assert.equal(e.clientId, 'web');
    assert.equal(typeof e.userId, 'string');
    assert.ok(e.details);
    assert.deepEqual(e.details.scopes, ['openid', 'write']);
    assert.deepEqual(e.details.resources, [ORDERS]);
    assert.ok(!JSON.stringify(e).includes(cb.searchParams.get('code')!), 'no code in the event');
  });
});
