import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { collectSecurityEvents } from '../../src/observability/security-events.js';
import { API, SECRET, clientKeyPair, standardBootstrap, type ClientKeys } from '../helpers/fixtures.js';
import { postForm, startServer, type TestServer } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';

const WRONG = 'wrong-secret-wrong-secret-wrong-secret-0';

describe('a failed client authentication is a client_auth.failure security event (identifiers only)', () => {
  const events = collectSecurityEvents();
  let server: TestServer;
  let key: ClientKeys;

  before(async () => {
    key = await clientKeyPair('ES256');
    server = await startServer({ bootstrap: standardBootstrap(key.publicJwk), events, env: { AUTH_FAILURE_LIMIT: '3' } });
  });
  after(() => server.close());

  const failures = () => events.events.filter((e) => e.type === 'client_auth.failure');
  const cc = (headers: Record<string, string>, form: Record<string, string> = {}) =>
    postForm(`${server.url}/token`, { grant_type: 'client_credentials', ...form }, headers);

  it('names the claimed client, the address, the method and why; never the secret or assertion', async () => {
    const before = failures().length;
    assert.equal((await cc({ authorization: basicAuth('svc-basic', WRONG) })).status, 401);
    assert.equal((await cc({ authorization: basicAuth('no-such-client', WRONG) })).status, 401);
    assert.equal((await cc({}, { client_id: 'svc-basic', client_secret: SECRET })).status, 401, 'registered for basic, sent post');
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({
      iss: 'svc-jwt',
      sub: 'svc-jwt',
      aud: `${server.issuer}/introspect`,
      jti: 'a-1',
      iat: now,
      exp: now + 60,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'client-key-1' })
      .sign(key.privateKey);
    const introspect = await postForm(`${server.url}/introspect`, {
      token: 'x',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    assert.equal(introspect.status, 401);

    const seen = failures().slice(before);
    assert.deepEqual(
      seen.map((e) => [e.clientId, e.ip, e.details?.method, e.details?.reason]),
      [
        ['svc-basic', '127.0.0.1', 'client_secret_basic', 'invalid_credentials'],
        ['no-such-client', '127.0.0.1', 'client_secret_basic', 'unknown_client'],
        ['svc-basic', '127.0.0.1', 'client_secret_post', 'method_mismatch'],
        ['svc-jwt', '127.0.0.1', 'private_key_jwt', 'invalid_credentials'],
      ],
    );
    const text = JSON.stringify(seen);
    assert.ok(!text.includes(WRONG) && !text.includes(SECRET) && !text.includes(assertion), 'no secret or assertion in the events');
  });

  it('a locked-out client is reported too (reason rate_limited), and a success is not', async () => {
    const wrongPost = () => cc({}, { client_id: 'svc-post', client_secret: WRONG });
    for (let i = 0; i < 3; i++) await wrongPost();
    const before = failures().length;
    const locked = await wrongPost();
    assert.equal(locked.status, 429);
    assert.deepEqual(
      failures()
        .slice(before)
        .map((e) => e.details?.reason),
      ['rate_limited'],
    );
    const ok = failures().length;
    assert.equal((await cc({ authorization: basicAuth('svc-basic', SECRET) }, { resource: API })).status, 200);
    assert.equal(failures().length, ok);
  });
});
