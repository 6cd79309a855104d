import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * CORS (@fastify/cors) only on the API endpoints browser apps call; security headers
 * (helmet) on every response, the exact set README.md documents and nothing more.
 */
describe('CORS and security headers', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  const preflight = (path: string, method = 'POST'): Promise<Response> =>
    fetch(`${server.url}${path}`, {
      method: 'OPTIONS',
      headers: { origin: 'https://spa.example', 'access-control-request-method': method, 'access-control-request-headers': 'dpop' },
    });

  it('answers a preflight on /token: any origin, no credentials, the methods and headers it takes', async () => {
    const res = await preflight('/token');
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
    assert.equal(res.headers.get('access-control-allow-methods'), 'GET, POST');
    assert.equal(res.headers.get('access-control-allow-headers'), 'authorization, content-type, dpop');
    assert.equal(res.headers.get('access-control-max-age'), '600');
    assert.equal(res.headers.get('vary'), null, '`*` is not reflected, so caches need no Vary: Origin');
    const jwks = await preflight('/jwks', 'GET');
    assert.equal(jwks.status, 204);
    assert.equal(jwks.headers.get('access-control-allow-methods'), 'GET');
  });

  it('refuses a cross-origin preflight on the pages (/authorize, /end_session): no CORS headers', async () => {
    for (const path of ['/authorize', '/end_session']) {
      const res = await preflight(path);
      assert.equal(res.status, 405, `${path}: OPTIONS is not a method of the page`);
      assert.equal(res.headers.get('access-control-allow-origin'), null, path);
      assert.equal(res.headers.get('access-control-allow-methods'), null, path);
      assert.equal(((await res.json()) as { error?: string }).error, 'invalid_request');
    }
  });

  it('sends the documented security headers on API responses and no extra ones', async () => {
    const res = await fetch(`${server.url}/.well-known/openid-configuration`);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.match(res.headers.get('content-security-policy') ?? '', /^default-src 'none'; ?frame-ancestors 'none'$/);
    for (const extra of [
      'strict-transport-security',
      'cross-origin-resource-policy',
      'cross-origin-opener-policy',
      'x-xss-protection',
      'x-powered-by',
    ]) {
      assert.equal(res.headers.get(extra), null, `${extra} is not sent on a plain-http issuer`);
    }
  });

  it('sends Strict-Transport-Security only when the issuer is https', async () => {
    const https = await startServer({ env: { ISSUER: 'https://auth.example.com' } });
    try {
      const res = await fetch(`${https.url}/.well-known/openid-configuration`);
      assert.equal(res.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
    } finally {
      await https.close();
    }
  });
});
