import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { API, SECRET } from '../helpers/fixtures.js';
import { startProcess, stopProcess, type LatchkeyProcess } from '../helpers/process.js';
import { freshDatabaseEnv, postForm } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';
import { freePort } from '../support/ports.js';

const STACK = /\n\s+at .+:\d+:\d+/;
const METRICS_TOKEN = 'workers-metrics-token-workers-metrics-0123';

/** The log lines (pino JSON) of a process, parsed; other output is skipped. */
function logLines(p: LatchkeyProcess): Record<string, unknown>[] {
  return p
    .output()
    .split('\n')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** Each worker's pid, by slot, from the line its server logs when it accepts connections. */
function workerPids(p: LatchkeyProcess): Map<number, number> {
  const pids = new Map<number, number>();
  for (const l of logLines(p)) {
    if (typeof l.worker === 'number' && /accepting connections/.test(String(l.msg))) pids.set(l.worker, l.pid as number);
  }
  return pids;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe(
  'WORKERS: one process, node:cluster workers sharing the port, on PostgreSQL',
  { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL: WORKERS > 1 needs PostgreSQL' },
  () => {
    let db: Awaited<ReturnType<typeof freshDatabaseEnv>>;
    let dir: string;
    let proc: LatchkeyProcess;
    let url: string;
    let metricsPort: number;
    const env = () => ({ ...db.env, LATCHKEY_BOOTSTRAP: join(dir, 'bootstrap.json'), LOG_LEVEL: 'info' });

    before(async () => {
      db = await freshDatabaseEnv();
      dir = mkdtempSync(join(tmpdir(), 'latchkey-workers-'));
      writeFileSync(
        join(dir, 'bootstrap.json'),
        JSON.stringify({
          resources: [{ identifier: API, scopes: ['api:read'] }],
          clients: [{ client_id: 'svc', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'api:read', audiences: [API] }],
        }),
        { mode: 0o600 },
      );
      const port = await freePort();
      metricsPort = await freePort();
      url = `http://127.0.0.1:${port}`;
      proc = startProcess({ ...env(), PORT: String(port), METRICS_PORT: String(metricsPort), METRICS_TOKEN, WORKERS: '3' });
      await proc.waitFor(/listening/);
    });

    after(async () => {
      await stopProcess(proc, 'SIGKILL');
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    const token = () => postForm(`${url}/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth('svc', SECRET) });

    it('one `listening` line, said by the primary once every worker accepts connections', () => {
      const lines = logLines(proc);
      const listening = lines.filter((l) => /listening/.test(String(l.msg)));
      assert.equal(listening.length, 1, proc.output());
      assert.equal(listening[0]!.workers, 3);
      assert.equal(listening[0]!.worker, undefined, 'said by the primary');
      assert.match(
        String(listening[0]!.msg),
        new RegExp(`^Latchkey listening on ${url} .*metrics on http://127\\.0\\.0\\.1:${metricsPort}/metrics`),
      );
      assert.equal(workerPids(proc).size, 3);
      // Migrations, keys and the bootstrap file: once, by the primary, before any worker existed.
      for (const msg of ['applied migrations', 'generated signing keys', 'applied bootstrap file']) {
        const by = lines.filter((l) => l.msg === msg);
        assert.equal(by.length, 1, msg);
        assert.equal(by[0]!.worker, undefined, `${msg}: by the primary`);
      }
      assert.ok(
        lines.indexOf(listening[0]!) > Math.max(...lines.flatMap((l, i) => (/accepting connections/.test(String(l.msg)) ? [i] : []))),
      );
    });

    it('METRICS_PORT, served by the primary, and /metrics on the main port count every worker’s requests', async () => {
      const scrape = async (base = `http://127.0.0.1:${metricsPort}`) =>
        await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
      const issued = (text: string) =>
        Number(/^latchkey_tokens_issued_total\{grant_type="client_credentials"\} (\d+)/m.exec(text)?.[1] ?? 0);
      const before = issued(await scrape());
      // Concurrent requests open connections of their own, which the cluster spreads over its workers.
      const results = await Promise.all(Array.from({ length: 30 }, token));
      assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
      const text = await scrape();
      assert.equal(issued(text) - before, 30);
      assert.match(text, /^latchkey_process_cpu_seconds_total /m);
      // The main port's /metrics, answered by whichever worker, is the same sum (asked of the primary).
      for (let i = 0; i < 3; i++) assert.equal(issued(await scrape(url)) - before, 30);
    });

    it('a worker that dies is restarted, and requests keep succeeding', async () => {
      const pids = workerPids(proc);
      const victim = pids.get(1)!;
      process.kill(victim, 'SIGKILL');
      await proc.waitFor(/"worker":1[^\n]*exited with signal SIGKILL: restarting it/);
      // The others serve meanwhile (the cluster hands new connections only to live workers).
      const during = await Promise.all(Array.from({ length: 12 }, token));
      assert.deepEqual(new Set(during.map((r) => r.status)), new Set([200]));
      await proc.waitFor(/worker restarted and listening/);
      const replacement = workerPids(proc).get(1)!;
      assert.notEqual(replacement, victim);
      assert.ok(alive(replacement));
      assert.ok(!alive(victim));
      const afterwards = await Promise.all(Array.from({ length: 12 }, token));
      assert.deepEqual(new Set(afterwards.map((r) => r.status)), new Set([200]));
      assert.equal(logLines(proc).filter((l) => /listening/.test(String(l.msg)) && !/restarted/.test(String(l.msg))).length, 1);
    });

    it('a port in use: one line naming PORT, however many workers failed alike; exit 1', async () => {
      const busy = createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
      const port = (busy.address() as { port: number }).port;
      try {
        const p = startProcess({ ...env(), PORT: String(port), WORKERS: '2' });
        assert.equal(await p.exited, 1);
        await p.waitFor(() => true);
        const lines = p
          .output()
          .split('\n')
          .filter((l) => l.startsWith('latchkey:'));
        assert.deepEqual(lines, [
          `latchkey: PORT=${port} on HOST=127.0.0.1: the port is already in use; stop the process listening there, or set PORT to a free port`,
        ]);
        assert.doesNotMatch(p.output(), STACK);
        assert.doesNotMatch(p.output(), /Latchkey listening/);
      } finally {
        busy.close();
      }
    });

    it('SIGTERM to the primary drains every worker: a request in flight completes, then exit 0', async () => {
      const pids = [...workerPids(proc).values()];
      // A request whose body is still arriving when SIGTERM comes: in flight at one worker.
      const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'api:read' }).toString();
      const half = Math.floor(body.length / 2);
      const req = http.request(`${url}/token`, {
        method: 'POST',
        agent: false,
        headers: {
          authorization: basicAuth('svc', SECRET),
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(body.length),
        },
      });
      const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
      });
      req.flushHeaders();
      req.write(body.slice(0, half));
      // Let the connection reach its worker before the signal.
      await new Promise((r) => setTimeout(r, 300));
      proc.child.kill('SIGTERM');
      await proc.waitFor(/shutting down: draining every worker/);
      // The workers with nothing in flight stop; the one holding the request waits for it.
      await proc.waitFor((out) => (out.match(/"msg":"stopped"/g) ?? []).length >= pids.length - 1);
      assert.equal(proc.child.exitCode, null, 'still draining');
      req.end(body.slice(half));
      const res = await answered;
      assert.equal(res.status, 200, res.body);
      assert.equal(typeof (JSON.parse(res.body) as { access_token?: unknown }).access_token, 'string');
      assert.equal(await proc.exited, 0);
      for (const pid of pids) assert.ok(!alive(pid), `worker ${pid} is gone`);
      // Every worker and then the primary said "stopped".
      assert.equal((proc.output().match(/"msg":"stopped"/g) ?? []).length, pids.length + 1);
    });
  },
);

describe(
  'WORKERS: a worker that keeps dying at start-up stops the service',
  { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL: WORKERS > 1 needs PostgreSQL' },
  () => {
    it('restarted with growing waits, then given up on: its error, exit non-zero, the others drained', async () => {
      const db = await freshDatabaseEnv();
      const name = new URL(db.env.DATABASE_URL!).pathname.slice(1);
      const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await admin.connect();
      let proc: LatchkeyProcess | undefined;
      try {
        proc = startProcess({ ...db.env, PORT: String(await freePort()), WORKERS: '2', LOG_LEVEL: 'info' });
        await proc.waitFor(/listening/);
        const pids = workerPids(proc);
        // From now on no new connection to the database is allowed: a restarted worker cannot start.
        await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
        process.kill(pids.get(1)!, 'SIGKILL');
        assert.equal(await proc.exited, 1);
        const out = proc.output();
        // Killed: restarted (at once if it had run 10 s, which a slow start under load may take).
        assert.match(out, /"worker":1[^\n]*exited with signal SIGKILL: restarting it/);
        // Then each start fails: waits of 0.5, 1, 2 s, and the fourth failure in a row ends it.
        const waits = logLines(proc).flatMap((l) =>
          l.worker === 1 && l.exitCode === 1 && typeof l.restartInMs === 'number' ? [l.restartInMs] : [],
        );
        assert.deepEqual(waits.slice(-3), [500, 1000, 2000].slice(3 - Math.min(3, waits.length)));
        assert.ok(waits.length >= 2, JSON.stringify(waits));
        assert.ok(logLines(proc).some((l) => l.level === 60 && l.worker === 1 && /keeps dying/.test(String(l.msg))));
        assert.match(out, /\nlatchkey: worker 1 keeps dying within seconds of starting: .*not currently accepting connections/);
        assert.ok(!alive(pids.get(0)!), 'the other worker was stopped too');
      } finally {
        if (proc) await stopProcess(proc, 'SIGKILL');
        await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => {});
        await admin.end();
        await db.drop();
      }
    });
  },
);

describe('WORKERS on the embedded database', () => {
  it('WORKERS=2 without DATABASE_URL: one line naming the setting, exit 78', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-workers-pglite-'));
    try {
      const p = startProcess({ DATA_DIR: dir, PORT: String(await freePort()), WORKERS: '2' });
      assert.equal(await p.exited, 78);
      await p.waitFor(() => true);
      assert.match(p.output(), /^latchkey: invalid configuration: WORKERS=2 needs DATABASE_URL: the embedded database serves one process/);
      assert.equal(p.output().trim().split('\n').length, 1);
      assert.doesNotMatch(p.output(), STACK);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
