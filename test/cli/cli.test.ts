import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveSecret } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { hashClientSecret } from '../../src/keys/secret.js';
import { loadMigrations } from '../../src/store/migrate.js';
import { openDb } from '../../src/store/open.js';
import { verifyPassword } from '../../src/users/password.js';
import { assertOneLineFailure, runMain, type CliRun } from '../helpers/cli.js';
import { freshDatabaseEnv, type JsonBody } from '../helpers/server.js';

/**
 * The `latchkey` CLI as an operator uses it, run in this process through `main(argv, io)` (what
 * the bin calls) against a real database: each call opens and closes it as a separate run does.
 * One database serves the whole (sequential) suite. test/cli/bin.test.ts spawns the bin itself.
 */

const T = { timeout: 180_000 };

let env: Record<string, string>;
let dir: string;
let cleanup: (() => Promise<void>) | undefined;

/** `input`, when given, is the CLI's standard input; otherwise stdin is empty. */
function run(args: string[], extraEnv: Record<string, string> = {}, input = ''): Promise<CliRun> {
  return runMain(args, { env: { ...env, ...extraEnv }, input });
}

/** Succeeds and returns the parsed --json output. */
async function runJson<T = JsonBody>(args: string[], input?: string): Promise<T> {
  const r = await run([...args, '--json'], {}, input);
  assert.equal(r.code, 0, `latchkey ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Opens the suite's database in this process (no CLI running meanwhile: PGlite is single-process). */
async function withDb<T>(
  fn: (db: Awaited<ReturnType<typeof openDb>>, secrets: ReturnType<typeof resolveSecret>) => Promise<T>,
): Promise<T> {
  const config = loadConfig(env);
  const db = await openDb(config);
  try {
    return await fn(db, resolveSecret(config));
  } finally {
    await db.close();
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'latchkey-cli-'));
  // A database of our own (PostgreSQL with DATABASE_URL, else a data dir), so counts are exact;
  // nothing else from this process's environment reaches the CLI's configuration.
  const fresh = await freshDatabaseEnv();
  env = fresh.env;
  cleanup = fresh.drop;
});

after(async () => {
  await cleanup?.();
  rmSync(dir, { recursive: true, force: true });
});

describe('latchkey CLI', () => {
  it('has --help for every command and fails on usage and configuration errors in one line', T, async () => {
    const main = await run(['--help']);
    assert.equal(main.code, 0, main.stderr);
    for (const c of [
      'clients create',
      'clients rotate-secret',
      'users create',
      'users list',
      'users show',
      'users delete',
      'users set-password',
      'users set-roles',
      'keys rotate',
      'keys retire',
      'migrate',
      'import',
    ])
      assert.ok(main.stdout.includes(c), c);
    for (const args of [
      ['clients', '--help'],
      ['clients', 'create', '--help'],
      ['users', '--help'],
      ['users', 'create', '--help'],
      ['users', 'set-password', '-h'],
      ['keys', 'rotate', '-h'],
      ['import', '--help'],
      ['help', 'migrate'],
    ]) {
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
    assert.deepEqual(
      first.applied,
      loadMigrations().map((m) => m.name),
    );
    const second = await runJson<{ applied: string[] }>(['migrate']);
    assert.deepEqual(second.applied, []);
    const text = await run(['migrate']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /up to date/);
  });

  let serviceId: string;

  it('clients create --type service prints a 256-bit secret once and stores only its hash', T, async () => {
    const created = await runJson([
      'clients',
      'create',
      '--type',
      'service',
      '--name',
      'Billing Service',
      '--scope',
      'api:read',
      '--audience',
      'https://api.example.com',
    ]);
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
      const row = (
        await db.query<{ secret_hash: string; all: string }>(
          'SELECT secret_hash, row_to_json(c)::text AS all FROM clients c WHERE client_id = $1',
          [serviceId],
        )
      ).rows[0]!;
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
    assertOneLineFailure(
      await run([
        'clients',
        'create',
        '--type',
        'spa',
        '--name',
        'S',
        '--redirect-uri',
        'https://s.example/cb',
        '--jwks-uri',
        'https://s.example/jwks',
      ]),
      /public client/,
    );
  });

  it('clients list, show, rotate-secret and delete', T, async () => {
    const spa = await runJson([
      'clients',
      'create',
      '--type',
      'spa',
      '--name',
      'My SPA',
      '--redirect-uri',
      'https://app.example.com/cb',
      '--client-id',
      'my-spa',
    ]);
    assert.equal(spa.client_id, 'my-spa');
    assert.equal(spa.token_endpoint_auth_method, 'none');
    assert.ok(!('client_secret' in spa));
    assertOneLineFailure(
      await run([
        'clients',
        'create',
        '--type',
        'native',
        '--name',
        'Dup',
        '--redirect-uri',
        'com.example.app:/cb',
        '--client-id',
        'my-spa',
      ]),
      /already exists/,
    );

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
    assert.deepEqual(before.map((k) => [k.alg, k.status]).sort(), [
      ['ES256', 'signing'],
      ['RS256', 'signing'],
    ]);

    const rotated = await runJson<{ keys: { alg: string; kid: string; retired: string[] }[] }>(['keys', 'rotate', '--delay', '0']);
    assert.equal(rotated.keys.length, 2);
    for (const k of rotated.keys) assert.deepEqual(k.retired, [before.find((b) => b.alg === k.alg)!.kid]);

    const afterRotate = await runJson<Key[]>(['keys', 'list']);
    assert.equal(afterRotate.length, 4);
    for (const old of before) assert.equal(afterRotate.find((k) => k.kid === old.kid)?.status, 'retired');
    for (const k of rotated.keys) assert.equal(afterRotate.find((x) => x.kid === k.kid)?.status, 'signing');
    assertOneLineFailure(await run(['keys', 'rotate', '--alg', 'HS256']), /--alg must be one of RS256, ES256/);

    // keys retire: the signing key has no successor (refused, says to rotate); a retired key is unpublished.
    const es = rotated.keys.find((k) => k.alg === 'ES256')!.kid;
    assertOneLineFailure(await run(['keys', 'retire', es]), /no other ES256 key would sign now.*latchkey keys rotate/);
    const oldEs = before.find((k) => k.alg === 'ES256')!.kid;
    assertOneLineFailure(await run(['keys', 'retire', oldEs]), /retire it with unpublish/);
    const unpublished = await runJson<{ kid: string; status: string; unpublished: boolean; signing_now: string }>([
      'keys',
      'retire',
      oldEs,
      '--unpublish',
    ]);
    assert.deepEqual([unpublished.kid, unpublished.status, unpublished.unpublished, unpublished.signing_now], [oldEs, 'expired', true, es]);
    assert.equal((await runJson<Key[]>(['keys', 'list'])).find((k) => k.kid === oldEs)?.status, 'expired');
    assertOneLineFailure(await run(['keys', 'retire', 'no-such-kid']), /no signing key "no-such-kid"/);
    await withDb(async (db) => {
      const events = await db.query<{ target: { id: string } }>("SELECT target FROM audit_events WHERE type = 'key.retired'");
      assert.deepEqual(
        events.rows.map((e) => e.target.id),
        [oldEs],
      );
    });
  });

  /** The stored row, read directly: the CLI never shows the hash, so the tests look for themselves. */
  const storedUser = (username: string) =>
    withDb(
      async (db) =>
        (
          await db.query<{ id: string; password_hash: string }>('SELECT id, password_hash FROM users WHERE lower(username) = lower($1)', [
            username,
          ])
        ).rows[0],
    );
  const noHash = (text: string) => {
    assert.doesNotMatch(text, /\$argon2/, 'password hash printed');
    assert.doesNotMatch(text, /password_hash|passwordHash/, 'password hash field printed');
  };

  let aliceId: string;

  it('users create reads the password from stdin, trims one trailing newline, and stores only an argon2id hash', T, async () => {
    const created = await runJson(
      [
        'users',
        'create',
        '--username',
        'Alice',
        '--email',
        'alice@example.com',
        '--email-verified',
        '--name',
        'Alice Example',
        '--claim',
        'locale=fr-FR',
        '--claim',
        'address.country=FR',
        '--password-stdin',
      ],
      'correct horse battery staple\n',
    );
    aliceId = created.id;
    assert.match(aliceId, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(created.username, 'Alice');
    assert.deepEqual(created.claims, {
      email: 'alice@example.com',
      email_verified: true,
      name: 'Alice Example',
      locale: 'fr-FR',
      address: { country: 'FR' },
    });
    assert.deepEqual(Object.keys(created).sort(), ['claims', 'created_at', 'id', 'roles', 'updated_at', 'username']);
    assert.deepEqual(created.roles, []);
    noHash(JSON.stringify(created));

    const row = await storedUser('alice');
    assert.equal(row?.id, aliceId);
    assert.match(row.password_hash, /^\$argon2id\$/);
    assert.ok(await verifyPassword(row.password_hash, 'correct horse battery staple'));
    assert.ok(!(await verifyPassword(row.password_hash, 'correct horse battery staple\n')), 'the trailing newline was kept');

    // Only the newline goes: spaces are part of the password. Text mode; the hash is never shown.
    const bob = await run(['users', 'create', '--username', 'bob', '--password-stdin'], {}, '  spaced out pass  \r\n');
    assert.equal(bob.code, 0, bob.stderr);
    assert.match(bob.stdout, /^Created user "bob"\./);
    noHash(bob.stdout);
    assert.ok(await verifyPassword((await storedUser('bob'))!.password_hash, '  spaced out pass  '));
  });

  it('users create refuses a taken username in any case, bad passwords, and passwords as arguments', T, async () => {
    const dup = await run(['users', 'create', '--username', 'ALICE', '--password-stdin'], {}, 'another password\n');
    assertOneLineFailure(dup, /a user named "ALICE" already exists/);
    assert.equal(dup.code, 1);

    const short = await run(['users', 'create', '--username', 'carol', '--password-stdin'], {}, 'short\n');
    assertOneLineFailure(short, /password must be at least 8 characters/);
    assert.equal(short.code, 2);
    assertOneLineFailure(
      await run(['users', 'create', '--username', 'carol', '--password-stdin'], {}, '\n'),
      /no password on standard input/,
    );
    assertOneLineFailure(await run(['users', 'create', '--username', 'carol', '--password-stdin']), /no password on standard input/);
    assertOneLineFailure(
      await run(['users', 'create', '--username', 'carol', '--password-stdin'], {}, 'carols password\n\n'),
      /spans several lines/,
    );

    const noFlag = await run(['users', 'create', '--username', 'carol'], {}, 'carols password\n');
    assertOneLineFailure(noFlag, /--password-stdin is required/);
    assert.equal(noFlag.code, 2);
    const asArg = await run(['users', 'create', '--username', 'carol', '--password', 'hunter2hunter2']);
    assertOneLineFailure(asArg, /--password is not accepted/);
    assert.ok(!asArg.stderr.includes('hunter2hunter2'));

    assertOneLineFailure(await run(['users', 'create', '--password-stdin'], {}, 'carols password\n'), /--username is required/);
    assertOneLineFailure(
      await run(['users', 'create', '--username', 'ca rol', '--password-stdin'], {}, 'carols password\n'),
      /username must not contain spaces/,
    );
    assertOneLineFailure(
      await run(['users', 'create', '--username', 'carol', '--email', 'not-an-email', '--password-stdin'], {}, 'carols password\n'),
      /email must be an email address/,
    );
    assertOneLineFailure(
      // Custom claims are accepted (issue 14 item 5); a name the protocol sets is not.
      await run(['users', 'create', '--username', 'carol', '--claim', 'aud=someone', '--password-stdin'], {}, 'carols password\n'),
      /--claim aud: claim "aud" is reserved/,
    );

    const list = await runJson<{ username: string }[]>(['users', 'list']);
    assert.deepEqual(
      list.map((u) => u.username),
      ['Alice', 'bob'],
    );
  });

  it('users list and show never reveal the password hash', T, async () => {
    const list = await run(['users', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    noHash(list.stdout);
    const users = JSON.parse(list.stdout) as { id: string; username: string }[];
    assert.deepEqual(
      users.map((u) => [u.username, u.id]),
      [
        ['Alice', aliceId],
        ['bob', (await storedUser('bob'))!.id],
      ],
    );

    const text = await run(['users', 'list']);
    assert.equal(text.code, 0, text.stderr);
    noHash(text.stdout);
    assert.match(text.stdout, new RegExp(`Alice\\s+${aliceId}\\s+alice@example\\.com\\s+\\S+\\s+Alice Example`));

    for (const key of ['alice', aliceId]) {
      const shown = await run(['users', 'show', key, '--json']);
      assert.equal(shown.code, 0, shown.stderr);
      noHash(shown.stdout);
      const view = JSON.parse(shown.stdout);
      assert.equal(view.id, aliceId);
      assert.equal(view.claims.email, 'alice@example.com');
    }
    const shownText = await run(['users', 'show', 'ALICE']);
    assert.equal(shownText.code, 0, shownText.stderr);
    noHash(shownText.stdout);
    assert.match(shownText.stdout, new RegExp(`id \\(sub\\)\\s+${aliceId}`));
    assert.match(shownText.stdout, /email_verified\s+true/);
    assertOneLineFailure(await run(['users', 'show', 'nobody']), /no user named "nobody"/);
  });

  it("users set-password replaces the hash and ends the user's sessions", T, async () => {
    const before = (await storedUser('alice'))!.password_hash;
    await withDb(async (db) => {
      await db.query("INSERT INTO sessions (id_hash, user_id, auth_time, expires_at) VALUES ($1, $2, now(), now() + interval '1 hour')", [
        randomBytes(16).toString('hex'),
        aliceId,
      ]);
    });

    assertOneLineFailure(await run(['users', 'set-password', 'alice'], {}, 'a brand new password\n'), /--password-stdin is required/);
    assertOneLineFailure(
      await run(['users', 'set-password', 'alice', '--password-stdin'], {}, 'tiny\n'),
      /password must be at least 8 characters/,
    );
    assertOneLineFailure(
      await run(['users', 'set-password', 'nobody', '--password-stdin'], {}, 'a brand new password\n'),
      /no user named "nobody"/,
    );
    assert.equal((await storedUser('alice'))!.password_hash, before, 'a refused change changed the hash');

    const changed = await runJson(['users', 'set-password', 'ALICE', '--password-stdin'], 'a brand new password\n');
    assert.deepEqual(changed, { id: aliceId, username: 'Alice', password_changed: true, sessions_ended: 1, grants_revoked: 0 });
    const after = (await storedUser('alice'))!.password_hash;
    assert.notEqual(after, before);
    assert.ok(await verifyPassword(after, 'a brand new password'));
    assert.ok(!(await verifyPassword(after, 'correct horse battery staple')));
    await withDb(async (db) => {
      assert.equal((await db.query('SELECT 1 FROM sessions WHERE user_id = $1', [aliceId])).rowCount, 0);
    });
  });

  it('users delete removes the user', T, async () => {
    assert.deepEqual(await runJson(['users', 'delete', 'alice']), { id: aliceId, username: 'Alice', deleted: true });
    assertOneLineFailure(await run(['users', 'show', 'alice']), /no user named "alice"/);
    assertOneLineFailure(await run(['users', 'delete', 'alice']), /no user named "alice"/);
    assert.equal(await storedUser('alice'), undefined);
    const text = await run(['users', 'delete', 'bob']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Deleted user "bob"/);
    assert.deepEqual(await runJson(['users', 'list']), []);
  });

  it('import applies a bootstrap file idempotently', T, async () => {
    const file = join(dir, 'bootstrap.json');
    writeFileSync(
      file,
      JSON.stringify({
        resources: [{ identifier: 'https://orders.example.com', scopes: ['orders:read'], access_token_ttl: 900 }],
        clients: [
          {
            client_id: 'orders-svc',
            client_secret: 'x'.repeat(40),
            grant_types: ['client_credentials'],
            scope: 'orders:read',
            audiences: ['https://orders.example.com'],
          },
          { client_id: 'orders-spa', token_endpoint_auth_method: 'none', redirect_uris: ['https://orders.example.com/cb'] },
        ],
        users: [{ username: 'dave', password: 'dave-imported-password', claims: { email: 'dave@example.com', email_verified: true } }],
      }),
    );
    const first = await runJson<Record<string, Record<string, string>>>(['import', file]);
    const { clients, resources, users, ...others } = first;
    assert.deepEqual(
      { clients, resources, users },
      {
        clients: { 'orders-svc': 'created', 'orders-spa': 'created' },
        resources: { 'https://orders.example.com': 'created' },
        users: { dave: 'created' },
      },
    );
    for (const [kind, outcomes] of Object.entries(others)) assert.deepEqual(outcomes, {}, kind); // e.g. trusted_issuers
    const second = await run(['import', file]);
    assert.equal(second.code, 0, second.stderr);
    const results = second.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/));
    assert.deepEqual(results, [
      ['resource', 'https://orders.example.com', 'unchanged'],
      ['client', 'orders-svc', 'unchanged'],
      ['client', 'orders-spa', 'unchanged'],
      ['user', 'dave', 'unchanged'],
    ]);
    const dave = await run(['users', 'show', 'dave', '--json']);
    assert.equal(dave.code, 0, dave.stderr);
    assert.deepEqual(JSON.parse(dave.stdout).claims, { email: 'dave@example.com', email_verified: true });
    assert.ok(!dave.stdout.includes('dave-imported-password') && !dave.stdout.includes('$argon2'));
    const svc = await runJson(['clients', 'show', 'orders-svc']);
    assert.equal(svc.has_client_secret, true);
    assert.ok(!JSON.stringify(svc).includes('x'.repeat(40)));
  });

  it('import of a bad file fails with one line naming the field', T, async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({ clients: [{ client_id: 'typo', token_endpoint_auth_method: 'none', redirect_uri: 'https://x.example/cb' }] }),
    );
    assertOneLineFailure(await run(['import', file]), /clients\[0\]: unknown field\(s\) "redirect_uri"/);
    assertOneLineFailure(await run(['import', join(dir, 'missing.json')]), /cannot read bootstrap file/);
  });
});
