import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { startProcess, stopProcess, type LatchkeyProcess } from '../helpers/process.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { freshDatabaseEnv } from '../helpers/server.js';
import { waitUntil } from '../helpers/wait.js';
import { freePort } from '../support/ports.js';
import { UserAgent } from '../support/user-agent.js';
import { formAction, hiddenField } from '../support/html-form.js';

const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'cluster-secret-cluster-secret-0123456789';
const PASSWORD = 'correct horse battery staple';
const insecure = { execute: [oidc.allowInsecureRequests] };

/**
 * The sign-in throttle under concurrency across processes: simultaneous wrong
 * passwords for one account, spread over three processes on one PostgreSQL, get no more password
 * checks in total than the account's limit, because each attempt is reserved in PostgreSQL before
 * its password is checked. The processes' security-event log lines count the checks.
 */
describe(
  'sign-in throttle across three processes',
  { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL: several processes share one PostgreSQL server' },
  () => {
    let db: Awaited<ReturnType<typeof freshDatabaseEnv>>;
    let dir: string;
    let procs: LatchkeyProcess[] = [];
    let urls: string[] = [];
    let issuer: string;
    let web: oidc.Configuration;

    before(async () => {
      db = await freshDatabaseEnv();
      dir = mkdtempSync(join(tmpdir(), 'latchkey-cluster-login-'));
      const bootstrap = join(dir, 'bootstrap.json');
      writeFileSync(
        bootstrap,
        JSON.stringify({
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
          users: [{ username: 'target', password: PASSWORD }],
        }),
      );
      const ports = await Promise.all([freePort(), freePort(), freePort()]);
      issuer = `http://127.0.0.1:${ports[0]}`;
      urls = ports.map((p) => `http://127.0.0.1:${p}`);
      procs = ports.map((port) =>
        startProcess({
          ...db.env,
          LATCHKEY_SECRET: `${SECRET}-latchkey`,
          PORT: String(port),
          ISSUER: issuer,
          LATCHKEY_BOOTSTRAP: bootstrap,
          LOGIN_FAILURE_LIMIT_ACCOUNT: '10',
          LOGIN_FAILURE_LIMIT_IP: '10000',
          PASSWORD_VERIFY_QUEUE: '100',
          LOG_LEVEL: 'info',
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

    const eventLines = (type: string) => procs.flatMap((p) => p.output().split('\n')).filter((line) => line.includes(`"event":"${type}"`));

    it('60 simultaneous wrong passwords over three processes: at most 10 checked in total, then the right one is refused everywhere', async () => {
      const ua = new UserAgent();
      const { url } = await pkceAuthorizationUrl(web, CB, { scope: 'openid' });
      const html = await (await ua.follow(await ua.get(url.toString().replace(issuer, urls[0]!)), urls[0]!)).text();
      const path = new URL(formAction(html, urls[0]!)).pathname;
      const csrf = hiddenField(html, 'csrf');
      const answers = await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          const r = await ua.post(`${urls[i % 3]}${path}`, { username: 'target', password: 'wrong-password-wrong', csrf });
          await r.text();
          return r.status;
        }),
      );
      const checked = answers.filter((s) => s === 401).length;
      console.log(
        `# 60 concurrent wrong passwords over 3 processes: ${checked} checked (401), ${answers.filter((s) => s === 429).length} refused (429)`,
      );
      assert.equal(answers.filter((s) => s === 401 || s === 429).length, 60, answers.join(','));
      assert.ok(checked <= 10, `${checked} wrong passwords were checked in total; the limit is 10`);
      for (const u of urls) {
        const right = await ua.post(`${u}${path}`, { username: 'target', password: PASSWORD, csrf });
        assert.equal(right.status, 429, `the right password is refused by ${u} while locked`);
      }
      // One login.failure line per checked password, one login.lockout in total.
      await waitUntil('every failure logged', () => eventLines('login.failure').length === checked);
      assert.equal(eventLines('login.lockout').length, 1, eventLines('login.lockout').join('\n'));
      assert.doesNotMatch(eventLines('login.failure').join('\n'), /wrong-password/, 'no password in the log');
    });
  },
);
