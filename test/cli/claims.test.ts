import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertOneLineFailure, jsonLogLines, runMain, type CliRun } from '../helpers/cli.js';
import { freshDatabaseEnv, type JsonBody } from '../helpers/server.js';

/**
 * Custom claims, resources' access_token_claims and clients' id_token_claims / id_token_minimal
 * through the CLI (issue 14 item 5), against a real database. The tokens that carry them are
 * tested in test/flows/claims.test.ts.
 */

const T = { timeout: 180_000 };
let env: Record<string, string>;
let cleanup: (() => Promise<void>) | undefined;

const run = (args: string[], input = ''): Promise<CliRun> => runMain(args, { env, input });
async function runJson<T = JsonBody>(args: string[], input?: string): Promise<T> {
  const r = await run([...args, '--json'], input);
  assert.equal(r.code, 0, `latchkey ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

before(async () => {
  const fresh = await freshDatabaseEnv();
  env = fresh.env;
  cleanup = fresh.drop;
});
after(async () => {
  await cleanup?.();
});

describe('claims through the CLI', () => {
  it('users create --claim takes custom claims (strings); set-claims merges JSON (null removes)', T, async () => {
    const alice = await runJson<{ claims: Record<string, unknown> }>(
      ['users', 'create', '--username', 'alice', '--email', 'alice@example.com', '--claim', 'department=sales', '--password-stdin'],
      'alice password\n',
    );
    assert.deepEqual(alice.claims, { email: 'alice@example.com', department: 'sales' });

    const r = await run(['users', 'set-claims', 'alice', '--merge', '{"teams": ["eu", "b2b"], "department": null, "nickname": "Al"}']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^teams\s+\["eu","b2b"\]$/m);
    assert.match(r.stdout, /^nickname\s+Al$/m);
    assert.doesNotMatch(r.stdout, /department/);
    // The security event names the claims changed, never their values (personal data).
    const [event] = jsonLogLines(r.stderr).filter((l) => l.event === 'user.claims_changed');
    assert.ok(event, r.stderr);
    assert.deepEqual(event.claims, ['department', 'nickname', 'teams']);
    assert.doesNotMatch(r.stderr, /b2b/);

    const shown = await runJson<{ claims: Record<string, unknown> }>(['users', 'show', 'alice']);
    assert.deepEqual(shown.claims, { email: 'alice@example.com', teams: ['eu', 'b2b'], nickname: 'Al' });
  });

  it('bad claims are refused in one line naming the claim, and nothing changes', T, async () => {
    assertOneLineFailure(
      await run(['users', 'set-claims', 'alice', '--merge', '{"sub": "x"}']),
      /invalid claims: sub: claim "sub" is reserved/,
    );
    assertOneLineFailure(await run(['users', 'set-claims', 'alice', '--merge', '{"a b": 1}']), /claim "a b" has an invalid name/);
    assertOneLineFailure(
      await run(['users', 'set-claims', 'alice', '--merge', JSON.stringify({ bio: 'x'.repeat(9000) })]),
      /more than 8192; the largest is "bio"/,
    );
    assertOneLineFailure(await run(['users', 'set-claims', 'alice', '--merge', 'not json']), /--merge must be JSON/);
    assertOneLineFailure(await run(['users', 'set-claims', 'alice', '--merge', '[1]']), /--merge must be a JSON object/);
    assertOneLineFailure(await run(['users', 'set-claims', 'alice']), /--merge is required/);
    assertOneLineFailure(await run(['users', 'set-claims', 'nobody', '--merge', '{}']), /no user named "nobody"/);
    assertOneLineFailure(
      await run(['users', 'create', '--username', 'bob', '--claim', 'iss=https://evil.example', '--password-stdin'], 'bob password\n'),
      /--claim iss: claim "iss" is reserved/,
    );
    const shown = await runJson<{ claims: Record<string, unknown> }>(['users', 'show', 'alice']);
    assert.deepEqual(shown.claims, { email: 'alice@example.com', teams: ['eu', 'b2b'], nickname: 'Al' });
    assert.equal((await run(['users', 'show', 'bob'])).code, 1, 'bob was not created');
  });

  it('resources create/update --access-token-claims; clients create --id-token-claim, --id-token-minimal', T, async () => {
    const created = await runJson<{ access_token_claims: string[] }>([
      'resources',
      'create',
      'https://api.example.com',
      '--scope',
      'api:read',
      '--access-token-claims',
      'roles department',
    ]);
    assert.deepEqual(created.access_token_claims, ['roles', 'department']);
    const list = await run(['resources', 'list']);
    assert.match(list.stdout, /TOKEN CLAIMS/);
    assert.match(list.stdout, /roles department/);
    const updated = await runJson<{ access_token_claims: string[]; scopes: string[] }>([
      'resources',
      'update',
      'https://api.example.com',
      '--access-token-claims',
      'email',
    ]);
    assert.deepEqual(updated.access_token_claims, ['email']);
    assert.deepEqual(updated.scopes, ['api:read'], 'the rest unchanged');
    assertOneLineFailure(
      await run(['resources', 'update', 'https://api.example.com', '--access-token-claims', 'roles exp']),
      /access_token_claims: claim "exp" is reserved/,
    );

    const client = await runJson<{ id_token_claims: string[]; id_token_minimal: boolean }>([
      'clients',
      'create',
      '--type',
      'web',
      '--name',
      'Claims App',
      '--redirect-uri',
      'https://app.example.com/cb',
      '--id-token-claim',
      'roles',
      '--id-token-claim',
      'department',
      '--id-token-minimal',
    ]);
    assert.deepEqual(client.id_token_claims, ['roles', 'department']);
    assert.equal(client.id_token_minimal, true);
    assertOneLineFailure(
      await run([
        'clients',
        'create',
        '--type',
        'web',
        '--name',
        'Bad',
        '--redirect-uri',
        'https://app.example.com/cb',
        '--id-token-claim',
        'nonce',
      ]),
      /id_token_claims: claim "nonce" is reserved/,
    );
  });
});
