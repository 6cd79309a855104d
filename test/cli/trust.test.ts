import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { assertOneLineFailure, runMain, type CliRun } from '../helpers/cli.js';
import { freshDatabaseEnv, type JsonBody } from '../helpers/server.js';

/**
 * `latchkey trust add|list|remove` and trusted issuers in `latchkey import`, run in this process
 * through `main(argv, io)` as test/cli/cli.test.ts does, on one database for the sequential suite.
 */

const T = { timeout: 180_000 };
const PARTNER = 'https://idp.partner.example';
const OTHER = 'https://other-idp.example';

let env: Record<string, string>;
let dir: string;
let cleanup: (() => Promise<void>) | undefined;

function run(args: string[], extraEnv: Record<string, string> = {}): Promise<CliRun> {
  return runMain(args, { env: { ...env, ...extraEnv } });
}

async function runJson(args: string[]): Promise<{ value: JsonBody; stderr: string }> {
  const r = await run([...args, '--json']);
  assert.equal(r.code, 0, `latchkey ${args.join(' ')} failed: ${r.stderr}`);
  return { value: JSON.parse(r.stdout), stderr: r.stderr };
}

let jwksFile: string;
let privateJwkFile: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'latchkey-trust-'));
  // A database of our own (PostgreSQL with DATABASE_URL, else a data dir), so counts are exact;
  // nothing else from this process's environment reaches the CLI's configuration.
  const fresh = await freshDatabaseEnv();
  env = fresh.env;
  cleanup = fresh.drop;
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  jwksFile = join(dir, 'partner.jwk.json');
  writeFileSync(jwksFile, JSON.stringify({ ...(await exportJWK(publicKey)), kid: 'partner-1', alg: 'ES256' }));
  privateJwkFile = join(dir, 'private.jwk.json');
  writeFileSync(privateJwkFile, JSON.stringify({ keys: [await exportJWK(privateKey)] }));
});

after(async () => {
  await cleanup?.();
  rmSync(dir, { recursive: true, force: true });
});

describe('latchkey trust', () => {
  it('has --help for the group and every subcommand', T, async () => {
    const main = await run(['--help']);
    assert.equal(main.code, 0, main.stderr);
    for (const c of ['trust add', 'trust list', 'trust remove']) assert.ok(main.stdout.includes(c), c);
    for (const args of [
      ['trust', '--help'],
      ['trust', 'add', '--help'],
      ['trust', 'list', '-h'],
      ['help', 'trust', 'remove'],
    ]) {
      const r = await run(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /^Usage: latchkey trust/);
    }
    const add = await run(['trust', 'add', '--help']);
    assert.match(add.stdout, /--any-subject/);
    assert.match(add.stdout, /JWKS_URI_ALLOW_PRIVATE/);
    assertOneLineFailure(await run(['trust', 'frobnicate']), /unknown subcommand "frobnicate"/);
  });

  it('add refuses incomplete or invalid entries before touching the database, in one line', T, async () => {
    const base = ['trust', 'add', '--issuer', PARTNER, '--jwks-file', jwksFile, '--any-subject', '--client-id', 'svc'];
    const without = (flag: string, n = 1) => {
      const i = base.indexOf(flag);
      return [...base.slice(0, i), ...base.slice(i + 1 + n)];
    };
    assertOneLineFailure(await run(without('--issuer')), /--issuer is required/);
    assertOneLineFailure(await run(without('--client-id')), /--client-id is required/);
    assertOneLineFailure(await run(without('--jwks-file')), /public keys are required/);
    assertOneLineFailure(await run(without('--any-subject', 0)), /--subject USERNAME.*--any-subject/);
    assertOneLineFailure(await run([...base, '--subject', 'alice']), /either --subject or --any-subject/);
    assertOneLineFailure(await run([...base, '--jwks-uri', 'https://idp.partner.example/jwks']), /either --jwks-file or --jwks-uri/);
    assertOneLineFailure(await run([...without('--jwks-file'), '--jwks-file', privateJwkFile]), /public keys only/);
    assertOneLineFailure(await run([...without('--jwks-file'), '--jwks-uri', 'ftp://idp.partner.example/jwks']), /jwks_uri/);
    assertOneLineFailure(await run([...base, '--scope', 'bad"scope']), /scope must be space-separated scope tokens/);
    assertOneLineFailure(
      await run(['trust', 'add', '--issuer', 'http://localhost:3000', '--jwks-file', jwksFile, '--any-subject', '--client-id', 'svc']),
      /this server's own issuer/,
    );
  });

  it('add, list, add again (refused, or --replace), remove', T, async () => {
    const created = await runJson([
      'trust',
      'add',
      '--issuer',
      PARTNER,
      '--jwks-file',
      jwksFile,
      '--subject',
      'alice',
      '--scope',
      'api:read  api:write',
      '--client-id',
      'partner-svc',
      '--client-id',
      'partner-svc',
    ]);
    assert.equal(created.value.result, 'created');
    assert.equal(created.value.issuer, PARTNER);
    assert.equal(created.value.subject, 'alice');
    assert.equal(created.value.allow_any_subject, false);
    assert.equal(created.value.scope, 'api:read api:write');
    assert.deepEqual(created.value.client_ids, ['partner-svc']);
    assert.equal(created.value.jwks.keys[0].kid, 'partner-1');
    assert.match(created.stderr, /client "partner-svc" does not exist/);

    assertOneLineFailure(
      await run(['trust', 'add', '--issuer', PARTNER, '--jwks-file', jwksFile, '--any-subject', '--client-id', 'x']),
      /already trusted; use --replace/,
    );
    const replaced = await runJson([
      'trust',
      'add',
      '--replace',
      '--issuer',
      PARTNER,
      '--jwks-file',
      jwksFile,
      '--subject',
      'alice',
      '--scope',
      'api:read',
      '--client-id',
      'partner-svc',
    ]);
    assert.equal(replaced.value.result, 'updated');
    const same = await runJson([
      'trust',
      'add',
      '--replace',
      '--issuer',
      PARTNER,
      '--jwks-file',
      jwksFile,
      '--subject',
      'alice',
      '--scope',
      'api:read',
      '--client-id',
      'partner-svc',
    ]);
    assert.equal(same.value.result, 'unchanged');

    const other = await runJson([
      'trust',
      'add',
      '--issuer',
      OTHER,
      '--jwks-uri',
      'https://other-idp.example/jwks',
      '--any-subject',
      '--client-id',
      'svc',
    ]);
    assert.equal(other.value.allow_any_subject, true);
    assert.equal(other.value.subject, undefined);

    const list: JsonBody[] = (await runJson(['trust', 'list'])).value;
    assert.deepEqual(
      list.map((t) => t.issuer),
      [PARTNER, OTHER].sort(),
    );
    assert.ok(list.every((t) => t.created_at && t.updated_at));
    const text = await run(['trust', 'list']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^ISSUER\s+KEYS\s+SUBJECT\s+SCOPE\s+CLIENTS/);
    assert.match(text.stdout, /https:\/\/idp\.partner\.example\s+1 key\(s\): partner-1\s+alice\s+api:read\s+partner-svc/);
    assert.match(text.stdout, /https:\/\/other-idp\.example\s+https:\/\/other-idp\.example\/jwks\s+\(any\)\s+-\s+svc/);

    const removed = await runJson(['trust', 'remove', OTHER]);
    assert.deepEqual(removed.value, { issuer: OTHER, removed: true });
    assertOneLineFailure(await run(['trust', 'remove', OTHER]), /issuer "https:\/\/other-idp\.example" is not trusted/);
    assertOneLineFailure(await run(['trust', 'remove']), /missing ISSUER/);
    assert.deepEqual(
      (await runJson(['trust', 'list'])).value.map((t: JsonBody) => t.issuer),
      [PARTNER],
    );
  });

  it('import applies trusted_issuers idempotently and refuses invalid ones naming the field', T, async () => {
    const file = join(dir, 'bootstrap.json');
    const entry = {
      issuer: 'https://bootstrap-idp.example',
      jwks_uri: 'https://bootstrap-idp.example/jwks',
      allow_any_subject: true,
      scope: 'api:read',
      client_ids: ['partner-svc'],
    };
    writeFileSync(file, JSON.stringify({ trusted_issuers: [entry] }));
    assert.deepEqual((await runJson(['import', file])).value.trusted_issuers, { 'https://bootstrap-idp.example': 'created' });
    assert.deepEqual((await runJson(['import', file])).value.trusted_issuers, { 'https://bootstrap-idp.example': 'unchanged' });
    writeFileSync(file, JSON.stringify({ trusted_issuers: [{ ...entry, scope: 'api:read api:write' }] }));
    assert.deepEqual((await runJson(['import', file])).value.trusted_issuers, { 'https://bootstrap-idp.example': 'updated' });

    writeFileSync(file, JSON.stringify({ trusted_issuers: [{ ...entry, subject: 'alice' }] }));
    assertOneLineFailure(await run(['import', file]), /trusted_issuers\[0\]\.subject: give either subject or allow_any_subject/);
    writeFileSync(file, JSON.stringify({ trusted_issuers: [{ ...entry, client_ids: [] }] }));
    assertOneLineFailure(await run(['import', file]), /trusted_issuers\[0\]\.client_ids/);
    writeFileSync(file, JSON.stringify({ trusted_issuers: [entry, entry] }));
    assertOneLineFailure(await run(['import', file]), /issuer "https:\/\/bootstrap-idp\.example" appears twice/);
    writeFileSync(file, JSON.stringify({ trusted_issuers: [{ ...entry, audience: 'x' }] }));
    assertOneLineFailure(await run(['import', file]), /unknown field\(s\) "audience"/);
  });
});
