import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, freshDatabaseEnv } from '../helpers/server.js';
import { startProcess, stopProcess } from '../helpers/process.js';

/** The process's failure: exactly one `latchkey: …` line (besides any log lines), no stack trace. */
function failureLine(output: string): string {
  assert.doesNotMatch(output, /\n\s+at .+:\d+/, `a stack trace:\n${output}`);
  const lines = output.trimEnd().split('\n');
  const failure = lines.filter((l) => l.startsWith('latchkey: '));
  assert.equal(failure.length, 1, output);
  assert.doesNotMatch(output, /Latchkey listening/, 'it never said it was ready');
  return failure[0]!;
}

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

describe('start-up failures are one line naming the setting and what to do', () => {
  let db: Awaited<ReturnType<typeof freshDatabaseEnv>>;
  let dir: string;
  before(async () => {
    db = await freshDatabaseEnv();
    dir = mkdtempSync(join(tmpdir(), 'latchkey-startup-'));
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('TRUST_PROXY=maybe and TRUST_PROXY=true: exit 78, the variable and what to use instead', async () => {
    for (const value of ['maybe', 'true']) {
      const p = startProcess({ TRUST_PROXY: value });
      assert.equal(await p.exited, 78);
      const line = failureLine(p.output());
      assert.match(line, /TRUST_PROXY/);
      assert.match(line, /e\.g\. TRUST_PROXY=1|a number of proxy hops \(e\.g\. 1\)/);
    }
  });

  it('a port already in use names PORT and HOST (or METRICS_PORT and METRICS_HOST)', async () => {
    const taken = await freePort();
    const blocker = await listenOn(taken);
    try {
      const main = startProcess({ ...db.env, PORT: String(taken) });
      assert.equal(await main.exited, 1);
      assert.match(
        failureLine(main.output()),
        new RegExp(
          `^latchkey: PORT=${taken} on HOST=127\\.0\\.0\\.1: the port is already in use; stop the process listening there, or set PORT to a free port$`,
        ),
      );
      const metrics = startProcess({ ...db.env, PORT: String(await freePort()), METRICS_PORT: String(taken) });
      assert.equal(await metrics.exited, 1);
      assert.match(
        failureLine(metrics.output()),
        new RegExp(`^latchkey: METRICS_PORT=${taken} on METRICS_HOST=127\\.0\\.0\\.1: the port is already in use`),
      );
    } finally {
      blocker.close();
    }
  });

  it('a bootstrap file that trusts our own issuer is refused, naming the field', async () => {
    const port = await freePort();
    const file = join(dir, 'own-issuer.json');
    const own = { issuer: `http://localhost:${port}`, jwks: { keys: [] }, allow_any_subject: true, client_ids: ['x'] };
    writeFileSync(file, JSON.stringify({ trusted_issuers: [own] }), { mode: 0o600 });
    const p = startProcess({ ...db.env, PORT: String(port), LATCHKEY_BOOTSTRAP: file });
    assert.equal(await p.exited, 1);
    assert.match(failureLine(p.output()), /trusted_issuers\[0\]\.issuer: http:\/\/localhost:\d+ is this server's own issuer/);
  });

  it(
    'a shared DATA_DIR (sticky bit) is refused naming DATA_DIR',
    { skip: !!process.env.DATABASE_URL && 'embedded mode only' },
    async () => {
      const sticky = mkdtempSync(join(dir, 'sticky-'));
      chmodSync(sticky, 0o1777);
      const p = startProcess({ DATA_DIR: sticky, PORT: String(await freePort()) });
      assert.equal(await p.exited, 1);
      assert.match(failureLine(p.output()), /^latchkey: DATA_DIR .* is a shared directory \(sticky bit, like \/tmp\)/);
    },
  );
});

describe('a started server: bootstrap file warning, METRICS_PORT listener', () => {
  it('warns about a bootstrap file others may read, serves /metrics on METRICS_PORT only, drains on SIGTERM', async () => {
    const db = await freshDatabaseEnv();
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-metrics-'));
    try {
      const file = join(dir, 'bootstrap.json');
      writeFileSync(file, JSON.stringify({ resources: [{ identifier: 'https://api.example.com', scopes: ['api:read'] }] }));
      chmodSync(file, 0o644);
      const [port, metricsPort] = [await freePort(), await freePort()];
      const p = startProcess({ ...db.env, PORT: String(port), METRICS_PORT: String(metricsPort), LATCHKEY_BOOTSTRAP: file });
      await p.waitFor(/listening.*metrics on/);
      assert.match(
        p.output(),
        /bootstrap file .* is open to other users \(mode 0644\) and holds client secrets and passwords: chmod 600 it/,
      );
      assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 404);
      const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      assert.equal(scrape.status, 200);
      assert.match(await scrape.text(), /latchkey_http_requests_total\{route="\/metrics",method="GET",status="404"\}/);
      assert.equal(await stopProcess(p), 0, p.output());
    } finally {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
