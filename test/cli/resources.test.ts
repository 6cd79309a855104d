import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bootstrapSchema } from '../../src/bootstrap.js';
import { assertOneLineFailure, runMain, type CliRun } from '../helpers/cli.js';
import { freshDatabaseEnv, type JsonBody } from '../helpers/server.js';

/**
 * `latchkey resources create|update|list` and resources' `name` / `scope_descriptions` in the
 * bootstrap file (the consent page names each API and says what its scopes
 * allow), run in this process through `main(argv, io)`.
 */

const T = { timeout: 180_000 };
const API = 'https://api.example.com';

let env: Record<string, string>;
let dir: string;
let cleanup: (() => Promise<void>) | undefined;

const run = (args: string[]): Promise<CliRun> => runMain(args, { env });

async function runJson(args: string[]): Promise<JsonBody> {
  const r = await run([...args, '--json']);
  assert.equal(r.code, 0, `latchkey ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'latchkey-resources-'));
  const fresh = await freshDatabaseEnv();
  env = fresh.env;
  cleanup = fresh.drop;
});

after(async () => {
  await cleanup?.();
  rmSync(dir, { recursive: true, force: true });
});

describe('latchkey resources', () => {
  it('create, list, update: the name and the scope descriptions are stored and shown', T, async () => {
    const created = await runJson([
      'resources',
      'create',
      API,
      '--name',
      'Orders API',
      '--scope',
      'orders:read orders:write',
      '--scope-description',
      'orders:read=See your orders',
    ]);
    assert.deepEqual(created, {
      identifier: API,
      name: 'Orders API',
      scopes: ['orders:read', 'orders:write'],
      scope_descriptions: { 'orders:read': 'See your orders' },
      access_token_ttl: null,
      access_token_claims: [],
      result: 'created',
    });
    assertOneLineFailure(await run(['resources', 'create', API]), /already exists; change it with `latchkey resources update`/);

    const updated = await runJson([
      'resources',
      'update',
      API,
      '--scope-description',
      'orders:write=Place orders for you',
      '--access-token-ttl',
      '300',
    ]);
    assert.equal(updated.result, 'updated');
    assert.deepEqual(updated.scope_descriptions, { 'orders:read': 'See your orders', 'orders:write': 'Place orders for you' });
    assert.equal(updated.access_token_ttl, 300);
    assert.equal((await runJson(['resources', 'update', API, '--name', 'Orders API'])).result, 'unchanged');

    // Dropping a scope drops its description with it.
    const narrowed = await runJson(['resources', 'update', API, '--scope', 'orders:read']);
    assert.deepEqual(narrowed.scope_descriptions, { 'orders:read': 'See your orders' });

    const [listed] = await runJson(['resources', 'list']);
    const { result: _result, ...stored } = narrowed;
    assert.deepEqual(listed, stored);
    const text = await run(['resources', 'list']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /https:\/\/api\.example\.com\s+Orders API\s+orders:read\s+300 s/);
    assert.match(text.stdout, /orders:read: See your orders/);
  });

  it('refuses what the consent page could not show, with a precise one-line message', T, async () => {
    assertOneLineFailure(
      await run(['resources', 'create', 'https://other.example', '--scope', 'read', '--scope-description', 'write=Change things']),
      /scope_descriptions\.write: describes "write", which is not one of the resource's scopes/,
    );
    assertOneLineFailure(
      await run(['resources', 'create', 'https://other.example', '--scope', 'read', '--scope-description', 'read']),
      /--scope-description must be SCOPE=TEXT/,
    );
    assertOneLineFailure(
      await run(['resources', 'create', 'https://other.example', '--scope', 'read', '--scope-description', 'read=line one\nline two']),
      /one line of text/,
    );
    assertOneLineFailure(await run(['resources', 'create', 'https://other.example', '--name', '']), /name must not be empty/);
    assertOneLineFailure(await run(['resources', 'update', 'https://nowhere.example', '--name', 'X']), /does not exist/);
  });

  it('the bootstrap file takes name and scope_descriptions, validated by the same schema', T, async () => {
    const ok = bootstrapSchema.safeParse({
      resources: [{ identifier: API, name: 'Orders API', scopes: ['read'], scope_descriptions: { read: 'See your orders' } }],
    });
    assert.ok(ok.success);
    const bad = bootstrapSchema.safeParse({ resources: [{ identifier: API, scopes: ['read'], scope_descriptions: { write: 'x' } }] });
    assert.ok(!bad.success);
    assert.match(JSON.stringify(bad.error.issues), /not one of the resource's scopes/);

    const file = join(dir, 'bootstrap.json');
    writeFileSync(
      file,
      JSON.stringify({
        resources: [
          {
            identifier: 'https://billing.example',
            name: 'Billing API',
            scopes: ['read'],
            scope_descriptions: { read: 'See your invoices' },
          },
        ],
      }),
      { mode: 0o600 },
    );
    const imported = await run(['import', file]);
    assert.equal(imported.code, 0, imported.stderr);
    const billing = (await runJson(['resources', 'list'])).find((r: JsonBody) => r.identifier === 'https://billing.example');
    assert.deepEqual(billing.scope_descriptions, { read: 'See your invoices' });
    assert.equal(billing.name, 'Billing API');
  });
});
