import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCliInProcess, type CliResult } from '../helpers/cli-in-process.js';
import { freshDatabaseEnv } from '../helpers/server.js';

const SECRET_A = 'the-first-secret-the-first-secret-0123456789';
const SECRET_B = 'another-secret-another-secret-0123456789abc';

/** Exit 1 with one `latchkey: …` line on stderr and nothing on stdout. */
function assertRefused(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 1, `expected exit 1: ${r.stdout}${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^latchkey: /);
  assert.match(lines[0]!, pattern);
  assert.equal(r.stdout, '');
}

describe('the CLI refuses what would silently go wrong', () => {
  let db: Awaited<ReturnType<typeof freshDatabaseEnv>>;
  let env: Record<string, string>;

  before(async () => {
    db = await freshDatabaseEnv();
    env = { ...db.env, LATCHKEY_SECRET: SECRET_A, LOG_LEVEL: 'info' };
  });
  after(() => db.drop());

  it('a LATCHKEY_SECRET other than the one the database was made with is refused, and nothing is created', async () => {
    const ok = await runCliInProcess(['clients', 'create', '--type', 'service', '--name', 'First', '--client-id', 'first', '--json'], env);
    assert.equal(ok.code, 0, ok.stderr);

    const other = { ...env, LATCHKEY_SECRET: SECRET_B };
    assertRefused(
      await runCliInProcess(['clients', 'create', '--type', 'service', '--name', 'Second', '--client-id', 'second'], other),
      /LATCHKEY_SECRET is not the secret this database was set up with/,
    );
    assertRefused(await runCliInProcess(['clients', 'rotate-secret', 'first'], other), /LATCHKEY_SECRET is not the secret/);
    assertRefused(await runCliInProcess(['keys', 'rotate'], other), /LATCHKEY_SECRET is not the secret/);

    const list = await runCliInProcess(['clients', 'list', '--json'], env);
    assert.deepEqual(
      (JSON.parse(list.stdout) as { client_id: string }[]).map((c) => c.client_id),
      ['first'],
    );
  });

  it('users revoke-consent names a client that does not exist; a real one logs consent.revoked', async () => {
    const user = await runCliInProcess(
      ['users', 'create', '--username', 'alice', '--password-stdin', '--json'],
      env,
      'correct horse battery staple\n',
    );
    assert.equal(user.code, 0, user.stderr);
    const aliceId = (JSON.parse(user.stdout) as { id: string }).id;

    assertRefused(
      await runCliInProcess(['users', 'revoke-consent', 'alice', 'no-such-client'], env),
      /no client with client_id "no-such-client"/,
    );

    const r = await runCliInProcess(['users', 'revoke-consent', 'alice', 'first', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const events = r.logLines.filter((l) => l.event === 'consent.revoked');
    assert.equal(events.length, 1, r.stderr);
    assert.equal(events[0]!.user_id, aliceId);
    assert.equal(events[0]!.client_id, 'first');
    assert.equal(events[0]!.msg, 'security event');
  });
});
