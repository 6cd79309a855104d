/**
 * The credentials the mixed load consumes, and how they are made:
 *
 * - Codes: the soak user signs in once through the real login form (GET /authorize → 303 to
 *   /interaction/ID → POST the form with its csrf field → 303 to the callback with a code). From
 *   then on a background minter asks GET /authorize?prompt=none with the session cookie; the web
 *   client has skip_consent, so each answer is a 303 to the callback with a fresh code (PKCE S256).
 *   Codes live 60 s on the server; the pool hands out none older than 30 s.
 * - Refresh chains: each code exchange (scope openid offline_access api:read) returns a refresh
 *   token. Up to a cap, each one starts a chain: a chain is refreshed by one request at a time and
 *   every refresh puts the rotated successor back, so chains grow for the whole run.
 * - Access tokens for introspection: every token response feeds a ring of recent access tokens.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CookieJar } from '../test/support/cookie-jar.js';
import { formAction, hiddenField } from '../test/support/html-form.js';
import { pkcePair } from '../test/support/pkce.js';
import { API, CALLBACK, type Credentials } from './server.js';
import { elapsedMs, errorCode, form, type HttpClient, type HttpResult } from './http.js';
import type { EndpointStats, Outcome } from './stats.js';

export const CODE_MAX_AGE_MS = 30_000;
const SCOPE = 'openid offline_access api:read';

const b64url = (b: Buffer) => b.toString('base64url');

export interface MintedCode {
  code: string;
  verifier: string;
  mintedAt: number;
}

/** A queue that hands items to waiting consumers first; `close()` releases every waiter with undefined. */
class AsyncQueue<T> {
  protected items: T[] = [];
  private waiters: ((t: T | undefined) => void)[] = [];
  private closed = false;
  waits = 0;
  waitedMs = 0;

  put(t: T): void {
    const w = this.waiters.shift();
    if (w) w(t);
    else this.items.push(t);
  }

  protected next(): T | undefined {
    return this.items.shift();
  }

  async take(): Promise<T | undefined> {
    const t = this.next();
    if (t !== undefined || this.closed) return t;
    this.waits++;
    const t0 = performance.now();
    const got = await new Promise<T | undefined>((resolve) => this.waiters.push(resolve));
    this.waitedMs += performance.now() - t0;
    return got;
  }

  get size(): number {
    return this.items.length;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}

export class CodePool extends AsyncQueue<MintedCode> {
  discardedStale = 0;
  private demand: (() => void)[] = [];

  protected override next(): MintedCode | undefined {
    const now = performance.now();
    let c = super.next();
    while (c && now - c.mintedAt > CODE_MAX_AGE_MS) {
      this.discardedStale++;
      c = super.next();
    }
    return c;
  }

  override take(): Promise<MintedCode | undefined> {
    for (const d of this.demand.splice(0)) d();
    return super.take();
  }

  /** Resolves when a consumer takes (or waits for) a code, or after `ms`. */
  demanded(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.demand.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

export interface Chain {
  id: number;
  token: string;
  refreshes: number;
}

export class ChainPool extends AsyncQueue<Chain> {
  private nextId = 1;
  started = 0;
  lost = 0;
  dropped = 0;
  maxRefreshes = 0;

  constructor(readonly cap: number) {
    super();
  }

  /** Live chains: idle ones plus those being refreshed right now. */
  get live(): number {
    return this.started - this.lost;
  }

  /** A new refresh token starts a chain while there are fewer than `cap`; otherwise it is left unused. */
  offer(token: string): void {
    if (this.live >= this.cap) {
      this.dropped++;
      return;
    }
    this.started++;
    this.put({ id: this.nextId++, token, refreshes: 0 });
  }

  advance(chain: Chain, token: string): void {
    chain.token = token;
    chain.refreshes++;
    if (chain.refreshes > this.maxRefreshes) this.maxRefreshes = chain.refreshes;
    this.put(chain);
  }

  lose(): void {
    this.lost++;
  }
}

/** The most recent access tokens, for introspection. */
export class TokenRing {
  private readonly tokens: string[] = [];
  private i = 0;
  added = 0;
  constructor(private readonly capacity: number) {}
  add(token: string): void {
    this.added++;
    if (this.tokens.length < this.capacity) this.tokens.push(token);
    else {
      this.tokens[this.i] = token;
      this.i = (this.i + 1) % this.capacity;
    }
  }
  pick(): string | undefined {
    return this.tokens.length ? this.tokens[Math.floor(Math.random() * this.tokens.length)] : undefined;
  }
}

function authorizePath(clientId: string, challenge: string, state: string, prompt?: string): string {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CALLBACK,
    scope: SCOPE,
    resource: API,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce: b64url(randomBytes(12)),
    ...(prompt ? { prompt } : {}),
  });
  return `/authorize?${q.toString()}`;
}

/** The code in a 303 to the callback, or why there is none. */
function codeFromRedirect(r: HttpResult, state: string): { code: string } | { problem: string } {
  const location = r.headers.location;
  if (r.status !== 303 || !location) return { problem: `expected a 303 to the callback, got HTTP ${r.status}: ${r.body.slice(0, 300)}` };
  const u = new URL(location);
  if (`${u.origin}${u.pathname}` !== CALLBACK) return { problem: `redirected to ${location.slice(0, 200)}, not the callback` };
  const code = u.searchParams.get('code');
  if (!code) return { problem: `callback without a code: ${location.slice(0, 300)}` };
  if (u.searchParams.get('state') !== state) return { problem: 'callback with the wrong state' };
  return { code };
}

const pathOf = (location: string, baseUrl: string): string => {
  const u = new URL(location, baseUrl);
  if (u.origin !== new URL(baseUrl).origin) throw new Error(`unexpected redirect off the server: ${location}`);
  return `${u.pathname}${u.search}`;
};

/**
 * Signs the soak user in through the login form, once, and returns the session's cookie jar
 * together with the first code.
 */
export async function signIn(client: HttpClient, baseUrl: string, creds: Credentials): Promise<{ jar: CookieJar; first: MintedCode }> {
  const jar = new CookieJar();
  const get = async (path: string) => {
    const r = await client.request('GET', path, { ...jar.headers() });
    jar.store(r.headers['set-cookie']);
    return r;
  };
  const pkce = pkcePair();
  const state = b64url(randomBytes(12));
  let r = await get(authorizePath(creds.web.id, pkce.challenge, state));
  for (let i = 0; i < 5 && r.status >= 300 && r.status < 400 && r.headers.location?.startsWith(baseUrl); i++) {
    r = await get(pathOf(r.headers.location, baseUrl));
  }
  if (r.status !== 200 || !r.body.includes('name="password"'))
    throw new Error(`expected the login page, got HTTP ${r.status}: ${r.body.slice(0, 500)}`);
  const body = form({ username: creds.user.username, password: creds.user.password, csrf: hiddenField(r.body, 'csrf') });
  r = await client.request(
    'POST',
    pathOf(formAction(r.body, baseUrl), baseUrl),
    { 'content-type': 'application/x-www-form-urlencoded', ...jar.headers() },
    body,
  );
  jar.store(r.headers['set-cookie']);
  const got = codeFromRedirect(r, state);
  if ('problem' in got) throw new Error(`sign-in did not end at the callback: ${got.problem}`);
  return { jar, first: { code: got.code, verifier: pkce.verifier, mintedAt: performance.now() } };
}

/** Mints one code with prompt=none on the signed-in session. */
export async function mintCode(
  client: HttpClient,
  jar: CookieJar,
  clientId: string,
): Promise<{ minted?: MintedCode; ms: number; outcome: Outcome }> {
  const pkce = pkcePair();
  const state = b64url(randomBytes(12));
  let r: HttpResult;
  try {
    r = await client.request('GET', authorizePath(clientId, pkce.challenge, state, 'none'), { ...jar.headers() });
  } catch (err) {
    return { ms: elapsedMs(err), outcome: { kind: 'transport', code: errorCode(err) } };
  }
  jar.store(r.headers['set-cookie']);
  const got = codeFromRedirect(r, state);
  if ('problem' in got) {
    const outcome: Outcome =
      r.status === 303 ? { kind: 'invalid', reason: got.problem } : { kind: 'status', status: r.status, body: r.body };
    return { ms: r.ms, outcome };
  }
  return { minted: { code: got.code, verifier: pkce.verifier, mintedAt: performance.now() }, ms: r.ms, outcome: { kind: 'ok' } };
}

/**
 * Background minter: up to `concurrency` loops keep the code pool (plus codes being minted) at
 * `target` codes, and mint one more for every worker waiting. Their requests are
 * recorded under their own endpoint (they are not part of the weighted mix).
 */
export function startMinter(opts: {
  client: HttpClient;
  jar: CookieJar;
  clientId: string;
  pool: CodePool;
  target: number;
  concurrency: number;
  stats: EndpointStats;
  now: () => number;
  stopped: () => boolean;
}): Promise<void> {
  let inFlight = 0;
  const loop = async () => {
    while (!opts.stopped()) {
      if (opts.pool.size + inFlight >= opts.target + opts.pool.waiting) {
        await opts.pool.demanded(50);
        continue;
      }
      inFlight++;
      const r = await mintCode(opts.client, opts.jar, opts.clientId);
      inFlight--;
      if (opts.stopped()) return;
      opts.stats.record(opts.now(), r.ms, r.outcome);
      if (r.minted) opts.pool.put(r.minted);
      else if (r.outcome.kind === 'transport') await new Promise((res) => setTimeout(res, 100));
    }
  };
  return Promise.all(Array.from({ length: opts.concurrency }, loop)).then(() => undefined);
}
