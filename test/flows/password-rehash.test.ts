import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import argon2 from 'argon2';
import * as oidc from 'openid-client';
import { usersRepository } from '../../src/store/repositories/users.js';
import { OWASP_ARGON2ID, PasswordHasher, verifyPassword } from '../../src/users/password.js';
import { signInWithCodeFlow } from '../helpers/sign-in.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/wait.js';

const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'web-secret-web-secret-web-secret-0123';
const PASSWORD = 'correct horse battery staple';
const CHANGED = 'a password set by the operator meanwhile';
/** The argon2 library's defaults, which Latchkey used before: m = 64 MiB, t = 3, p = 4. */
const OLD = { type: argon2.argon2id, memoryCost: 65_536, timeCost: 3, parallelism: 4 } as const;

/** A PHC string's parameters, in m, t, p order whatever order the string has them in. */
function paramsOf(hash: string): string | undefined {
  const fields = /^\$argon2id\$v=19\$([^$]+)\$/.exec(hash)?.[1];
  if (!fields) return undefined;
  const p = Object.fromEntries(fields.split(',').map((kv) => kv.split('=')));
  return `m=${p.m},t=${p.t},p=${p.p}`;
}

describe('password hashes: OWASP parameters, old hashes upgraded at sign-in', () => {
  let server: TestServer;
  let web: oidc.Configuration;

  before(async () => {
    server = await startServer({
      bootstrap: {
        clients: [
          {
            client_id: 'web',
            client_secret: SECRET,
            redirect_uris: [CB],
            grant_types: ['authorization_code'],
            scope: 'openid',
            skip_consent: true,
          },
        ],
        users: [{ username: 'current', password: PASSWORD }],
      },
    });
    web = await oidc.discovery(new URL(server.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), {
      execute: [oidc.allowInsecureRequests],
    });
  });
  after(() => server.close());

  const signIn = (username: string, password = PASSWORD) =>
    signInWithCodeFlow({ config: web, baseUrl: server.url, redirectUri: CB, username, password, scope: 'openid' });
  const storedHash = async (username: string) => (await server.ctx.repos.users.findByUsername(username))!.passwordHash;

  it('new hashes (bootstrap) use m=19456,t=2,p=1 by default', async () => {
    assert.deepEqual(OWASP_ARGON2ID, { memoryKib: 19_456, iterations: 2, parallelism: 1 });
    assert.equal(paramsOf(await storedHash('current')), 'm=19456,t=2,p=1');
    const before = await storedHash('current');
    await signIn('current');
    assert.equal(await storedHash('current'), before, 'a current hash is left alone');
  });

  it('a user hashed with the old parameters signs in: the hash now has the new ones and still works', async () => {
    await server.ctx.repos.users.insert('old', await argon2.hash(PASSWORD, OLD), {});
    assert.equal(paramsOf(await storedHash('old')), 'm=65536,t=3,p=4');
    const { tokens } = await signIn('old');
    assert.ok(tokens.id_token);
    const upgraded = await storedHash('old');
    assert.equal(paramsOf(upgraded), 'm=19456,t=2,p=1');
    assert.ok(await verifyPassword(upgraded, PASSWORD));
    assert.ok(!(await verifyPassword(upgraded, 'wrong password')));
    assert.ok((await signIn('old')).tokens.id_token, 'and signs in again with the upgraded hash');
    assert.equal(await storedHash('old'), upgraded, 'upgraded once');
  });

  it('a failed sign-in never re-hashes', async () => {
    const old = await argon2.hash(PASSWORD, OLD);
    await server.ctx.repos.users.insert('mistyped', old, {});
    await assert.rejects(signIn('mistyped', 'not the password'));
    assert.equal(await storedHash('mistyped'), old);
  });

  it('the upgrade replaces only the exact hash it verified: a change committed since is kept', async () => {
    const old = await argon2.hash(PASSWORD, OLD);
    const user = (await server.ctx.repos.users.insert('raced', old, {}))!;
    const changed = await new PasswordHasher().hash(CHANGED);
    assert.ok(await server.ctx.repos.users.update(user.id, { passwordHash: changed }));
    assert.equal(await server.ctx.repos.users.replacePasswordHash(user.id, old, await new PasswordHasher().hash(PASSWORD)), false);
    assert.equal(await storedHash('raced'), changed);
  });

  it(
    'a password change committing while a sign-in upgrades the old hash is not overwritten (PostgreSQL)',
    { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL: a change held open beside a sign-in needs two connections' },
    async () => {
      const old = await argon2.hash(PASSWORD, OLD);
      const user = (await server.ctx.repos.users.insert('held', old, {}))!;
      const changed = await new PasswordHasher().hash(CHANGED);
      // The change holds the user's row, uncommitted: the sign-in still reads (and verifies) the old
      // hash, and its upgrade waits for the row, then finds the hash no longer the one it verified.
      let commit!: () => void;
      const committed = new Promise<void>((resolve) => (commit = resolve));
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const change = server.ctx.db.transaction(async (tx) => {
        assert.ok(await usersRepository(tx).update(user.id, { passwordHash: changed }));
        locked();
        await committed;
      });
      await isLocked;
      const signingIn = signIn('held');
      try {
        await waitUntil('the upgrade waits for the row the change holds', async () => {
          const r = await server.ctx.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'UPDATE users SET password_hash%'`,
          );
          return r.rows[0]!.n === 1;
        });
      } finally {
        commit();
      }
      await change;
      const { tokens } = await signingIn;
      assert.ok(tokens.id_token, 'the sign-in that verified the old password succeeds');
      assert.equal(await storedHash('held'), changed, 'the change is kept');
      assert.ok((await signIn('held', CHANGED)).tokens.id_token, 'the changed password works');
      await assert.rejects(signIn('held'), 'the old one does not');
    },
  );
});
