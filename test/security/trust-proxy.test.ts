import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { API, SECRET, clientKeyPair, standardBootstrap } from '../helpers/fixtures.js';
import { basic, postForm, startServer, type TestServer } from '../helpers/server.js';

/**
 * Behind a proxy, the client address is the one the proxy appended to X-Forwarded-For, never what
 * the client wrote there itself. Observable through the per-client-and-address limit on failed
 * client authentications: a client that writes a new address into X-Forwarded-For on every
 * request must not escape it.
 */
for (const trustProxy of ['1', '127.0.0.1']) {
  describe(`TRUST_PROXY=${trustProxy}: a client-written X-Forwarded-For entry is not the client address`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer({
        bootstrap: standardBootstrap((await clientKeyPair()).publicJwk),
        env: { TRUST_PROXY: trustProxy, AUTH_FAILURE_LIMIT: '2' },
      });
    });
    after(() => server.close());

    // The proxy (this test, on 127.0.0.1) appends the address it saw after what the client sent.
    const token = (secret: string, spoofed: string, realClient: string) =>
      postForm(
        `${server.url}/token`,
        { grant_type: 'client_credentials', resource: API },
        { authorization: basic('svc-basic', secret), 'x-forwarded-for': `${spoofed}, ${realClient}` },
      );

    it('failures from one real address are counted together, whatever the client wrote', async () => {
      assert.equal((await token('wrong-secret-wrong-secret-wrong-secret', '10.9.9.1', '203.0.113.7')).status, 401);
      assert.equal((await token('wrong-secret-wrong-secret-wrong-secret', '10.9.9.2', '203.0.113.7')).status, 401);
      const limited = await token(SECRET, '10.9.9.3', '203.0.113.7');
      assert.equal(limited.status, 429, 'a new spoofed address does not reset the limit');
      // Another real client (another address appended by the proxy) is not affected.
      assert.equal((await token(SECRET, '10.9.9.3', '203.0.113.8')).status, 200);
    });
  });
}
