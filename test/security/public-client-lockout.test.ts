import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postForm, startServer, type TestServer } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * A public client has no secret to guess (RFC 6749 §2.1, §10.1): bogus client_secrets sent with
 * its client_id are refused, but they must not trip the client-authentication failure limit and
 * lock the client's real, secret-less requests out.
 */
describe('public clients cannot be locked out with bogus secrets', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({
      env: { AUTH_FAILURE_LIMIT: '10' },
      bootstrap: {
        clients: [{ client_id: 'tv', token_endpoint_auth_method: 'none', grant_types: [DEVICE_GRANT], scope: 'openid' }],
      },
    });
  });
  after(() => server.close());

  it('50 bad secrets for a public client, then its device authorization and polling still work', async () => {
    for (let i = 0; i < 25; i++) {
      const post = await postForm(`${server.url}/token`, {
        grant_type: DEVICE_GRANT,
        device_code: 'x',
        client_id: 'tv',
        client_secret: `guess-${i}`,
      });
      assert.equal(post.status, 401);
      assert.equal(post.body.error, 'invalid_client');
      const basic = await postForm(
        `${server.url}/device_authorization`,
        { scope: 'openid' },
        { authorization: basicAuth('tv', `guess-${i}`) },
      );
      assert.equal(basic.status, 401);
    }
    const started = await postForm(`${server.url}/device_authorization`, { client_id: 'tv', scope: 'openid' });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const poll = await postForm(`${server.url}/token`, {
      grant_type: DEVICE_GRANT,
      device_code: started.body.device_code,
      client_id: 'tv',
    });
    assert.equal(poll.status, 400);
    assert.equal(poll.body.error, 'authorization_pending');
  });
});
