import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { countRoundTrips, type RoundTripCounter } from '../helpers/pg-round-trips.js';
import { postForm, startServer, type TestServer } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';
import { formAction, hiddenField } from '../support/html-form.js';
import { UserAgent } from '../support/user-agent.js';

const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'web-secret-web-secret-web-secret-0123';
const PASSWORD = 'correct horse battery staple';

describe(
  'round trips to PostgreSQL per token request',
  { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL: counted on the PostgreSQL wire' },
  () => {
    let proxy: RoundTripCounter;
    let server: TestServer;
    let web: oidc.Configuration;

    before(async () => {
      proxy = await countRoundTrips(process.env.DATABASE_URL!);
      server = await startServer({
        databaseUrl: (url) => proxy.through(url),
        bootstrap: {
          clients: [
            {
              client_id: 'web',
              client_secret: SECRET,
              redirect_uris: [CB],
              grant_types: ['authorization_code', 'refresh_token'],
              scope: 'openid offline_access',
              skip_consent: true,
            },
          ],
          users: [{ username: 'alice', password: PASSWORD }],
        },
      });
      web = await oidc.discovery(new URL(server.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), {
        execute: [oidc.allowInsecureRequests],
      });
    });
    after(async () => {
      await server.close();
      await proxy.close();
    });

    /** Signs alice in; returns the callback URL carrying the code, and what the exchange needs. */
    async function callback(scope: string) {
      const { url, verifier, nonce, state } = await pkceAuthorizationUrl(web, CB, { scope });
      const ua = new UserAgent();
      let r = await ua.follow(await ua.get(url.toString()), server.url);
      const html = await r.text();
      r = await ua.post(formAction(html, server.url), { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') });
      assert.equal(r.status, 303);
      return { url: new URL(r.headers.get('location')!), verifier, nonce, state };
    }

    it('a code exchange (with its refresh token) and a refresh with rotation: one round trip each', async () => {
      // Twice: the first request of a kind on a connection also prepares its statement (Parse
      // travels with the same Sync, so it is the same round trip).
      for (let i = 0; i < 2; i++) {
        const cb = await callback('openid offline_access');
        proxy.reset();
        const tokens = await oidc.authorizationCodeGrant(web, cb.url, {
          pkceCodeVerifier: cb.verifier,
          expectedNonce: cb.nonce,
          expectedState: cb.state,
        });
        assert.ok(tokens.refresh_token && tokens.id_token);
        assert.deepEqual(proxy.trips, [['codes.consume']], 'the code exchange');

        proxy.reset();
        const r = await postForm(
          `${server.url}/token`,
          { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
          { authorization: basicAuth('web', SECRET) },
        );
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.ok(r.body.refresh_token && r.body.id_token);
        assert.deepEqual(proxy.trips, [['refresh_tokens.rotate']], 'the refresh');
      }
    });

    it('a code exchange without a refresh token: one round trip', async () => {
      const cb = await callback('openid');
      proxy.reset();
      const tokens = await oidc.authorizationCodeGrant(web, cb.url, {
        pkceCodeVerifier: cb.verifier,
        expectedNonce: cb.nonce,
        expectedState: cb.state,
      });
      assert.equal(tokens.refresh_token, undefined);
      assert.deepEqual(proxy.trips, [['codes.consume']]);
    });
  },
);
