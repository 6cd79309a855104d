import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertOneLineFailure, jsonLogLines, runMain, type CliRun } from '../helpers/cli.js';
import { freshDatabaseEnv } from '../helpers/server.js';

const SECRET_A = 'the-first-secret-the-first-secret-0123456789';
const SECRET_B = 'another-secret-another-secret-0123456789abc';

/** Exit 1 with one `latchkey: …` line on stderr and nothing on stdout. */
function assertRefused(r: CliRun, pattern: RegExp): void {
  assert.equal(r.code, 1, `expected exit 1: ${r.stdout}${r.stderr}`);
  assertOneLineFailure(r, pattern);
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
    const ok = await runMain(['clients', 'create', '--type', 'service', '--name', 'First', '--client-id', 'first', '--json'], { env: env });
    assert.equal(ok.code, 0, ok.stderr);

    const other = { ...env, LATCHKEY_SECRET: SECRET_B };
    assertRefused(
      await runMain(['clients', 'create', '--type', 'service', '--name', 'Second', '--client-id', 'second'], { env: other }),
      /LATCHKEY_SECRET is not the secret this database was set up with/,
    );
    assertRefused(await runMain(['clients', 'rotate-secret', 'first'], { env: other }), /LATCHKEY_SECRET is not the secret/);
    assertRefused(await runMain(['keys', 'rotate'], { env: other }), /LATCHKEY_SECRET is not the secret/);

    const list = await runMain(['clients', 'list', '--json'], { env: env });
    assert.deepEqual(
      (JSON.parse(list.stdout) as { client_id: string }[]).map((c) => c.client_id),
      ['first'],
    );
  });

  it('users revoke-consent names a client that does not exist; a real one logs consent.revoked', async () => {
    const user = await runMain(['users', 'create', '--username', 'alice', '--password-stdin', '--json'], {
      env: env,
      input: 'correct horse battery staple\n',
    });
    assert.equal(user.code, 0, user.stderr);
    const aliceId = (JSON.parse(user.stdout) as { id: string }).id;

    assertRefused(
      await runMain(['users', 'revoke-consent', 'alice', 'no-such-client'], { env: env }),
      /no client with client_id "no-such-client"/,
    );

    const r = await runMain(['users', 'revoke-consent', 'alice', 'first', '--json'], { env: env });
    assert.equal(r.code, 0, r.stderr);
    const events = jsonLogLines(r.stderr).filter((l) => l.event === 'consent.revoked');
    assert.equal(events.length, 1, r.stderr);
    assert.equal(events[0]!.user_id, aliceId);
    assert.equal(events[0]!.client_id, 'first');
    assert.equal(events[0]!.msg, 'security event');
  });
});
