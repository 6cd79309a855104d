import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Connections that never finish a request, or sit idle, are closed within the configured bounds
 * (small here; the defaults are in README "Configuration"). Each test waits for the server to
 * close the socket, up to a bound that is the setting plus Node's one-second check and slack.
 */

/** A raw connection: what the server wrote, and when it closed the socket. */
function connect(base: string) {
  const url = new URL(base);
  const sock = net.connect(Number(url.port), url.hostname);
  const started = performance.now();
  let raw = '';
  sock.on('data', (d: Buffer) => (raw += d.toString('latin1')));
  sock.on('error', () => {});
  const closed = new Promise<number>((resolve) => sock.on('close', () => resolve((performance.now() - started) / 1000)));
  return {
    write: (s: string) => sock.write(s),
    raw: () => raw,
    /** Seconds from connecting until the server closed the socket, or undefined if it is still open after `bound`. */
    closedWithin: async (bound: number): Promise<number | undefined> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), bound * 1000)));
      const result = await Promise.race([closed, timeout]);
      clearTimeout(timer);
      if (result === undefined) sock.destroy();
      return result;
    },
    /** Resolves once the server has written something matching `re`. */
    waitFor: async (re: RegExp, seconds: number) => {
      const until = performance.now() + seconds * 1000;
      while (!re.test(raw)) {
        if (performance.now() > until) throw new Error(`no ${re} within ${seconds} s; got ${JSON.stringify(raw)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

const statusOf = (raw: string) => /^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1];

describe('no request may hold a socket forever', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      env: { HEADERS_TIMEOUT: '1', REQUEST_TIMEOUT: '2', KEEP_ALIVE_TIMEOUT: '1', CONNECTION_TIMEOUT: '3', MAX_REQUESTS_PER_SOCKET: '2' },
    });
  });
  after(() => server.close());

  it('a body that never completes: 408 and closed within REQUEST_TIMEOUT', async () => {
    const c = connect(server.url);
    c.write(
      'POST /token HTTP/1.1\r\nHost: latchkey\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=cli',
    );
    const seconds = await c.closedWithin(2 + 1 + 3);
    assert.notEqual(seconds, undefined, 'the server still holds the socket');
    assert.equal(statusOf(c.raw()), '408', c.raw());
    assert.match(c.raw(), /"error":"invalid_request","error_description":"the request did not arrive completely within 2 s/);
  });

  it('headers that never complete (slowloris): 408 and closed within HEADERS_TIMEOUT', async () => {
    const c = connect(server.url);
    c.write('GET /jwks HTTP/1.1\r\nHost: latchkey\r\nX-Slow: ');
    const seconds = await c.closedWithin(1 + 1 + 3);
    assert.notEqual(seconds, undefined, 'the server still holds the socket');
    assert.ok(seconds! < 2 + 1, `closed after ${seconds} s, before REQUEST_TIMEOUT would have`);
    assert.equal(statusOf(c.raw()), '408', c.raw());
  });

  it('an idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT', async () => {
    const c = connect(server.url);
    c.write('GET /healthz HTTP/1.1\r\nHost: latchkey\r\n\r\n');
    await c.waitFor(/\r\n\r\n\{"status":"ok"\}/, 5);
    assert.notEqual(await c.closedWithin(1 + 1 + 3), undefined, 'the idle connection is still open');
  });

  it('a connection serves MAX_REQUESTS_PER_SOCKET requests, then closes', async () => {
    const c = connect(server.url);
    c.write('GET /healthz HTTP/1.1\r\nHost: latchkey\r\n\r\n');
    await c.waitFor(/\{"status":"ok"\}/, 5);
    assert.doesNotMatch(c.raw(), /connection: close/i);
    c.write('GET /healthz HTTP/1.1\r\nHost: latchkey\r\n\r\n');
    await c.waitFor(/\{"status":"ok"\}[\s\S]*\{"status":"ok"\}/, 5);
    assert.match(c.raw().slice(c.raw().indexOf('{"status":"ok"}')), /connection: close/i, 'the second answer says the connection ends');
    assert.notEqual(await c.closedWithin(3), undefined);
  });
});
