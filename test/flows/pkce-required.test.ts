import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { postForm, startServer, type TestServer } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';
import { formAction, hiddenField } from '../support/html-form.js';
import { UserAgent } from '../support/user-agent.js';

const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'web-secret-web-secret-web-secret-0123';
const PASSWORD = 'correct horse battery staple';

/**
 * PKCE_REQUIRED=except-oidc-nonce (OAuth 2.1 §7.5.1): the one relaxation of "PKCE for every
 * authorization code" (§4.1.1) — an OpenID request with a nonce from a confidential client. The
 * default (always) is covered by test/flows/authorization-code.test.ts and the unit tests.
 */
describe('PKCE_REQUIRED=except-oidc-nonce', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({
      env: { PKCE_REQUIRED: 'except-oidc-nonce' },
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
          {
            client_id: 'spa',
            token_endpoint_auth_method: 'none',
            redirect_uris: [CB],
            grant_types: ['authorization_code'],
            scope: 'openid',
            skip_consent: true,
          },
        ],
        users: [{ username: 'alice', password: PASSWORD, claims: {} }],
      },
    });
  });
  after(() => server.close());

  const authorize = (params: Record<string, string>) =>
    `${server.url}/authorize?${new URLSearchParams({ redirect_uri: CB, response_type: 'code', scope: 'openid', state: 's', ...params }).toString()}`;

  /** Follows the request through the login page; returns the redirect back to the client. */
  async function signIn(url: string): Promise<URL> {
    const ua = new UserAgent();
    let r = await ua.follow(await ua.get(url), server.url);
    if (r.status < 300) {
      const html = await r.text();
      r = await ua.post(formAction(html, server.url), { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') });
    }
    assert.equal(r.status, 303);
    return new URL(r.headers.get('location')!);
  }

  const redeem = (code: string, extra: Record<string, string> = {}) =>
    postForm(
      `${server.url}/token`,
      { grant_type: 'authorization_code', code, redirect_uri: CB, ...extra },
      { authorization: basicAuth('web', SECRET) },
    );

  it('a confidential client may omit PKCE on an OpenID request with a nonce, and redeems its code without a verifier', async () => {
    const cb = await signIn(authorize({ client_id: 'web', nonce: 'n-0S6_WzA2Mj' }));
    const code = cb.searchParams.get('code');
    assert.ok(code, cb.toString());
    const r = await redeem(code);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.id_token);
  });

  it('the same client without a nonce: invalid_request naming PKCE', async () => {
    const e = (await signIn(authorize({ client_id: 'web' }))).searchParams;
    assert.equal(e.get('error'), 'invalid_request');
    assert.match(e.get('error_description')!, /PKCE is required/);
    assert.equal(e.get('code'), null);
  });

  it('a public client with a nonce: still invalid_request naming PKCE', async () => {
    const e = (await signIn(authorize({ client_id: 'spa', nonce: 'n-0S6_WzA2Mj' }))).searchParams;
    assert.equal(e.get('error'), 'invalid_request');
    assert.match(e.get('error_description')!, /public clients must use PKCE/);
  });

  it('plain stays refused', async () => {
    const e = (await signIn(authorize({ client_id: 'web', nonce: 'n', code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' })))
      .searchParams;
    assert.equal(e.get('error'), 'invalid_request');
    assert.match(e.get('error_description')!, /plain is refused/);
  });

  it('a verifier for a code issued without a challenge (the downgrade): invalid_grant', async () => {
    const code = (await signIn(authorize({ client_id: 'web', nonce: 'n' }))).searchParams.get('code')!;
    const r = await redeem(code, { code_verifier: oidc.randomPKCECodeVerifier() });
    assert.equal(r.body.error, 'invalid_grant');
    assert.match(r.body.error_description, /no code_challenge/);
  });
});
