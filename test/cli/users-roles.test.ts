import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { openDb } from '../../src/store/open.js';
import { usersRepository } from '../../src/store/repositories/users.js';
import { assertOneLineFailure, jsonLogLines, runMain, type CliRun } from '../helpers/cli.js';
import { freshDatabaseEnv, type JsonBody } from '../helpers/server.js';

/** User roles through the CLI and the bootstrap file (issue 14 item 5), against a real database. */

const T = { timeout: 180_000 };
let env: Record<string, string>;
let dir: string;
let cleanup: (() => Promise<void>) | undefined;

const run = (args: string[], input = ''): Promise<CliRun> => runMain(args, { env, input });
async function runJson<T = JsonBody>(args: string[], input?: string): Promise<T> {
  const r = await run([...args, '--json'], input);
  assert.equal(r.code, 0, `latchkey ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** The roles the repository reads by sub (what the console and the token path use). */
async function rolesOf(sub: string): Promise<string[] | undefined> {
  const db = await openDb(loadConfig(env));
  try {
    return await usersRepository(db).rolesOf(sub);
  } finally {
    await db.close();
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'latchkey-roles-'));
  const fresh = await freshDatabaseEnv();
  env = fresh.env;
  cleanup = fresh.drop;
});
after(async () => {
  await cleanup?.();
  rmSync(dir, { recursive: true, force: true });
});

describe('user roles', () => {
  let aliceId = '';

  it('users create --role stores the roles, sorted, and show/list display them', T, async () => {
    const alice = await runJson<{ id: string; roles: string[] }>(
      ['users', 'create', '--username', 'alice', '--role', 'support', '--role', 'admin', '--password-stdin'],
      'alice password\n',
    );
    aliceId = alice.id;
    assert.deepEqual(alice.roles, ['admin', 'support']);
    assert.deepEqual(await rolesOf(aliceId), ['admin', 'support']);
    assert.deepEqual((await runJson<{ roles: string[] }>(['users', 'show', 'ALICE'])).roles, ['admin', 'support']);
    const text = await run(['users', 'show', 'alice']);
    assert.match(text.stdout, /^roles\s+admin support$/m);
    const list = await run(['users', 'list']);
    assert.match(list.stdout, /ROLES/);
    assert.match(list.stdout, /alice .*admin support/);
    const bob = await runJson<{ roles: string[] }>(['users', 'create', '--username', 'bob', '--password-stdin'], 'bob password\n');
    assert.deepEqual(bob.roles, [], 'no --role: no roles');
    assert.equal(await rolesOf('no-such-sub'), undefined);
  });

  it('bad roles are refused in one line, and no user is created', T, async () => {
    for (const [role, pattern] of [
      ['has space', /letters, digits/],
      ['', /must not be empty/],
      ['x'.repeat(65), /at most 64 characters/],
      ['.leading', /starting with a letter or digit/],
    ] as const) {
      assertOneLineFailure(
        await run(['users', 'create', '--username', 'carol', '--role', role, '--password-stdin'], 'carol password\n'),
        pattern,
      );
    }
    assertOneLineFailure(
      await run(['users', 'create', '--username', 'carol', '--role', 'a', '--role', 'a', '--password-stdin'], 'carol password\n'),
      /role "a" appears twice/,
    );
    assertOneLineFailure(await run(['users', 'show', 'carol']), /no user named "carol"/);
  });

  it('users set-roles replaces the roles (none given: none) and logs a security event', T, async () => {
    const r = await run(['users', 'set-roles', 'alice', '--role', 'auditor', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { id: aliceId, username: 'alice', roles: ['auditor'] });
    const event = jsonLogLines(r.stderr)[0] ?? {};
    assert.equal(event.event, 'user.roles_changed');
    assert.equal(event.user_id, aliceId);
    assert.deepEqual(event.before, ['admin', 'support']);
    assert.deepEqual(event.after, ['auditor']);
    assert.deepEqual(await rolesOf(aliceId), ['auditor']);
    assert.deepEqual((await runJson<{ roles: string[] }>(['users', 'set-roles', aliceId])).roles, [], 'by sub, and cleared');
    assert.deepEqual(await rolesOf(aliceId), []);
    assertOneLineFailure(await run(['users', 'set-roles', 'nobody', '--role', 'admin']), /no user named "nobody"/);
    assertOneLineFailure(await run(['users', 'set-roles', 'alice', '--role', 'bad role']), /--role: .*letters, digits/);
  });

  it('the bootstrap file sets roles; a user listed without roles keeps those given since', T, async () => {
    const file = join(dir, 'bootstrap.json');
    const write = (users: unknown[]) => writeFileSync(file, JSON.stringify({ users }));
    write([{ username: 'root', password: 'root password here', roles: ['admin'] }]);
    assert.deepEqual((await runJson<{ users: Record<string, string> }>(['import', file])).users, { root: 'created' });
    const root = await runJson<{ id: string; roles: string[] }>(['users', 'show', 'root']);
    assert.deepEqual(root.roles, ['admin']);
    assert.deepEqual((await runJson<{ users: Record<string, string> }>(['import', file])).users, { root: 'unchanged' });

    write([{ username: 'root', password: 'root password here', roles: ['admin', 'ops'] }]);
    assert.deepEqual((await runJson<{ users: Record<string, string> }>(['import', file])).users, { root: 'updated' });
    assert.deepEqual(await rolesOf(root.id), ['admin', 'ops']);

    write([{ username: 'root', password: 'root password here' }]);
    assert.deepEqual((await runJson<{ users: Record<string, string> }>(['import', file])).users, { root: 'unchanged' });
    assert.deepEqual(await rolesOf(root.id), ['admin', 'ops'], 'roles absent from the file are left as they are');

    write([{ username: 'root', password: 'root password here', roles: 'admin' }]);
    assertOneLineFailure(await run(['import', file]), /users\[0\]\.roles/);
  });
});
