import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { resolveSecret } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { hashClientSecret } from '../../src/keys/secret.js';
import { loadMigrations } from '../../src/store/migrate.js';
import { openDb } from '../../src/store/open.js';

/**
 * The real `latchkey` bin, spawned as an operator would run it. One database serves the whole
 * (sequential) suite because every spawn pays for starting the embedded database.
 */

const BIN = fileURLToPath(new URL('../../bin/latchkey.mjs', import.meta.url));
const SRC = new URL('../../src/', import.meta.url).href;
const TEST_SECRET = 'cli-test-secret-cli-test-secret-0123456789';
const SPAWN_TIMEOUT_MS = 60_000;
const T = { timeout: 180_000 };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

let env: Record<string, string>;
let cwd: string;
let cleanup: () => Promise<void>;

function run(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`latchkey ${args.join(' ')} did not finish within ${SPAWN_TIMEOUT_MS} ms`));
    }, SPAWN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Succeeds and returns the parsed --json output. */
async function runJson<T = any>(args: string[]): Promise<T> {
  const r = await run([...args, '--json']);
  assert.equal(r.code, 0, `latchkey ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Fails with exactly one `latchkey: …` line on stderr, no stack trace, nothing on stdout. */
function assertOneLineFailure(r: Run, pattern: RegExp): void {
  assert.notEqual(r.code, 0, `expected failure, got exit 0: ${r.stdout}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^latchkey: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.equal(r.stdout, '');
}

/** Opens the suite's database in this process (no CLI running meanwhile: PGlite is single-process). */
async function withDb<T>(fn: (db: Awaited<ReturnType<typeof openDb>>, secrets: ReturnType<typeof resolveSecret>) => Promise<T>): Promise<T> {
  const config = loadConfig(env);
  const db = await openDb(config);
  try {
    return await fn(db, resolveSecret(config));
  } finally {
    await db.close();
  }
}

before(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'latchkey-cli-cwd-'));
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(DATABASE_URL|DATA_DIR|LATCHKEY_|ISSUER$|PORT$)/.test(k)) base[k] = v;
  }
  if (process.env.DATABASE_URL) {
    // A database of our own on that server, so counts of keys and clients are exact.
    const name = `latchkey_cli_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    env = { ...base, DATABASE_URL: url.toString(), LATCHKEY_SECRET: process.env.LATCHKEY_SECRET ?? TEST_SECRET };
    cleanup = async () => {
      const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-cli-data-'));
    env = { ...base, DATA_DIR: dir };
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
});

after(async () => {
  await cleanup?.();
  rmSync(cwd, { recursive: true, force: true });
});

describe('latchkey CLI', () => {
  it('has --help for every command and fails on usage and configuration errors in one line', T, async () => {
    const main = await run(['--help']);
    assert.equal(main.code, 0, main.stderr);
    for (const c of ['clients create', 'clients rotate-secret', 'keys rotate', 'migrate', 'import']) assert.ok(main.stdout.includes(c), c);
    for (const args of [['clients', '--help'], ['clients', 'create', '--help'], ['keys', 'rotate', '-h'], ['import', '--help'], ['help', 'migrate']]) {
      const r = await run(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /^Usage: latchkey/);
    }
    assertOneLineFailure(await run([]), /missing command/);
    assertOneLineFailure(await run(['clients', 'frobnicate']), /unknown subcommand "frobnicate"/);
    assertOneLineFailure(await run(['clients', 'list', '--bogus']), /Unknown option '--bogus'/);
    const cfg = await run(['clients', 'list'], { ACCESS_TOKEN_TTL: 'soon' });
    assertOneLineFailure(cfg, /ACCESS_TOKEN_TTL/);
    assert.equal(cfg.code, 78);
  });

  it('migrate applies the migrations once, then is up to date', T, async () => {
    const first = await runJson<{ applied: string[] }>(['migrate']);
    assert.deepEqual(first.applied, loadMigrations().map((m) => m.name));
    const second = await runJson<{ applied: string[] }>(['migrate']);
    assert.deepEqual(second.applied, []);
    const text = await run(['migrate']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /up to date/);
  });

  let serviceId: string;

  it('clients create --type service prints a 256-bit secret once and stores only its hash', T, async () => {
    const created = await runJson(['clients', 'create', '--type', 'service', '--name', 'Billing Service', '--scope', 'api:read', '--audience', 'https://api.example.com']);
    serviceId = created.client_id;
    assert.match(serviceId, /^billing-service-[0-9a-f]+$/);
    assert.match(created.client_secret, /^[A-Za-z0-9_-]{43,}$/);
    assert.deepEqual(created.grant_types, ['client_credentials']);
    assert.equal(created.token_endpoint_auth_method, 'client_secret_basic');

    const shown = await run(['clients', 'show', serviceId, '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    const view = JSON.parse(shown.stdout);
    assert.equal(view.client_id, serviceId);
    assert.equal(view.has_client_secret, true);
    assert.ok(!('client_secret' in view) && !('secret_hash' in view) && !('secretHash' in view));
    assert.ok(!shown.stdout.includes(created.client_secret));
    assert.ok(!shown.stdout.includes('hmac-sha256:'));

    await withDb(async (db, secrets) => {
      const row = (await db.query<{ secret_hash: string; all: string }>('SELECT secret_hash, row_to_json(c)::text AS all FROM clients c WHERE client_id = $1', [serviceId])).rows[0]!;
      assert.ok(!row.all.includes(created.client_secret), 'plaintext secret stored');
      assert.equal(row.secret_hash, hashClientSecret(secrets, created.client_secret));
    });
  });

  it('clients create refuses incomplete or invalid metadata before touching the database', T, async () => {
    assertOneLineFailure(await run(['clients', 'create', '--type', 'web', '--name', 'Portal']), /needs at least one --redirect-uri/);
    assertOneLineFailure(
      await run(['clients', 'create', '--type', 'web', '--name', 'Portal', '--redirect-uri', 'http://portal.example.com/cb']),
      /redirect_uris\[0\].*plain http/,
    );
    assertOneLineFailure(await run(['clients', 'create', '--type', 'kiosk', '--name', 'K']), /--type must be one of/);
    assertOneLineFailure(await run(['clients', 'create', '--type', 'spa', '--name', 'S', '--redirect-uri', 'https://s.example/cb', '--jwks-uri', 'https://s.example/jwks']), /public client/);
  });

  it('clients list, show, rotate-secret and delete', T, async () => {
    const spa = await runJson(['clients', 'create', '--type', 'spa', '--name', 'My SPA', '--redirect-uri', 'https://app.example.com/cb', '--client-id', 'my-spa']);
    assert.equal(spa.client_id, 'my-spa');
    assert.equal(spa.token_endpoint_auth_method, 'none');
    assert.ok(!('client_secret' in spa));
    assertOneLineFailure(await run(['clients', 'create', '--type', 'native', '--name', 'Dup', '--redirect-uri', 'com.example.app:/cb', '--client-id', 'my-spa']), /already exists/);

    const list = await runJson<{ client_id: string; has_client_secret: boolean }[]>(['clients', 'list']);
    assert.deepEqual(list.map((c) => c.client_id).sort(), [serviceId, 'my-spa'].sort());
    const text = await run(['clients', 'list']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /my-spa\s+none\s+authorization_code,refresh_token\s+My SPA/);

    const rotated = await runJson(['clients', 'rotate-secret', serviceId]);
    assert.match(rotated.client_secret, /^[A-Za-z0-9_-]{43,}$/);
    await withDb(async (db, secrets) => {
      const row = (await db.query<{ secret_hash: string }>('SELECT secret_hash FROM clients WHERE client_id = $1', [serviceId])).rows[0]!;
      assert.equal(row.secret_hash, hashClientSecret(secrets, rotated.client_secret));
    });
    assertOneLineFailure(await run(['clients', 'rotate-secret', 'my-spa']), /no client_secret to rotate/);

    assert.deepEqual(await runJson(['clients', 'delete', 'my-spa']), { client_id: 'my-spa', deleted: true });
    assertOneLineFailure(await run(['clients', 'show', 'my-spa']), /no client with client_id "my-spa"/);
    assertOneLineFailure(await run(['clients', 'delete', 'my-spa']), /no client with client_id "my-spa"/);
  });

  it('keys list shows one signing key per algorithm; keys rotate --delay 0 retires them', T, async () => {
    type Key = { kid: string; alg: string; status: string };
    const before = await runJson<Key[]>(['keys', 'list']);
    assert.deepEqual(before.map((k) => [k.alg, k.status]).sort(), [['ES256', 'signing'], ['RS256', 'signing']]);

    const rotated = await runJson<{ keys: { alg: string; kid: string; retired: string[] }[] }>(['keys', 'rotate', '--delay', '0']);
    assert.equal(rotated.keys.length, 2);
    for (const k of rotated.keys) assert.deepEqual(k.retired, [before.find((b) => b.alg === k.alg)!.kid]);

    const afterRotate = await runJson<Key[]>(['keys', 'list']);
    assert.equal(afterRotate.length, 4);
    for (const old of before) assert.equal(afterRotate.find((k) => k.kid === old.kid)?.status, 'retired');
    for (const k of rotated.keys) assert.equal(afterRotate.find((x) => x.kid === k.kid)?.status, 'signing');
    assertOneLineFailure(await run(['keys', 'rotate', '--alg', 'HS256']), /--alg must be one of RS256, ES256/);
  });

  it('import applies a bootstrap file idempotently', T, async () => {
    const file = join(cwd, 'bootstrap.json');
    writeFileSync(
      file,
      JSON.stringify({
        resources: [{ identifier: 'https://orders.example.com', scopes: ['orders:read'], access_token_ttl: 900 }],
        clients: [
          { client_id: 'orders-svc', client_secret: 'x'.repeat(40), grant_types: ['client_credentials'], scope: 'orders:read', audiences: ['https://orders.example.com'] },
          { client_id: 'orders-spa', token_endpoint_auth_method: 'none', redirect_uris: ['https://orders.example.com/cb'] },
        ],
      }),
    );
    const first = await runJson(['import', file]);
    assert.deepEqual(first, { clients: { 'orders-svc': 'created', 'orders-spa': 'created' }, resources: { 'https://orders.example.com': 'created' } });
    const second = await run(['import', file]);
    assert.equal(second.code, 0, second.stderr);
    const results = second.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    assert.deepEqual(results, [['resource', 'https://orders.example.com', 'unchanged'], ['client', 'orders-svc', 'unchanged'], ['client', 'orders-spa', 'unchanged']]);
    const svc = await runJson(['clients', 'show', 'orders-svc']);
    assert.equal(svc.has_client_secret, true);
    assert.ok(!JSON.stringify(svc).includes('x'.repeat(40)));
  });

  it('import of a bad file fails with one line naming the field', T, async () => {
    const file = join(cwd, 'bad.json');
    writeFileSync(file, JSON.stringify({ clients: [{ client_id: 'typo', token_endpoint_auth_method: 'none', redirect_uri: 'https://x.example/cb' }] }));
    assertOneLineFailure(await run(['import', file]), /clients\[0\]: unknown field\(s\) "redirect_uri"/);
    assertOneLineFailure(await run(['import', join(cwd, 'missing.json')]), /cannot read bootstrap file/);
  });

  it('says the embedded database is in use instead of hanging', { ...T, skip: process.env.DATABASE_URL ? 'only the embedded database is single-process (DATABASE_URL is set)' : false }, async () => {
    const holderScript = `
      import { openPglite } from ${JSON.stringify(`${SRC}store/pglite.ts`)};
      const db = await openPglite(process.env.DATA_DIR);
      process.on('SIGTERM', async () => { await db.close(); process.exit(0); });
      console.log('ready');
      setInterval(() => {}, 1000);`;
    const holder = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', holderScript], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('holder did not open the database')), SPAWN_TIMEOUT_MS);
        holder.stdout.on('data', (d) => String(d).includes('ready') && (clearTimeout(timer), resolve()));
        holder.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
      });
      const r = await run(['clients', 'list']);
      assertOneLineFailure(r, /in use by a running Latchkey process/);
      assert.equal(r.code, 1);
      assert.ok(r.ms < 20_000, `took ${r.ms} ms`);
    } finally {
      if (holder.exitCode === null && holder.signalCode === null) {
        const exited = new Promise((resolve) => holder.once('exit', resolve));
        holder.kill('SIGTERM');
        await exited;
      }
    }
    // Once the holder has let go, the CLI works again (the lock file was released).
    const list = await runJson<unknown[]>(['clients', 'list']);
    assert.ok(list.length >= 1);
  });
});
