import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { clientKeyPair } from '../helpers/fixtures.js';
import { assertOneLineFailure, runCli, type CliRun } from '../helpers/cli.js';
import { startProcess, stopProcess, type LatchkeyProcess } from '../helpers/process.js';
import { TEST_SECRET, freshDatabaseEnv } from '../helpers/server.js';
import { waitUntil } from '../helpers/wait.js';
import { freePort } from '../support/ports.js';

/**
 * The CLI in API mode (issue 14 item 6): the real `latchkey` binary with LATCHKEY_URL talks to a
 * running server's admin API while that server holds the database — the embedded one, which
 * direct mode cannot open meanwhile, or PostgreSQL behind two server processes, where the change
 * made through one is seen by the other. What the CLI creates is then used with openid-client.
 */

// Each step spawns the CLI several times (a second on a quiet machine, ten on one shared by many jobs).
const T = { timeout: 300_000 };
const ADMIN_SECRET = 'cli-admin-secret-cli-admin-secret-0123456789';
const API = 'https://reports.example.com';
const insecure = { execute: [oidc.allowInsecureRequests] };
const onPostgres = Boolean(process.env.DATABASE_URL);

let dir: string;
let dbEnv: Record<string, string>;
let drop: (() => Promise<void>) | undefined;
let issuer: string;
/** The server the CLI talks to, and (on PostgreSQL) a second one on the same database. */
let urls: string[] = [];
const procs: LatchkeyProcess[] = [];

/** The environment of an API-mode run: nothing of the database, only where and who. */
const apiEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  LATCHKEY_URL: urls[0]!,
  LATCHKEY_CLIENT_ID: 'cli-admin',
  LATCHKEY_CLIENT_SECRET: ADMIN_SECRET,
  ...extra,
});
const cli = (args: string[], env: Record<string, string> = apiEnv(), input?: string): Promise<CliRun> =>
  runCli(args, { cwd: dir, env, ...(input !== undefined ? { input } : {}) });
async function cliJson<T = Record<string, unknown>>(args: string[], env?: Record<string, string>, input?: string): Promise<T> {
  const r = await cli([...args, '--json'], env, input);
  assert.equal(r.code, 0, `latchkey ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** A client_credentials token for API from the server at `url` (the second process on PostgreSQL). */
async function tokenFor(clientId: string, secret: string, url = urls.at(-1)!): Promise<string> {
  const config = await oidc.discovery(new URL(issuer), clientId, undefined, oidc.ClientSecretBasic(secret), insecure);
  // Discovery names the issuer's endpoints; the token request goes to the process under test.
  config[oidc.customFetch] = (u, init) => fetch(u.replace(issuer, url), init as RequestInit);
  const tokens = await oidc.clientCredentialsGrant(config, { resource: API });
  return tokens.access_token;
}
const refused = (p: Promise<unknown>) =>
  assert.rejects(p, (err: { error?: string; status?: number }) => err.error === 'invalid_client' || err.status === 401);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'latchkey-cli-api-'));
  const fresh = await freshDatabaseEnv();
  dbEnv = fresh.env;
  drop = fresh.drop;
  const ports = await Promise.all((onPostgres ? [0, 1] : [0]).map(() => freePort()));
  issuer = `http://127.0.0.1:${ports[0]}`;
  urls = ports.map((p) => `http://127.0.0.1:${p}`);
  const bootstrap = join(dir, 'bootstrap.json');
  const admin = (client_id: string, scope: string) => ({
    client_id,
    client_secret: ADMIN_SECRET,
    grant_types: ['client_credentials'],
    scope,
    audiences: [`${issuer}/admin/api`],
  });
  writeFileSync(
    bootstrap,
    JSON.stringify({
      resources: [{ identifier: API, scopes: ['reports:read'] }],
      clients: [admin('cli-admin', 'latchkey:admin'), admin('cli-reader', 'latchkey:admin:read')],
    }),
  );
  for (const port of ports) {
    procs.push(
      startProcess({
        ...dbEnv,
        ...(onPostgres ? {} : { LATCHKEY_SECRET: TEST_SECRET }),
        PORT: String(port),
        ISSUER: issuer,
        LATCHKEY_BOOTSTRAP: bootstrap,
        CLIENT_CACHE_TTL: '1',
      }),
    );
  }
  // A fresh embedded database migrates at start-up: seconds when the machine is quiet, minutes when it is not.
  await Promise.all(procs.map((p) => p.waitFor(/listening/, 240_000)));
});

after(async () => {
  await Promise.all(procs.map((p) => stopProcess(p)));
  await drop?.();
  rmSync(dir, { recursive: true, force: true });
});

describe(`latchkey in API mode against a running server (${onPostgres ? 'PostgreSQL, two processes' : 'embedded database'})`, () => {
  let clientId = '';
  let secret = '';

  it('creates a client the server then issues tokens to, while the server holds the database', T, async () => {
    if (!onPostgres) {
      // Direct mode cannot open the embedded database the server holds: the reason API mode exists.
      const direct = await cli(['clients', 'list'], { PATH: process.env.PATH ?? '', ...dbEnv, LATCHKEY_SECRET: TEST_SECRET });
      assertOneLineFailure(direct, /held|in use|running|lock/i);
    }
    const created = await cliJson<{ client_id: string; client_secret: string; grant_types: string[]; audiences: string[] }>([
      'clients',
      'create',
      '--type',
      'service',
      '--name',
      'Reports job',
      '--audience',
      API,
      '--scope',
      'reports:read',
    ]);
    clientId = created.client_id;
    secret = created.client_secret;
    assert.deepEqual(created.grant_types, ['client_credentials']);
    assert.deepEqual(created.audiences, [API]);
    assert.ok(secret.length >= 32);
    // Used at once, through the other process on PostgreSQL: the change is in the shared database.
    assert.ok(await tokenFor(clientId, secret));

    const list = await cliJson<{ client_id: string; has_client_secret: boolean }[]>(['clients', 'list']);
    for (const id of ['cli-admin', 'cli-reader', clientId])
      assert.ok(
        list.some((c) => c.client_id === id),
        id,
      );
    const shown = await cli(['clients', 'show', clientId]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^client_secret\s+set \(stored only as a hash\)$/m);
    assert.doesNotMatch(shown.stdout, new RegExp(secret));
  });

  it('rotates the secret: the old one stops working, the new one works', T, async () => {
    const rotated = await cliJson<{ client_id: string; client_secret: string; previous_secret_expires_at: null }>([
      'clients',
      'rotate-secret',
      clientId,
    ]);
    assert.equal(rotated.client_id, clientId);
    assert.equal(rotated.previous_secret_expires_at, null);
    assert.notEqual(rotated.client_secret, secret);
    assert.ok(await tokenFor(clientId, rotated.client_secret));
    await waitUntil(
      'the old secret refused by every process',
      async () => {
        try {
          await tokenFor(clientId, secret);
          return false;
        } catch (err) {
          // A 401 with only a Basic challenge reaches openid-client as WWWAuthenticateChallengeError (status, no body error).
          const e = err as { error?: string; status?: number };
          return e.error === 'invalid_client' || e.status === 401;
        }
        // Every try sends a wrong secret: few of them, or the failure limiter (rightly) blocks the client.
      },
      { everyMs: 700 },
    );
    // With an overlap, both work until it ends (the admin API's rotation with overlap_seconds).
    const overlapped = await cli(['clients', 'rotate-secret', clientId, '--overlap', '600']);
    assert.equal(overlapped.code, 0, overlapped.stderr);
    const next = /New client_secret for "[^"]+": (\S+)/.exec(overlapped.stdout)?.[1];
    assert.ok(next, overlapped.stdout);
    assert.match(overlapped.stdout, /The old secret works until \d{4}-/);
    // The process the CLI talked to knows the new secret at once; the other one within
    // CLIENT_CACHE_TTL (1 s here). Few tries: each refusal counts in the failure limiter.
    assert.ok(await tokenFor(clientId, next, urls[0]));
    await waitUntil(
      'the new secret accepted by every process',
      async () => {
        try {
          return Boolean(await tokenFor(clientId, next));
        } catch {
          return false;
        }
      },
      { everyMs: 600 },
    );
    assert.ok(await tokenFor(clientId, rotated.client_secret, urls[0]));
    assert.ok(await tokenFor(clientId, rotated.client_secret));
    secret = next;
  });

  it('creates, lists, changes and deletes users; the password comes from standard input', T, async () => {
    const bob = await cliJson<{ id: string; username: string; roles: string[]; claims: Record<string, unknown> }>(
      ['users', 'create', '--username', 'bob', '--email', 'bob@example.com', '--role', 'support', '--password-stdin'],
      apiEnv(),
      'bob password 1234\n',
    );
    assert.equal(bob.username, 'bob');
    assert.deepEqual(bob.roles, ['support']);
    assert.deepEqual(bob.claims, { email: 'bob@example.com' });
    assertOneLineFailure(
      await cli(['users', 'create', '--username', 'BOB', '--password-stdin'], apiEnv(), 'another password\n'),
      /a user named "BOB" already exists/,
    );
    assert.deepEqual(
      (await cliJson<{ username: string }[]>(['users', 'list'])).map((u) => u.username),
      ['bob'],
    );
    assert.deepEqual(await cliJson(['users', 'set-roles', 'bob', '--role', 'admin']), { id: bob.id, username: 'bob', roles: ['admin'] });
    assert.deepEqual((await cliJson<{ roles: string[] }>(['users', 'show', bob.id])).roles, ['admin']);
    const changed = await cliJson(['users', 'set-password', 'bob', '--password-stdin'], apiEnv(), 'bob password 5678\n');
    assert.deepEqual(changed, { id: bob.id, username: 'bob', password_changed: true, sessions_ended: 0, grants_revoked: 0 });
    assert.deepEqual(await cliJson(['users', 'unlock', 'bob']), { id: bob.id, username: 'bob', failures_cleared: false });
    assert.deepEqual(await cliJson(['users', 'delete', 'bob']), { id: bob.id, username: 'bob', deleted: true });
    assertOneLineFailure(await cli(['users', 'show', 'bob']), /no user named "bob"/);
  });

  it('manages resources, trusted issuers and signing keys through the API', T, async () => {
    const created = await cliJson(['resources', 'create', 'https://orders.example.com', '--scope', 'orders:read orders:write']);
    assert.equal(created.result, 'created');
    const updated = await cliJson([
      'resources',
      'update',
      'https://orders.example.com',
      '--scope',
      'orders:read',
      '--scope-description',
      'orders:read=See your orders',
    ]);
    assert.deepEqual(updated, {
      identifier: 'https://orders.example.com',
      name: null,
      scopes: ['orders:read'],
      scope_descriptions: { 'orders:read': 'See your orders' },
      access_token_ttl: null,
      access_token_claims: [],
      result: 'updated',
    });
    const again = await cliJson(['resources', 'update', 'https://orders.example.com', '--scope', 'orders:read']);
    assert.equal(again.result, 'unchanged');
    const resources = await cliJson<{ identifier: string }[]>(['resources', 'list']);
    assert.ok(resources.some((r) => r.identifier === 'https://orders.example.com'));

    const jwks = join(dir, 'partner.jwks.json');
    writeFileSync(jwks, JSON.stringify({ keys: [(await clientKeyPair('ES256', 'partner-1')).publicJwk] }));
    const trusted = await cli([
      'trust',
      'add',
      '--issuer',
      'https://idp.partner.example',
      '--jwks-file',
      jwks,
      '--subject',
      'alice',
      '--client-id',
      clientId,
    ]);
    assert.equal(trusted.code, 0, trusted.stderr);
    // The client exists but has no jwt-bearer grant: the same warning as in direct mode.
    assert.match(trusted.stderr, /neither the jwt-bearer nor the token-exchange grant type/);
    const replaced = await cliJson([
      'trust',
      'add',
      '--issuer',
      'https://idp.partner.example',
      '--jwks-file',
      jwks,
      '--any-subject',
      '--client-id',
      clientId,
      '--replace',
    ]);
    assert.equal(replaced.result, 'updated');
    const listed = await cliJson<{ issuer: string; allow_any_subject?: boolean; subject?: string }[]>(['trust', 'list']);
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.allow_any_subject, true);
    assert.equal(listed[0]!.subject, undefined);
    assert.deepEqual(await cliJson(['trust', 'remove', 'https://idp.partner.example']), {
      issuer: 'https://idp.partner.example',
      removed: true,
    });

    const before = await cliJson<{ kid: string; alg: string; status: string }[]>(['keys', 'list']);
    assert.deepEqual(before.map((k) => k.status).sort(), ['signing', 'signing']);
    const rotation = await cliJson<{ delay_seconds: number; keys: { alg: string; retired: string[] }[] }>([
      'keys',
      'rotate',
      '--alg',
      'ES256',
      '--delay',
      '0',
    ]);
    assert.equal(rotation.delay_seconds, 0);
    assert.deepEqual(
      rotation.keys.map((k) => [k.alg, k.retired]),
      [['ES256', [before.find((k) => k.alg === 'ES256')!.kid]]],
    );
    const afterRotation = await cliJson<{ kid: string; status: string }[]>(['keys', 'list']);
    assert.equal(afterRotation.length, 3);
  });

  it('a read-only admin client reads, and gets one line naming the missing scope on a write', T, async () => {
    const reader = apiEnv({ LATCHKEY_CLIENT_ID: 'cli-reader' });
    const list = await cliJson<{ client_id: string }[]>(['clients', 'list'], reader);
    assert.ok(list.some((c) => c.client_id === clientId));
    assertOneLineFailure(
      await cli(['clients', 'create', '--type', 'service', '--name', 'Nope'], reader),
      /forbidden: client "cli-reader" lacks the scope latchkey:admin\b/,
    );
    assertOneLineFailure(await cli(['clients', 'delete', clientId], reader), /lacks the scope latchkey:admin\b/);
  });

  it('credentials: a wrong secret, a missing client id, a secret in argv, and --client-id with the secret on stdin', T, async () => {
    assertOneLineFailure(
      await cli(['clients', 'list'], apiEnv({ LATCHKEY_CLIENT_SECRET: 'not-the-secret-not-the-secret-0000000000' })),
      /client "cli-admin" could not authenticate at .*\/token \(invalid_client.*check LATCHKEY_CLIENT_ID and LATCHKEY_CLIENT_SECRET/,
    );
    const { LATCHKEY_CLIENT_ID: _i, LATCHKEY_CLIENT_SECRET: _s, ...bare } = apiEnv();
    assertOneLineFailure(await cli(['clients', 'list'], bare), /LATCHKEY_CLIENT_ID or --client-id/);
    assertOneLineFailure(await cli(['--client-secret', ADMIN_SECRET, 'clients', 'list'], bare), /--client-secret is not accepted/);
    const viaStdin = await cli(['--client-id', 'cli-admin', 'clients', 'show', clientId, '--json'], bare, `${ADMIN_SECRET}\n`);
    assert.equal(viaStdin.code, 0, viaStdin.stderr);
    assert.equal((JSON.parse(viaStdin.stdout) as { client_id: string }).client_id, clientId);
    // A client that may not get admin tokens at all (no admin audience).
    assertOneLineFailure(
      await cli(['clients', 'list'], apiEnv({ LATCHKEY_CLIENT_ID: clientId, LATCHKEY_CLIENT_SECRET: secret })),
      /client "[^"]+" may not get admin API tokens .*"audiences": \["http:\/\/127\.0\.0\.1:\d+\/admin\/api"\]/,
    );
  });

  it('unreachable servers, bad URLs and database-only commands each fail with one line', T, async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    assertOneLineFailure(
      await cli(['clients', 'list'], apiEnv({ LATCHKEY_URL: nobody })),
      /cannot reach Latchkey at http:\/\/127\.0\.0\.1:\d+: connection refused/,
    );
    assertOneLineFailure(
      await cli(['clients', 'list'], apiEnv({ LATCHKEY_URL: 'ftp://example.com' })),
      /LATCHKEY_URL must be an http\(s\) URL/,
    );
    assertOneLineFailure(await cli(['migrate'], apiEnv()), /migrate .*needs direct mode/);
    assertOneLineFailure(await cli(['import', join(dir, 'bootstrap.json')], apiEnv()), /import .*needs direct mode/);
    assertOneLineFailure(await cli(['clients', 'show', 'no-such-client'], apiEnv()), /no client with client_id "no-such-client"/);
  });

  it('deletes the client: every process then refuses it', T, async () => {
    assert.deepEqual(await cliJson(['clients', 'delete', clientId]), { client_id: clientId, deleted: true });
    await waitUntil('the deleted client refused', async () => {
      try {
        await tokenFor(clientId, secret);
        return false;
      } catch (err) {
        const e = err as { error?: string; status?: number };
        return e.error === 'invalid_client' || e.status === 401;
      }
    });
    await refused(tokenFor(clientId, secret, urls[0]));
    assertOneLineFailure(await cli(['clients', 'delete', clientId]), /no client with client_id/);
  });
});
