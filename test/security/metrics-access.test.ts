import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildMetricsServer } from '../../src/metrics-server.js';
import { freePort, startServer, type TestServer } from '../helpers/server.js';

const TOKEN = 'metrics-token-metrics-token-0123456789';

describe('/metrics is not public', () => {
  let plain: TestServer;
  let withToken: TestServer;
  before(async () => {
    plain = await startServer();
    withToken = await startServer({ env: { METRICS_TOKEN: TOKEN } });
  });
  after(async () => {
    await plain.close();
    await withToken.close();
  });

  it('on the main port it does not exist without METRICS_TOKEN', async () => {
    for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }]) {
      const res = await fetch(`${plain.url}/metrics`, { headers });
      assert.equal(res.status, 404);
      const body = (await res.json()) as { error: string };
      assert.equal(body.error, 'invalid_request');
      assert.doesNotMatch(JSON.stringify(body), /latchkey_/);
    }
  });

  it('with METRICS_TOKEN it answers only its bearer (RFC 6750 challenge otherwise)', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-wrong-token-wrong-token-00', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const res = await fetch(`${withToken.url}/metrics`, { headers: authorization ? { authorization } : {} });
      assert.equal(res.status, 401, String(authorization));
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /);
      assert.doesNotMatch(await res.text(), /latchkey_http/);
    }
    const ok = await fetch(`${withToken.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /latchkey_http_requests_total/);
  });

  it('the METRICS_PORT listener serves /metrics alone', async () => {
    const metrics = buildMetricsServer(plain.ctx);
    const port = await freePort();
    await metrics.listen({ port, host: '127.0.0.1' });
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /latchkey_process_cpu_seconds_total|latchkey_http_requests_total/);
      for (const path of ['/token', '/jwks', '/metrics/../jwks']) {
        const other = await fetch(`http://127.0.0.1:${port}${path}`);
        assert.equal(other.status, 404, path);
        assert.equal(((await other.json()) as { error: string }).error, 'invalid_request');
      }
    } finally {
      await metrics.close();
    }
  });
});
