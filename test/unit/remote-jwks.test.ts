import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { errors, exportJWK, generateKeyPair, type FlattenedJWSInput } from 'jose';
import { systemClock } from '../../src/clock.js';
import { RemoteJwksCache } from '../../src/keys/remote-jwks.js';

const token: FlattenedJWSInput = { payload: '', signature: '' };
const unreadable = (err: Error) => new Error(`unreadable: ${err.message}`);

describe('RemoteJwksCache (jose createRemoteJWKSet with our fetch)', () => {
  let server: http.Server;
  let base: string;
  let hits = 0;
  let body = '';

  before(async () => {
    const { publicKey } = await generateKeyPair('ES256');
    body = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] });
    server = http.createServer((req, res) => {
      hits++;
      res.setHeader('content-type', 'application/json');
      res.end(req.url === '/big' ? JSON.stringify({ keys: [], pad: 'x'.repeat(300 * 1024) }) : body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('refuses a jwks_uri on a private address unless allowed (SSRF), as an unreadable-JWKS error', async () => {
    const before = hits;
    const keys = new RemoteJwksCache(systemClock, false).keys(`${base}/jwks`, unreadable);
    await assert.rejects(async () => keys({ alg: 'ES256', kid: 'k1' }, token), /^Error: unreadable: .*private address/);
    assert.equal(hits, before, 'the request was never sent');
  });

  it('fetches a jwks_uri once; an unknown kid within the 30 s cooldown does not refetch', async () => {
    const cache = new RemoteJwksCache(systemClock, true);
    const before = hits;
    const key = await cache.keys(`${base}/jwks`, unreadable)({ alg: 'ES256', kid: 'k1' }, token);
    assert.equal((key as { type?: unknown }).type, 'public');
    await cache.keys(`${base}/jwks`, unreadable)({ alg: 'ES256', kid: 'k1' }, token);
    await assert.rejects(
      async () => cache.keys(`${base}/jwks`, unreadable)({ alg: 'ES256', kid: 'other' }, token),
      errors.JWKSNoMatchingKey,
    );
    assert.equal(hits - before, 1);
  });

  it('refuses a JWKS larger than 256 KiB', async () => {
    const keys = new RemoteJwksCache(systemClock, true).keys(`${base}/big`, unreadable);
    await assert.rejects(async () => keys({ alg: 'ES256', kid: 'k1' }, token), /unreadable: .*more than 262144 bytes/);
  });
});
