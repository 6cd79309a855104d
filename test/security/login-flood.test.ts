import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { postForm, startServer, type TestServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/wait.js';
import { basicAuth } from '../support/basic-auth.js';
import { formAction, hiddenField } from '../support/html-form.js';
import { UserAgent } from '../support/user-agent.js';

const API = 'https://api.example.com';
const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'svc-secret-svc-secret-svc-secret-0123456';
const insecure = { execute: [oidc.allowInsecureRequests] };

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/**
 * A load test, kept short: a burst of anonymous sign-ins (argon2 each) must not stall the token
 * endpoint. Password checks are bounded (PASSWORD_VERIFY_CONCURRENCY below libuv's thread pool),
 * so the WebCrypto signing of every access token still finds a thread; sign-ins beyond the
 * waiting line get a 503 page with Retry-After.
 */
describe('a login flood does not stall /token', () => {
  let server: TestServer;
  let web: oidc.Configuration;

  before(async () => {
    server = await startServer({
      // Anonymous guesses from one address: only the password-check bound applies here.
      env: { LOGIN_FAILURE_LIMIT_IP: '100000' },
      bootstrap: {
        resources: [{ identifier: API, scopes: ['api:read'] }],
        clients: [
          { client_id: 'svc', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'api:read', audiences: [API] },
          { client_id: 'web', client_secret: SECRET, redirect_uris: [CB], grant_types: ['authorization_code'], scope: 'openid' },
        ],
      },
    });
    web = await oidc.discovery(new URL(server.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), insecure);
  });
  after(() => server.close());

  async function tokenLatencies(n: number): Promise<number[]> {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const r = await postForm(
        `${server.url}/token`,
        { grant_type: 'client_credentials', scope: 'api:read' },
        { authorization: basicAuth('svc', SECRET) },
      );
      ms.push(performance.now() - t0);
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    return ms.sort((a, b) => a - b);
  }

  const gauge = async (state: 'running' | 'waiting') =>
    (await server.ctx.metrics.passwordChecks.get()).values.find((v) => v.labels.state === state)?.value ?? 0;
  const running = () => gauge('running');
  const load = async () => (await gauge('running')) + (await gauge('waiting'));

  it('client_credentials stays under 100 ms p99 while 60 sign-ins are checked; the overflow gets 503 + Retry-After', async () => {
    await tokenLatencies(10); // warm-up: the first calls compile code paths
    const quiet = await tokenLatencies(100);

    const ua = new UserAgent();
    const { url } = await pkceAuthorizationUrl(web, CB, { scope: 'openid' });
    const html = await (await ua.follow(await ua.get(url.toString()), server.url)).text();
    const action = formAction(html, server.url);
    const csrf = hiddenField(html, 'csrf');
    const t0 = performance.now();
    let answered = 0;
    const flood = Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const r = await ua.post(action, { username: `nobody-${i}`, password: 'not-a-real-password', csrf });
        const answer = { status: r.status, retryAfter: r.headers.get('retry-after'), text: await r.text() };
        answered++;
        return answer;
      }),
    );
    // Measured once all 60 have arrived (each answered, checking or waiting its turn), while the
    // checks run: what is measured is the thread pool, not the parsing of the burst itself.
    await waitUntil('all 60 sign-ins admitted', async () => answered + (await load()) >= 60);
    const loaded = await tokenLatencies(100);
    const stillRunning = await running();
    const logins = await flood;
    const floodMs = performance.now() - t0;

    const checked = logins.filter((l) => l.status === 401).length;
    const busy = logins.filter((l) => l.status === 503);
    const p = (xs: number[]) =>
      `p50 ${percentile(xs, 50).toFixed(1)} ms, p99 ${percentile(xs, 99).toFixed(1)} ms, max ${xs.at(-1)!.toFixed(1)} ms`;
    console.log(`# /token client_credentials, quiet (100 calls): ${p(quiet)}`);
    console.log(`# /token client_credentials during 60 sign-ins (100 calls): ${p(loaded)}`);
    console.log(
      `# sign-ins: ${checked} checked (401), ${busy.length} refused busy (503) in ${(floodMs / 1000).toFixed(1)} s; checks still running after the token calls: ${stillRunning}`,
    );

    assert.equal(checked + busy.length, 60, `only 401 and 503: ${logins.map((l) => l.status).join(',')}`);
    assert.ok(stillRunning > 0, 'the token calls were measured during the flood');
    assert.ok(busy.length > 0, 'beyond PASSWORD_VERIFY_CONCURRENCY + PASSWORD_VERIFY_QUEUE, sign-ins are refused at once');
    for (const b of busy) {
      assert.match(b.retryAfter ?? '', /^\d+$/);
      assert.match(b.text, /Too many people are signing in right now/);
    }
    // The budget is 100 ms on a quiet machine. The suite runs two files at once on shared CI
    // machines, so /token's p99 measured with no flood at all is itself noisy (20–40 ms here, with
    // single 80–150 ms outliers when the neighbouring file peaks): the budget is the larger of
    // 100 ms and four times that quiet p99 — still tight enough that a stall of the kind the flood
    // caused before the fix (7–36 s per call) fails by two orders of magnitude. The figures are
    // printed above; README's benchmark section has them from a quiet run.
    const budget = Math.max(100, 4 * percentile(quiet, 99));
    if (budget > 100) console.log(`# machine loaded (quiet p99 ${percentile(quiet, 99).toFixed(1)} ms): budget ${budget.toFixed(0)} ms`);
    assert.ok(
      percentile(loaded, 99) < budget,
      `p99 ${percentile(loaded, 99).toFixed(1)} ms during the flood; budget ${budget.toFixed(0)} ms`,
    );
  });
});
