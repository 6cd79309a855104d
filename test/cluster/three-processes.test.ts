import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import pg from 'pg';
import { SignJWT, decodeProtectedHeader } from 'jose';
import { clientKeyPair, type ClientKeys } from '../helpers/fixtures.js';
import { startProcess, stopProcess, type LatchkeyProcess } from '../helpers/process.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { waitUntil } from '../helpers/wait.js';
import { freshDatabaseEnv, postForm } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';
import { freePort } from '../support/ports.js';
import { UserAgent } from '../support/user-agent.js';
import { formAction, hiddenField } from '../support/html-form.js';
import { openDb } from '../../src/store/open.js';
import { loadConfig } from '../../src/config.js';
import { keysRepository } from '../../src/store/repositories/keys.js';
import { rotateSigningKeys } from '../../src/keys/keystore.js';
import { deriveSecrets } from '../../src/keys/secret.js';
import { systemClock } from '../../src/clock.js';
import { hashToken } from '../../src/tokens/opaque.js';

const API = 'https://api.example.com';
const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'cluster-secret-cluster-secret-0123456789';
const PASSWORD = 'correct horse battery staple';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const insecure = { execute: [oidc.allowInsecureRequests] };

/** A fresh connection each time: node:cluster hands connections, not requests, to its workers. */
function getJsonOnNewConnection(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
}

/**
 * Several Latchkey processes on one PostgreSQL database: three behind a load balancer (one issuer,
 * one secret, requests spread across them), or one with WORKERS=3, whose node:cluster workers
 * share the port. Everything that must happen once happens once in total, and every limit holds
 * in total, not per process.
 */
const TOPOLOGIES = [
  { name: 'three processes on one PostgreSQL', processes: 3, workers: 1 },
  { name: 'one process with WORKERS=3 on one PostgreSQL', processes: 1, workers: 3 },
] as const;

for (const topology of TOPOLOGIES)
  describe(
    topology.name,
    { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL: several processes share one PostgreSQL server' },
    () => {
      const clustered = topology.workers > 1;
      /** The device tests wait out real polling intervals (~25 s); their state is the same SQL either way. */
      const slow = clustered && 'the same SQL as with three processes, and slow: run there only';
      let db: Awaited<ReturnType<typeof freshDatabaseEnv>>;
      let dir: string;
      let procs: LatchkeyProcess[] = [];
      let urls: string[] = [];
      let issuer: string;
      let jwtKey: ClientKeys;
      let web: oidc.Configuration;
      const latchkeySecret = `${SECRET}-latchkey`;

      before(async () => {
        db = await freshDatabaseEnv();
        dir = mkdtempSync(join(tmpdir(), 'latchkey-cluster-'));
        jwtKey = await clientKeyPair('ES256');
        const bootstrap = join(dir, 'bootstrap.json');
        writeFileSync(
          bootstrap,
          JSON.stringify({
            resources: [{ identifier: API, scopes: ['api:read'] }],
            clients: [
              {
                client_id: 'web',
                client_secret: SECRET,
                redirect_uris: [CB],
                grant_types: ['authorization_code', 'refresh_token'],
                scope: 'openid offline_access api:read',
                audiences: [API],
                skip_consent: true,
              },
              {
                client_id: 'svc-jwt',
                grant_types: ['client_credentials'],
                token_endpoint_auth_method: 'private_key_jwt',
                jwks: { keys: [jwtKey.publicJwk] },
                scope: 'api:read',
                audiences: [API],
              },
              { client_id: 'tv', client_name: 'TV', token_endpoint_auth_method: 'none', grant_types: [DEVICE_GRANT], scope: 'openid' },
            ],
            users: [
              { username: 'alice', password: PASSWORD },
              { username: 'mallory-target', password: PASSWORD },
            ],
          }),
        );
        const ports = await Promise.all(Array.from({ length: topology.processes }, () => freePort()));
        issuer = `http://127.0.0.1:${ports[0]}`;
        // Three addresses to spread requests over; under WORKERS, one address three times (the
        // cluster spreads connections over its workers).
        urls = [0, 1, 2].map((i) => `http://127.0.0.1:${ports[i % ports.length]}`);
        // All start at once: migrations, first keys and the bootstrap race, and must not clash.
        procs = ports.map((port) =>
          startProcess({
            ...db.env,
            LATCHKEY_SECRET: latchkeySecret,
            PORT: String(port),
            ISSUER: issuer,
            LATCHKEY_BOOTSTRAP: bootstrap,
            KEY_RELOAD_INTERVAL: '1',
            CLIENT_CACHE_TTL: '1',
            LOGIN_FAILURE_LIMIT_ACCOUNT: '4',
            DEVICE_CODE_INTERVAL: '1',
            LOG_LEVEL: 'info',
            WORKERS: String(topology.workers),
            // Under WORKERS, 21 requests held on one row need at least three workers' pools.
            DB_POOL_MAX: '10',
          }),
        );
        await Promise.all(procs.map((p) => p.waitFor(/listening/)));
        web = await oidc.discovery(new URL(issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), insecure);
      });

      after(async () => {
        await Promise.all(procs.map((p) => stopProcess(p)));
        await db.drop();
        rmSync(dir, { recursive: true, force: true });
      });

      async function code(ua = new UserAgent(), via = 0) {
        const { url, verifier } = await pkceAuthorizationUrl(web, CB, { scope: 'openid offline_access api:read' });
        const local = url.toString().replace(issuer, urls[via]!);
        let r = await ua.follow(await ua.get(local), issuer);
        if (r.status === 200) {
          const html = await r.text();
          r = await ua.post(formAction(html, urls[via]!), { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') });
        }
        assert.equal(r.status, 303);
        return { code: new URL(r.headers.get('location')!).searchParams.get('code')!, verifier };
      }

      it('started together: one set of keys, one copy of every bootstrap row', async () => {
        const jwks = await Promise.all(urls.map(async (u) => (await (await fetch(`${u}/jwks`)).json()) as { keys: { kid: string }[] }));
        assert.equal(jwks[0]!.keys.length, 2);
        for (const j of jwks) assert.deepEqual(j.keys.map((k) => k.kid).sort(), jwks[0]!.keys.map((k) => k.kid).sort());
      });

      it('a code is redeemed at most once across processes', async () => {
        const { code: c, verifier } = await code();
        const results = await Promise.all(
          urls.flatMap((u) =>
            [0, 1].map(() =>
              postForm(
                `${u}/token`,
                { grant_type: 'authorization_code', code: c, redirect_uri: CB, code_verifier: verifier },
                { authorization: basicAuth('web', SECRET) },
              ),
            ),
          ),
        );
        assert.equal(results.filter((r) => r.status === 200).length, 1);
      });

      async function refreshTokenVia(via: number): Promise<string> {
        const { code: c, verifier } = await code();
        const t = await postForm(
          `${urls[via]}/token`,
          { grant_type: 'authorization_code', code: c, redirect_uri: CB, code_verifier: verifier },
          { authorization: basicAuth('web', SECRET) },
        );
        return t.body.refresh_token as string;
      }
      const refreshAt = (via: number, rt: string) =>
        postForm(`${urls[via]}/token`, { grant_type: 'refresh_token', refresh_token: rt }, { authorization: basicAuth('web', SECRET) });

      it('N refreshes of one token that all reach the database before the rotation commits, across processes: one successor, nothing revoked', async () => {
        const rt = await refreshTokenVia(1);
        // Hold the token's row, as a rotation in flight does, until every request is waiting for it:
        // then all of them provably arrived before the rotation that wins commits.
        const holder = new pg.Client({ connectionString: db.env.DATABASE_URL });
        // Watched from another session: inside a transaction pg_stat_activity is a snapshot.
        const watcher = new pg.Client({ connectionString: db.env.DATABASE_URL });
        await holder.connect();
        await watcher.connect();
        let results: Awaited<ReturnType<typeof refreshAt>>[];
        try {
          await holder.query('BEGIN');
          await holder.query('SELECT 1 FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE', [hashToken(rt)]);
          const sent = Promise.all(Array.from({ length: 21 }, (_, i) => refreshAt(i % 3, rt)));
          await waitUntil('21 refreshes wait for the row', async () => {
            const r = await watcher.query<{ n: string }>(
              "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%refresh_tokens%'",
            );
            return Number(r.rows[0]!.n) >= 21;
          });
          await holder.query('ROLLBACK');
          results = await sent;
        } finally {
          await holder.end();
          await watcher.end();
        }
        const ok = results.filter((r) => r.status === 200);
        assert.equal(ok.length, 1, JSON.stringify(results.map((r) => r.body.error_description ?? 'ok')));
        for (const r of results.filter((x) => x.status !== 200)) assert.match(r.body.error_description, /concurrent request/);
        const next = await refreshAt(2, ok[0]!.body.refresh_token);
        assert.equal(next.status, 200, 'nothing was revoked by the race');
      });

      it('a replay at another process after the rotation committed revokes the grant, and is logged (issue 11 items 6, 34)', async () => {
        const rt = await refreshTokenVia(0);
        const rotated = await refreshAt(0, rt);
        assert.equal(rotated.status, 200);
        const replay = await refreshAt(1, rt);
        assert.match(replay.body.error_description, /already used.*every token of this grant is now revoked/);
        assert.equal((await refreshAt(2, rotated.body.refresh_token)).body.error, 'invalid_grant', 'the successor died with the grant');
        const at = procs[1 % procs.length]!;
        await at.waitFor(/"event":"refresh_token\.reuse"/);
        const line = at
          .output()
          .split('\n')
          .find((l) => l.includes('"event":"refresh_token.reuse"'))!;
        const event = JSON.parse(line) as Record<string, unknown>;
        assert.equal(event.client_id, 'web');
        assert.equal(typeof event.grant_id, 'string');
        assert.equal(typeof event.user_id, 'string');
        assert.ok(!line.includes(rt) && !line.includes(rotated.body.refresh_token as string), 'no token in the log');
      });

      it('a replayed client assertion jti is refused by every process', async () => {
        const now = Math.floor(Date.now() / 1000);
        const assertion = await new SignJWT({
          iss: 'svc-jwt',
          sub: 'svc-jwt',
          aud: issuer,
          jti: crypto.randomUUID(),
          iat: now,
          exp: now + 60,
        })
          .setProtectedHeader({ alg: 'ES256', kid: 'client-key-1' })
          .sign(jwtKey.privateKey);
        const results = await Promise.all(
          urls.flatMap((u) =>
            [0, 1, 2].map(() =>
              postForm(`${u}/token`, {
                grant_type: 'client_credentials',
                client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
                client_assertion: assertion,
              }),
            ),
          ),
        );
        assert.equal(results.filter((r) => r.status === 200).length, 1);
      });

      it('device polling, slow_down and approval are seen by every process', { skip: slow }, async () => {
        const start = await postForm(`${urls[0]}/device_authorization`, { client_id: 'tv', scope: 'openid' });
        const poll = (i: number) =>
          postForm(`${urls[i]}/token`, { grant_type: DEVICE_GRANT, device_code: start.body.device_code, client_id: 'tv' });
        assert.equal((await poll(1)).body.error, 'authorization_pending');
        assert.equal((await poll(2)).body.error, 'slow_down', 'the interval is shared, not per process');
        // A person approves through process 2.
        const ua = new UserAgent();
        let html = await (await ua.get(`${urls[2]}/device`)).text();
        // Redirects name the public issuer (process 0); the forms are posted through process 2.
        let r = await ua.follow(
          await ua.post(formAction(html, urls[2]!), { user_code: start.body.user_code, csrf: hiddenField(html, 'csrf') }),
          issuer,
        );
        html = await r.text();
        r = await ua.follow(
          await ua.post(formAction(html, urls[2]!), { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') }),
          issuer,
        );
        html = await r.text();
        r = await ua.post(formAction(html, urls[2]!), { decision: 'allow', csrf: hiddenField(html, 'csrf') });
        assert.match(await r.text(), /Device connected/);
        // The polling interval grew to 6 s (slow_down): what the server checks is time itself, so
        // the test lets it pass (a clock cannot be moved in three other processes).
        await new Promise((res) => setTimeout(res, 6500));
        const tokens = await poll(0);
        assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
        await new Promise((res) => setTimeout(res, 6500));
        assert.equal((await poll(1)).body.error, 'invalid_grant', 'used once, in total');
      });

      it(
        'a device poller that restarts at the first interval after a slow_down gets its tokens, polling any process (issue 11 item 5)',
        { skip: slow },
        async () => {
          const start = await postForm(`${urls[0]}/device_authorization`, { client_id: 'tv', scope: 'openid' });
          const poll = (i: number) =>
            postForm(`${urls[i % 3]}/token`, { grant_type: DEVICE_GRANT, device_code: start.body.device_code, client_id: 'tv' });
          assert.equal((await poll(0)).body.error, 'authorization_pending');
          assert.equal((await poll(1)).body.error, 'slow_down');
          const ua = new UserAgent();
          let html = await (await ua.get(`${urls[2]}/device`)).text();
          let r = await ua.follow(
            await ua.post(formAction(html, urls[2]!), { user_code: start.body.user_code, csrf: hiddenField(html, 'csrf') }),
            issuer,
          );
          html = await r.text();
          if (html.includes('name="password"')) {
            r = await ua.follow(
              await ua.post(formAction(html, urls[2]!), { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') }),
              issuer,
            );
            html = await r.text();
          }
          r = await ua.post(formAction(html, urls[2]!), { decision: 'allow', csrf: hiddenField(html, 'csrf') });
          assert.match(await r.text(), /Device connected/);
          // The poller restarted and keeps the interval of the device authorization response (1 s
          // here): pacing is the poller's own, so it waits in real time, as a device does.
          const answers: string[] = [];
          for (let i = 0; i < 15 && !answers.includes('tokens'); i++) {
            await new Promise((res) => setTimeout(res, (start.body.interval as number) * 1000));
            const p = await poll(i);
            answers.push(p.status === 200 ? 'tokens' : p.body.error);
          }
          assert.ok(answers.includes('tokens'), answers.join(', '));
          assert.deepEqual(
            answers.filter((a) => a !== 'slow_down' && a !== 'tokens'),
            [],
          );
        },
      );

      it('the sign-in throttle holds in total, not per process', async () => {
        const ua = new UserAgent();
        const { url } = await pkceAuthorizationUrl(web, CB, { scope: 'openid' });
        const r = await ua.follow(await ua.get(url.toString().replace(issuer, urls[0]!)), urls[0]!);
        const html = await r.text();
        const path = new URL(formAction(html, urls[0]!)).pathname;
        const csrf = hiddenField(html, 'csrf');
        // Four failures spread over three processes reach the account limit of 4 …
        for (let i = 0; i < 4; i++) {
          const res = await ua.post(`${urls[i % 3]}${path}`, { username: 'mallory-target', password: 'wrong-password', csrf });
          assert.equal(res.status, 401);
        }
        // … so every process now refuses, even the right password.
        for (const u of urls)
          assert.equal((await ua.post(`${u}${path}`, { username: 'mallory-target', password: PASSWORD, csrf })).status, 429);
      });

      it('a key rotated through one process is published by all within KEY_RELOAD_INTERVAL', async () => {
        const config = loadConfig({ ...db.env, LATCHKEY_SECRET: latchkeySecret });
        const store = await openDb(config);
        try {
          const [rotated] = await rotateSigningKeys(keysRepository(store), deriveSecrets(latchkeySecret).keyEncryptionKey, systemClock, {
            delaySeconds: 0,
            maxTokenLifetime: 600,
            algs: ['ES256'],
          });
          const published = async (u: string) => {
            const { keys } = (await getJsonOnNewConnection(`${u}/jwks`)) as { keys: { kid: string }[] };
            return keys.some((k) => k.kid === rotated!.kid);
          };
          // Under WORKERS, nine new connections reach each of the three workers in turn.
          const everywhere = clustered ? [...urls, ...urls, ...urls] : urls;
          // KEY_RELOAD_INTERVAL is 1 s here: every process publishes it within a few.
          await waitUntil(
            'every process publishes the rotated key',
            async () => (await Promise.all(everywhere.map(published))).every(Boolean),
            {
              timeoutMs: 5000,
              everyMs: 100,
            },
          );
          // And each signs with it once loaded (delay 0).
          for (const u of urls) {
            await waitUntil(
              `${u} signs with the rotated key`,
              async () => {
                const c = await code(new UserAgent(), urls.indexOf(u));
                const tok = await postForm(
                  `${u}/token`,
                  { grant_type: 'authorization_code', code: c.code, redirect_uri: CB, code_verifier: c.verifier },
                  { authorization: basicAuth('web', SECRET) },
                );
                assert.equal(tok.status, 200, JSON.stringify(tok.body));
                return decodeProtectedHeader(tok.body.access_token).kid === rotated!.kid;
              },
              { timeoutMs: 6000, everyMs: 200 },
            );
          }
        } finally {
          await store.close();
        }
      });
    },
  );
