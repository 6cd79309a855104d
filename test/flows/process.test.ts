import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { API, SECRET } from '../helpers/fixtures.js';
import { freshDatabaseEnv, postForm } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';
import { freePort } from '../support/ports.js';
import { startProcess } from '../helpers/process.js';

/**
 * POST /token client_credentials with `Expect: 100-continue`: `accepted` resolves when the server
 * has read the request line and headers (it answers 100 Continue); `finish()` sends the body and
 * resolves with the answer, or rejects when the connection is cut.
 */
function heldTokenRequest(port: number, authorization: string) {
  const body = 'grant_type=client_credentials';
  const req = http.request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/token',
    agent: false,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': Buffer.byteLength(body),
      authorization,
      expect: '100-continue',
    },
  });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  const accepted = new Promise<void>((resolve, reject) => {
    req.once('continue', resolve);
    req.once('error', reject);
  });
  req.flushHeaders();
  return {
    accepted,
    finish: () => {
      req.end(body);
      return answer;
    },
  };
}

describe('the server process', () => {
  let port: number;
  let db: Awaited<ReturnType<typeof freshDatabaseEnv>>;
  let dir: string;
  let proc: ReturnType<typeof startProcess>;
  let child: ChildProcess;

  before(async () => {
    port = await freePort();
    db = await freshDatabaseEnv();
    dir = mkdtempSync(join(tmpdir(), 'latchkey-proc-'));
    const bootstrap = join(dir, 'bootstrap.json');
    writeFileSync(
      bootstrap,
      JSON.stringify({
        resources: [{ identifier: API, scopes: ['api:read'] }],
        clients: [{ client_id: 'svc', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'api:read', audiences: [API] }],
      }),
    );
    proc = startProcess({ PORT: String(port), LATCHKEY_BOOTSTRAP: bootstrap, ...db.env });
    child = proc.child;
    await proc.waitFor(/listening/);
  });
  after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs one line containing "listening" and the base URL', () => {
    assert.match(proc.output(), new RegExp(`listening[^\\n]*http://127\\.0\\.0\\.1:${port}`));
  });

  it('applies LATCHKEY_BOOTSTRAP and serves tokens', async () => {
    const res = await postForm(
      `http://127.0.0.1:${port}/token`,
      { grant_type: 'client_credentials' },
      { authorization: basicAuth('svc', SECRET) },
    );
    assert.equal(res.status, 200);
  });

  it(
    'generates the embedded-mode secret with mode 0600 and warns about it',
    { skip: !!process.env.DATABASE_URL && 'embedded mode only' },
    () => {
      const mode = statSync(join(db.env.DATA_DIR!, 'secret')).mode & 0o777;
      assert.equal(mode, 0o600);
      assert.match(proc.output(), /LATCHKEY_SECRET is not set/);
    },
  );

  it('never logs secrets or tokens', async () => {
    const tokenLines = (out: string) => (out.match(/"path":"\/token"/g) ?? []).length;
    const before = tokenLines(proc.output());
    const res = await postForm(
      `http://127.0.0.1:${port}/token`,
      { grant_type: 'client_credentials' },
      { authorization: basicAuth('svc', SECRET) },
    );
    await postForm(`http://127.0.0.1:${port}/token`, { grant_type: 'client_credentials', client_id: 'svc', client_secret: SECRET });
    // Both requests are logged: wait for their lines, not for a while.
    await proc.waitFor((out) => tokenLines(out) >= before + 2);
    const out = proc.output();
    assert.ok(!out.includes(SECRET));
    assert.ok(!out.includes(res.body.access_token));
    assert.ok(!out.includes(basicAuth('svc', SECRET).slice(6)));
    assert.match(out, /"path":"\/token"/, 'requests are logged');
  });

  it('SIGTERM drains: every request already accepted completes with its real answer; then the process exits 0', async () => {
    // Each request is accepted for certain before the signal: the server has read its headers and
    // answered 100 Continue; its body is sent only once shutdown has begun.
    const held = Array.from({ length: 20 }, () => heldTokenRequest(port, basicAuth('svc', SECRET)));
    await Promise.all(held.map((h) => h.accepted));
    child.kill('SIGTERM');
    await proc.waitFor(/shutting down: draining in-flight requests/);
    // A request that arrives now may be refused (no new connections) or answered 503, never served.
    const late = await postForm(
      `http://127.0.0.1:${port}/token`,
      { grant_type: 'client_credentials' },
      { authorization: basicAuth('svc', SECRET) },
    ).then(
      (r) => r.status,
      (err: unknown) => (err as Error).name,
    );
    assert.ok(late === 503 || late === 'TypeError', `a request after shutdown began got ${String(late)}`);
    // Every accepted request is a failure of the drain unless it gets its token: no reset, no 503.
    const answers = await Promise.allSettled(held.map((h) => h.finish()));
    for (const a of answers) {
      assert.equal(a.status, 'fulfilled', `an accepted request was cut off: ${a.status === 'rejected' ? String(a.reason) : ''}`);
      assert.equal(a.value.status, 200, a.value.body);
      assert.ok(JSON.parse(a.value.body).access_token, a.value.body);
    }
    assert.equal(await proc.exited, 0, proc.output());
  });
});

describe('start-up failures are one clear line', () => {
  it('a bad setting names the variable and stops the server', async () => {
    const p = startProcess({ PORT: 'eighty' });
    const code = await p.exited;
    assert.notEqual(code, 0);
    assert.match(p.output(), /PORT/);
    assert.doesNotMatch(p.output(), /at .*\.(?:ts|js):\d+/, 'no stack trace');
  });

  it('a bad bootstrap file names the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-bad-'));
    const db = await freshDatabaseEnv();
    try {
      const file = join(dir, 'b.json');
      writeFileSync(
        file,
        JSON.stringify({ clients: [{ client_id: 'x', client_secret: 'short', redirect_uris: ['https://a.example/cb'] }] }),
      );
      const p = startProcess({ ...db.env, PORT: String(await freePort()), LATCHKEY_BOOTSTRAP: file });
      const code = await p.exited;
      assert.notEqual(code, 0);
      assert.match(p.output(), /clients\[0\]\.client_secret: client_secret must be at least 32 characters/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    }
  });

  it(
    'a second server on the same embedded database says so instead of hanging',
    { skip: !!process.env.DATABASE_URL && 'embedded mode only' },
    async () => {
      // An empty directory: the first server also shows a first start from nothing (initdb) works.
      const dir = mkdtempSync(join(tmpdir(), 'latchkey-busy-'));
      const first = startProcess({ DATA_DIR: dir, PORT: String(await freePort()) });
      try {
        await first.waitFor(/listening/);
        const second = startProcess({ DATA_DIR: dir, PORT: String(await freePort()) });
        const code = await second.exited;
        assert.notEqual(code, 0);
        assert.match(second.output(), /in use by a running Latchkey process/);
      } finally {
        first.child.kill('SIGTERM');
        await first.exited;
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
