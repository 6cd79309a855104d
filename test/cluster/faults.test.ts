import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { API, SECRET } from '../helpers/fixtures.js';
import { createOwnPostgres, ownPostgresUnavailable, type OwnPostgres } from '../helpers/own-postgres.js';
import { startProcess, stopProcess, type LatchkeyProcess } from '../helpers/process.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { waitUntil } from '../helpers/wait.js';
import { freshDatabaseEnv, postForm } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';
import { freePort } from '../support/ports.js';
import { UserAgent } from '../support/user-agent.js';
import { formAction, hiddenField } from '../support/html-form.js';

const CB = 'http://127.0.0.1:8080/cb';
const PASSWORD = 'correct horse battery staple';
const LATCHKEY_SECRET = 'fault-test-secret-fault-test-secret-0123';
const STACK = /\n\s+at .+:\d+:\d+/;

function writeBootstrap(dir: string) {
  const file = join(dir, 'bootstrap.json');
  writeFileSync(
    file,
    JSON.stringify({
      resources: [{ identifier: API, scopes: ['api:read'] }],
      clients: [
        { client_id: 'svc', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'api:read', audiences: [API] },
        {
          client_id: 'web',
          client_secret: SECRET,
          redirect_uris: [CB],
          grant_types: ['authorization_code', 'refresh_token'],
          scope: 'openid offline_access',
          skip_consent: true,
        },
      ],
      users: [{ username: 'alice', password: PASSWORD }],
    }),
  );
  return file;
}

describe(
  'database faults: PostgreSQL stopped under load',
  { skip: !process.env.DATABASE_URL ? 'needs DATABASE_URL (PostgreSQL runs)' : ownPostgresUnavailable() },
  () => {
    let pg: OwnPostgres;
    let proc: LatchkeyProcess;
    let url: string;
    let dir: string;

    before(async () => {
      pg = createOwnPostgres(await freePort());
      dir = mkdtempSync(join(tmpdir(), 'latchkey-fault-'));
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      proc = startProcess({
        DATABASE_URL: pg.url,
        LATCHKEY_SECRET,
        PORT: String(port),
        LATCHKEY_BOOTSTRAP: writeBootstrap(dir),
        DB_STATEMENT_TIMEOUT_MS: '1000',
        LOG_LEVEL: 'info',
      });
      await proc.waitFor(/listening/);
    });
    after(async () => {
      await stopProcess(proc);
      pg.destroy();
      rmSync(dir, { recursive: true, force: true });
    });

    it('answers 503 temporarily_unavailable fast, /readyz says not ready, and recovers by itself', async () => {
      const token = (await postForm(`${url}/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth('svc', SECRET) })).body
        .access_token;
      const introspect = () => postForm(`${url}/introspect`, { token }, { authorization: basicAuth('svc', SECRET) });
      assert.equal((await introspect()).body.active, true);

      // Load while the database goes away.
      const stopLoad = new AbortController();
      const results: { status: number; ms: number; body: string }[] = [];
      const load = (async () => {
        while (!stopLoad.signal.aborted) {
          const t0 = Date.now();
          const res = await fetch(`${url}/introspect`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth('svc', SECRET) },
            body: new URLSearchParams({ token }).toString(),
            signal: AbortSignal.timeout(10_000),
          });
          results.push({ status: res.status, ms: Date.now() - t0, body: await res.text() });
        }
      })();
      await waitUntil('introspection answers under load', () => results.length >= 5);
      pg.stop('immediate');
      await waitUntil('readyz reports the database gone', async () => (await fetch(`${url}/readyz`)).status === 503, { timeoutMs: 15_000 });

      const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) });
      assert.equal(ready.status, 503);
      assert.equal(((await ready.json()) as { checks: { database: string } }).checks.database, 'unavailable');
      const down = await introspect();
      assert.equal(down.status, 503);
      assert.equal(down.body.error, 'temporarily_unavailable');
      // The client-credentials hot path reads no table: it keeps working.
      assert.equal(
        (await postForm(`${url}/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth('svc', SECRET) })).status,
        200,
      );

      pg.start();
      // Ready again without a restart.
      await waitUntil('readyz 200 again after PostgreSQL is back', async () => (await fetch(`${url}/readyz`)).status === 200, {
        timeoutMs: 15_000,
      });
      stopLoad.abort();
      await load;
      assert.equal((await introspect()).body.active, true);

      const failures = results.filter((r) => r.status !== 200);
      assert.ok(failures.length > 0, 'the outage was seen');
      for (const r of results) {
        assert.ok(r.status === 200 || r.status === 503, `unexpected ${r.status}: ${r.body}`);
        assert.ok(r.ms < 5000, `a request took ${r.ms} ms`);
        assert.doesNotMatch(r.body, STACK);
      }
      assert.doesNotMatch(proc.output(), /"level":60/, 'no fatal log');
    });
  },
);

describe(
  'process faults: kill -9 mid-load, then restart',
  { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL: the restarted process must find the same database' },
  () => {
    let db: Awaited<ReturnType<typeof freshDatabaseEnv>>;
    let dir: string;
    let env: Record<string, string>;
    let url: string;
    let proc: LatchkeyProcess;
    let web: oidc.Configuration;

    before(async () => {
      db = await freshDatabaseEnv();
      dir = mkdtempSync(join(tmpdir(), 'latchkey-kill-'));
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      env = { ...db.env, LATCHKEY_SECRET, PORT: String(port), ISSUER: url, LATCHKEY_BOOTSTRAP: writeBootstrap(dir), LOG_LEVEL: 'info' };
      proc = startProcess(env);
      await proc.waitFor(/listening/);
      web = await oidc.discovery(new URL(url), 'web', undefined, oidc.ClientSecretBasic(SECRET), { execute: [oidc.allowInsecureRequests] });
    });
    after(async () => {
      await stopProcess(proc);
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    async function signIn() {
      const { url: authUrl, verifier } = await pkceAuthorizationUrl(web, CB, { scope: 'openid offline_access' });
      const ua = new UserAgent();
      const html = await (await ua.follow(await ua.get(authUrl.toString()), url)).text();
      const r = await ua.post(formAction(html, url), { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') });
      return { code: new URL(r.headers.get('location')!).searchParams.get('code')!, verifier };
    }
    const exchange = (c: { code: string; verifier: string }) =>
      postForm(
        `${url}/token`,
        { grant_type: 'authorization_code', code: c.code, redirect_uri: CB, code_verifier: c.verifier },
        { authorization: basicAuth('web', SECRET) },
      );
    const refresh = (rt: string) =>
      postForm(`${url}/token`, { grant_type: 'refresh_token', refresh_token: rt }, { authorization: basicAuth('web', SECRET) });

    it('every token issued still verifies; no code or refresh token is usable twice', async () => {
      const used = await signIn();
      assert.equal((await exchange(used)).status, 200);
      const families = await Promise.all([1, 2, 3, 4].map(async () => (await exchange(await signIn())).body.refresh_token as string));

      const spent: string[] = [];
      const accessTokens: string[] = [];
      let killed = false;
      const loops = families.map(async (first) => {
        let rt = first;
        while (!killed) {
          let r;
          try {
            r = await refresh(rt);
          } catch {
            return; // the process died mid-request: that response is lost
          }
          if (r.status !== 200) return;
          spent.push(rt);
          accessTokens.push(r.body.access_token);
          rt = r.body.refresh_token;
        }
      });
      await waitUntil('refreshes happen before the kill', () => spent.length > 4);
      killed = true;
      proc.child.kill('SIGKILL');
      await Promise.all(loops);
      await proc.exited;
      assert.ok(spent.length > 4, `refreshes happened before the kill (${spent.length})`);

      proc = startProcess(env);
      await proc.waitFor(/listening/);

      for (const at of accessTokens) assert.equal((await oidc.tokenIntrospection(web, at)).active, true, 'issued tokens survive the crash');
      assert.equal((await exchange(used)).body.error, 'invalid_grant', 'a redeemed code stays redeemed');
      for (const rt of spent) assert.equal((await refresh(rt)).status, 400, 'a rotated refresh token never works again');
    });
  },
);
