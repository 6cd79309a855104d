import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { applyBootstrap, bootstrapSchema } from '../../src/bootstrap.js';
import { KeyStore, ensureSigningKeys, keyStatus, rotateSigningKeys } from '../../src/keys/keystore.js';
import { deriveSecrets } from '../../src/keys/secret.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { openDb } from '../../src/store/open.js';
import { PasswordHasher, verifyPassword } from '../../src/users/password.js';
import { keysRepository } from '../../src/store/repositories/keys.js';
import { rateLimitsRepository } from '../../src/store/repositories/rate-limits.js';
import { replayRepository } from '../../src/store/repositories/replay.js';
import { freshDatabaseEnv } from '../helpers/server.js';

const secrets = deriveSecrets('s'.repeat(40));

describe('store (embedded or PostgreSQL, whichever the suite runs on)', () => {
  let db: Db;
  let env: Awaited<ReturnType<typeof freshDatabaseEnv>>;

  before(async () => {
    env = await freshDatabaseEnv();
    db = await openDb(loadConfig(env.env));
  });
  after(async () => {
    await db.close();
    await env.drop();
  });

  it('migrations apply once, and again is a no-op', async () => {
    const first = await migrate(db);
    assert.ok(first.includes('001_foundation'));
    assert.deepEqual(await migrate(db), []);
    const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(
      rows.map((r) => r.version),
      first.map((n) => Number.parseInt(n, 10)),
    );
  });

  it(
    'two processes migrating at once: each migration applied exactly once',
    { skip: !process.env.DATABASE_URL && 'needs PostgreSQL (DATABASE_URL): the embedded database has one connection' },
    async () => {
      const fresh = await freshDatabaseEnv();
      const config = loadConfig(fresh.env);
      const [a, b] = await Promise.all([openDb(config), openDb(config)]);
      try {
        const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
        assert.deepEqual(
          [...ra, ...rb].sort(),
          (await a.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name')).rows.map((r) => r.name),
        );
      } finally {
        await a.close();
        await b.close();
        await fresh.drop();
      }
    },
  );

  it('a failing migration leaves nothing half-applied', async () => {
    await assert.rejects(
      migrate(db, [{ version: 9001, name: '9001_broken', sql: 'CREATE TABLE half_done (x int); SELECT * FROM no_such_table;' }]),
    );
    const t = await db.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'");
    assert.equal(t.rowCount, 0);
    assert.equal((await db.query('SELECT 1 FROM schema_migrations WHERE version = 9001')).rowCount, 0);
  });

  it('replay: a key is accepted once, also under concurrency, and reusable after expiry', async () => {
    const replay = replayRepository(db);
    const now = new Date();
    const exp = new Date(now.getTime() + 60_000);
    const results = await Promise.all(Array.from({ length: 10 }, () => replay.firstUse('k1', exp, now)));
    assert.equal(results.filter(Boolean).length, 1);
    assert.equal(await replay.firstUse('k1', exp, new Date(now.getTime() + 61_000)), true, 'after expiry the key is free again');
  });

  it('rate limits count in a fixed window', async () => {
    const rl = rateLimitsRepository(db);
    const t0 = new Date('2030-01-01T00:00:00Z');
    assert.equal((await rl.hit('x', 60, t0)).count, 1);
    assert.equal((await rl.hit('x', 60, new Date(t0.getTime() + 30_000))).count, 2);
    const later = await rl.hit('x', 60, new Date(t0.getTime() + 61_000));
    assert.equal(later.count, 1, 'a new window starts over');
    assert.equal(later.resetAt.getTime(), t0.getTime() + 121_000);
  });

  it('bootstrap: applying the same file twice changes nothing', async () => {
    const file = bootstrapSchema.parse({
      resources: [{ identifier: 'https://api.example.com', scopes: ['api:read'] }],
      clients: [
        {
          client_id: 'svc',
          client_secret: 'x'.repeat(40),
          grant_types: ['client_credentials'],
          scope: 'api:read',
          audiences: ['https://api.example.com'],
        },
      ],
    });
    const first = await applyBootstrap(db, secrets, file);
    assert.deepEqual(first, {
      clients: { svc: 'created' },
      resources: { 'https://api.example.com': 'created' },
      users: {},
      trusted_issuers: {},
    });
    const before = (await db.query('SELECT * FROM clients')).rows;
    const second = await applyBootstrap(db, secrets, file);
    assert.deepEqual(second, {
      clients: { svc: 'unchanged' },
      resources: { 'https://api.example.com': 'unchanged' },
      users: {},
      trusted_issuers: {},
    });
    assert.deepEqual((await db.query('SELECT * FROM clients')).rows, before);
    const stored = JSON.stringify(before);
    assert.ok(!stored.includes('x'.repeat(40)), 'the secret is not stored in plain text');
    const changed = bootstrapSchema.parse({ ...file, clients: [{ ...file.clients[0], client_name: 'Renamed' }] });
    assert.equal((await applyBootstrap(db, secrets, changed)).clients.svc, 'updated');
  });

  it('bootstrap: passwords are hashed before the transaction; a hash changed meanwhile is checked again', async () => {
    const weak = { memoryKib: 7168, iterations: 1, parallelism: 1 };
    const file = (password: string) => bootstrapSchema.parse({ users: [{ username: 'boot-alice', password }] });
    assert.equal((await applyBootstrap(db, secrets, file('first password 1'), new PasswordHasher(weak))).users['boot-alice'], 'created');
    assert.equal((await applyBootstrap(db, secrets, file('first password 1'), new PasswordHasher(weak))).users['boot-alice'], 'unchanged');

    // Another process applies the same file after this one read the row and hashed outside the
    // transaction: inside it the stored hash is no longer the one planned against, so it is
    // verified again under the row's lock and, as it already holds the file's password, kept.
    class RacingHasher extends PasswordHasher {
      override async hash(password: string): Promise<string> {
        const other = await new PasswordHasher(weak).hash('second password 2');
        await db.query("UPDATE users SET password_hash = $1 WHERE username = 'boot-alice'", [other]);
        return super.hash(password);
      }
    }
    const result = await applyBootstrap(db, secrets, file('second password 2'), new RacingHasher(weak));
    assert.equal(result.users['boot-alice'], 'unchanged');
    const stored = (await db.query<{ password_hash: string }>("SELECT password_hash FROM users WHERE username = 'boot-alice'")).rows[0];
    assert.ok(stored && (await verifyPassword(stored.password_hash, 'second password 2')), 'the password in the file wins');
  });

  it('bootstrap: all or nothing', async () => {
    // A trigger makes the second client's insert fail after the first was written.
    await db.exec(`CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$;
      CREATE TRIGGER boom BEFORE INSERT ON clients FOR EACH ROW WHEN (NEW.client_id = 'boom') EXECUTE FUNCTION boom();`);
    try {
      const client = (id: string) => ({ client_id: id, client_secret: 'y'.repeat(40), grant_types: ['client_credentials'] });
      await assert.rejects(applyBootstrap(db, secrets, bootstrapSchema.parse({ clients: [client('svc2'), client('boom')] })), /boom/);
      assert.equal((await db.query("SELECT 1 FROM clients WHERE client_id = 'svc2'")).rowCount, 0);
    } finally {
      await db.exec('DROP TRIGGER boom ON clients; DROP FUNCTION boom();');
    }
  });

  it('keys: generated once, rotated with a delay, retired keys published until their tokens expire', async () => {
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const repo = keysRepository(db);
    const created = await ensureSigningKeys(repo, secrets.keyEncryptionKey, clock);
    assert.equal(created.length, 2);
    assert.deepEqual(await ensureSigningKeys(repo, secrets.keyEncryptionKey, clock), [], 'idempotent');
    const rows = await repo.listAll();
    for (const r of rows) assert.ok(!r.private_jwk_enc.includes('"d"'), 'private key encrypted at rest');

    const store = new KeyStore(repo, secrets.keyEncryptionKey, clock);
    await store.reload();
    assert.ok(store.ready);
    const oldKid = store.signingKey('ES256').kid;

    const [rotated] = await rotateSigningKeys(repo, secrets.keyEncryptionKey, clock, {
      delaySeconds: 600,
      maxTokenLifetime: 900,
      algs: ['ES256'],
    });
    await store.reload();
    const published = () => (JSON.parse(store.jwks().body) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    assert.ok(published().includes(rotated!.kid), 'published at once');
    assert.equal(store.signingKey('ES256').kid, oldKid, 'does not sign before the delay');

    clock.advance(601);
    assert.equal(store.signingKey('ES256').kid, rotated!.kid, 'signs after the delay, without a reload');
    assert.ok(published().includes(oldKid), 'the old key is still published');
    const oldRow = (await repo.listAll()).find((r) => r.kid === oldKid)!;
    assert.equal(keyStatus(oldRow, clock.now()), 'retired');

    clock.advance(900);
    await store.reload();
    assert.ok(!published().includes(oldKid), 'gone once every token it signed has expired');
    assert.ok(store.verificationKey(rotated!.kid));
  });
});
