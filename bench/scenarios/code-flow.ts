/**
 * The authorization code flow as the code, refresh and login scenarios need it: signing the bench
 * user in once per target, then minting codes with prompt=none on that session, each with its own
 * PKCE pair — all before anything is measured.
 *
 * Latchkey: GET /authorize → 303 /interaction/ID (a browser cookie binds it) → the login page
 * carries a CSRF field → POST /interaction/ID/login → 303 to the redirect URI with a code and a
 * session cookie (the bench clients have skip_consent, so there is no consent page).
 *
 * node-oidc-provider: its built-in development interactions (enabled by default in v9; the bench
 * server keeps them on): GET /auth → 303 /interaction/UID → POST prompt=login&login=…&password=…
 * → GET /auth/UID → 303 /interaction/UID (consent) → POST prompt=consent → GET /auth/UID → 303
 * to the redirect URI with a code and a session cookie. The grant it stores covers later
 * prompt=none requests of the same client and scope.
 */
import type { BenchClient } from '../fixtures.js';
import { findHiddenField } from '../../test/support/html-form.js';
import { UserAgent } from '../../test/support/user-agent.js';
import { batch, header, locationPath, type Answer } from '../lib/http.js';
import type { TargetId } from '../targets.js';
import { pkcePair } from '../../test/support/pkce.js';
import { API, BENCH_USER, isLatchkey, isOidcProvider, random, REDIRECT_URI } from './common.js';
import type { RequestSpec } from './types.js';

/**
 * Connections used to mint: more than the measurement's 20, so that Latchkey's inserts share
 * PostgreSQL commits (group commit) and minting takes less of the run.
 */
export const MINT_CONNECTIONS = 32;

export interface MintedCode {
  code: string;
  verifier: string;
}

/** Where a target's authorization endpoint is. */
export const authorizePath = (t: TargetId) => (isOidcProvider(t) ? '/auth' : '/authorize');

/** An authorization request of `client` for `scope` and the API as resource, with PKCE. */
export function authorizeUrl(
  t: TargetId,
  client: BenchClient,
  scope: string,
  challenge: string,
  extra: Record<string, string> = {},
): string {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    scope,
    resource: API,
    state: random(12),
    nonce: random(12),
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  });
  return `${authorizePath(t)}?${q.toString()}`;
}

const expectRedirect = async (res: Response, step: string, to?: RegExp): Promise<string> => {
  if (res.status !== 303 && res.status !== 302) {
    throw new Error(`${step}: expected a redirect, got HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
  }
  await res.arrayBuffer().catch(() => undefined);
  const path = locationPath(res);
  if (to && !to.test(path)) throw new Error(`${step}: redirected to ${res.headers.get('location')}, expected ${to}`);
  return path;
};

/** The code in a redirect to the client, or why there is none. */
export function codeFrom(location: string | undefined): string | undefined {
  if (!location || !location.startsWith(REDIRECT_URI)) return undefined;
  return new URL(location).searchParams.get('code') ?? undefined;
}

/** The CSRF field of Latchkey's login page. */
export const csrfField = (html: string): string | undefined => findHiddenField(html, 'csrf') || undefined;

/**
 * Signs BENCH_USER in to `t` through its pages and returns the Cookie header value that carries
 * the resulting session (one argon2 verification on Latchkey, unmeasured).
 */
export async function signIn(t: TargetId, baseUrl: string, client: BenchClient, scope: string): Promise<string> {
  const ua = new UserAgent({ baseUrl, timeoutMs: 15_000 });
  const { challenge } = pkcePair();
  const start = await expectRedirect(await ua.get(authorizeUrl(t, client, scope, challenge)), 'authorize', /^\/interaction\//);
  if (isLatchkey(t)) {
    const page = await ua.get(start);
    const csrf = csrfField(await page.text());
    if (page.status !== 200 || !csrf) throw new Error(`login page: HTTP ${page.status}, no csrf field`);
    const done = await ua.post(`${start}/login`, { csrf, username: BENCH_USER.username, password: BENCH_USER.password });
    if (!codeFrom(done.headers.get('location') ?? undefined)) {
      throw new Error(
        `login: expected a 303 to the client with a code (skip_consent), got HTTP ${done.status} ${done.headers.get('location') ?? ''}`,
      );
    }
    const session = ua.jar.get('lk_session');
    if (!session) throw new Error('login: no lk_session cookie');
    return `lk_session=${session}`;
  }
  if (isOidcProvider(t)) {
    const resume1 = await expectRedirect(
      await ua.post(start, { prompt: 'login', login: BENCH_USER.username, password: BENCH_USER.password }),
      'login',
      /^\/auth\//,
    );
    const consent = await expectRedirect(await ua.get(resume1), 'resume after login', /^\/interaction\//);
    const resume2 = await expectRedirect(await ua.post(consent, { prompt: 'consent' }), 'consent', /^\/auth\//);
    const done = await ua.get(resume2);
    if (!codeFrom(done.headers.get('location') ?? undefined)) {
      throw new Error(
        `consent: expected a redirect to the client with a code, got HTTP ${done.status} ${done.headers.get('location') ?? ''}: ${(await done.text()).slice(0, 300)}`,
      );
    }
    const cookies = ua.jar
      .header()
      .split('; ')
      .filter((c) => c.startsWith('_session'));
    if (!cookies.length) throw new Error('consent: no _session cookie');
    return cookies.join('; ');
  }
  throw new Error(`${t} has no authorization endpoint`);
}

/**
 * Mints `count` codes on the signed-in session (GET authorize with prompt=none, each with a new
 * PKCE pair, state and nonce), over `connections` connections; calls `push` for each.
 */
export async function mintCodes(
  t: TargetId,
  baseUrl: string,
  cookie: string,
  client: BenchClient,
  scope: string,
  count: number,
  connections: number,
  push: (c: MintedCode) => void,
): Promise<void> {
  await batch<string>(
    baseUrl,
    count,
    connections,
    () => {
      const { verifier, challenge } = pkcePair();
      const req: RequestSpec = { method: 'GET', path: authorizeUrl(t, client, scope, challenge, { prompt: 'none' }), headers: { cookie } };
      return { req, value: verifier };
    },
    (verifier, a: Answer) => {
      const code = a.status === 303 || a.status === 302 ? codeFrom(header(a, 'location')) : undefined;
      if (!code) return false;
      push({ code, verifier });
      return true;
    },
  );
}

/** The body of the code exchange (client_secret_basic: the client is in the header). */
export const codeExchangeBody = (c: MintedCode) =>
  `grant_type=authorization_code&code=${encodeURIComponent(c.code)}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_verifier=${c.verifier}`;
