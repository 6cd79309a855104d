import { batch, locationPath, Stock } from '../lib/http.js';
import { authorizationCodeClient } from './authorization-code.js';
import { authorizeUrl, codeFrom, csrfField } from './code-flow.js';
import { pkcePair } from '../../test/support/pkce.js';
import { apiResource, BENCH_USER, form, random, REDIRECT_URI } from './common.js';
import type { RequestSpec, Scenario } from './types.js';

/**
 * A sign-in waiting for its password: created by GET /authorize without a session. `browser` is
 * the value of Latchkey's lk_browser cookie (__Host-lk_browser only on an https issuer, which the
 * bench does not use).
 */
interface PendingLogin {
  id: string;
  browser: string;
  csrf: string;
}

const SCOPE = 'openid api:read';
/** argon2 runs on libuv's thread pool (4 threads by default); more connections only queue. */
const CONNECTIONS = 4;
/** Interactions live INTERACTION_TTL (1800 s); made at most this long before use. */
const MAX_AGE_MS = 900_000;

/** Makes `n` pending sign-ins: two unmeasured requests each (authorize, then the login page). */
async function makePendingLogins(baseUrl: string, n: number, push: (p: PendingLogin) => void): Promise<void> {
  const started: { id: string; browser: string }[] = [];
  await batch<string>(
    baseUrl,
    n,
    16,
    () => {
      // The browser cookie binds the interaction to "this browser" (one per sign-in here).
      const browser = random(32);
      const { challenge } = pkcePair();
      return {
        req: {
          method: 'GET',
          path: authorizeUrl('latchkey', authorizationCodeClient, SCOPE, challenge),
          headers: { cookie: `lk_browser=${browser}` },
        },
        value: browser,
      };
    },
    (browser, a) => {
      if (a.status !== 303) return false;
      const m = /^\/interaction\/([\w-]+)$/.exec(locationPath(a));
      if (!m) return false;
      started.push({ id: m[1]!, browser });
      return true;
    },
  );
  let i = 0;
  await batch<{ id: string; browser: string }>(
    baseUrl,
    started.length,
    16,
    () => {
      const s = started[i++]!;
      return { req: { method: 'GET', path: `/interaction/${s.id}`, headers: { cookie: `lk_browser=${s.browser}` } }, value: s };
    },
    (s, a) => {
      const csrf = a.status === 200 ? csrfField(a.body) : undefined;
      if (!csrf) return false;
      push({ ...s, csrf });
      return true;
    },
  );
}

/** Issue 3: the sign-in POST, bound by argon2id (OWASP's m = 19 MiB, t = 2, p = 1 by default, PASSWORD_HASH_*). */
export const login: Scenario = {
  id: 'login',
  title: 'login POST: username + password (argon2id), fresh interaction per request',
  description:
    'POST /interaction/ID/login with csrf, username and the right password, on an interaction made beforehand (GET /authorize ' +
    'without a session, with its own browser cookie, then the login page for its CSRF field) → 303 to the client with a code ' +
    "(skip_consent) and a new session cookie. Bound by argon2id verification with OWASP's parameters (m = 19 MiB, t = 2, p = 1: " +
    'about 30–50 ms of CPU by design), so the number to read is logins per second and per CPU-second of the Latchkey process (one ' +
    `process; argon2 runs on libuv's thread pool). ${CONNECTIONS} connections. No peer: oidc-provider ships no real login ` +
    '(its development interactions accept any password without checking it).',
  fixtures: { clients: [authorizationCodeClient], resources: [apiResource], users: [BENCH_USER] },
  targets: ['latchkey', 'latchkey-workers2'],
  defaultTargets: ['latchkey'],
  expectStatus: 303,
  connections: CONNECTIONS,
  perCpuSecond: true,
  workload(_target, ctx) {
    const stock = new Stock<PendingLogin>(MAX_AGE_MS);
    const body = (p: PendingLogin) => form({ csrf: p.csrf, username: BENCH_USER.username, password: BENCH_USER.password });
    return {
      next(): RequestSpec | undefined {
        const p = stock.take();
        return (
          p && {
            method: 'POST',
            path: `/interaction/${p.id}/login`,
            headers: { cookie: `lk_browser=${p.browser}`, 'content-type': 'application/x-www-form-urlencoded' },
            body: body(p),
          }
        );
      },
      available: () => stock.size,
      stock: (count) => stock.fill(count, (n) => makePendingLogins(ctx.baseUrl, n, (p) => stock.push(p))),
      describeStocking: () => stock.describe('pending sign-ins'),
    };
  },
  verify(_target, res) {
    const location = res.headers.get('location') ?? undefined;
    if (res.status !== 303 || !codeFrom(location)) {
      throw new Error(`expected 303 to ${REDIRECT_URI} with a code, got HTTP ${res.status} ${location ?? ''}: ${res.body.slice(0, 300)}`);
    }
    const session = res.headers.getSetCookie().find((c) => c.startsWith('lk_session='));
    if (!session) throw new Error('no lk_session cookie set');
    return `HTTP 303 to the client with a code, session cookie set (${session
      .split(';')
      .slice(1)
      .map((s) => s.trim())
      .join('; ')})`;
  },
  goals: [],
};
