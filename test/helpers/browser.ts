/**
 * Headless Chromium for the browser tests (test/browser/), driven by playwright-core against the
 * Debian chromium package — no browser download. Where /usr/bin/chromium is missing the tests skip
 * with `skipReason` printed; under CI (CI or LATCHKEY_REQUIRE_BROWSER set) they never skip, so a
 * missing browser fails loudly instead of passing quietly.
 */
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type CDPSession,
  type ConsoleMessage,
  type Page,
} from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const required = Boolean(process.env.CI || process.env.LATCHKEY_REQUIRE_BROWSER);

/**
 * Why the browser tests cannot run here, or undefined when they can (or must). Use as
 * `describe('…', { skip: skipReason }, …)`.
 */
export const skipReason: string | undefined =
  executable(CHROMIUM_PATH) || required
    ? undefined
    : `${CHROMIUM_PATH} not found: install it (apt-get install -y chromium) to run the headless browser tests`;

if (skipReason) console.log(`# browser tests skipped: ${skipReason}`);

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, timeout: 30_000 });
}

export async function closeBrowser(browser: Browser | undefined): Promise<void> {
  if (browser) await browser.close().catch(() => undefined);
}

/** A fresh context (its own cookies) and a page in it, with short default timeouts. */
export async function newPage(browser: Browser, options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ javaScriptEnabled: true, ...options });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(10_000);
  const page = await context.newPage();
  return { context, page };
}

/** One request that reached a redirect URI (intercepted: nothing listens there). */
export interface CapturedCallback {
  /** The full URL the browser asked for (query included; a fragment never reaches the network). */
  url: string;
  method: string;
  /** The authorization response: the query for GET, the form body for POST (response_mode=form_post). */
  params: URLSearchParams;
  contentType: string | undefined;
  /** Whether the browser got here by following a redirect (303 from the server). */
  redirected: boolean;
  /** The callback as a fetch Request (a POST keeps its form body), for openid-client's authorizationCodeGrant. */
  toRequest(): Request;
  /** The URL with the parameters in the query, whatever the method (handy for assertions). */
  asUrl(): URL;
}

const CALLBACK_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>callback</title></head><body><p>callback received</p></body></html>';

/** The parts of CDP's Fetch.requestPaused event used here. */
interface PausedRequest {
  requestId: string;
  redirectedRequestId?: string;
  request: { url: string; method: string; headers: Record<string, string>; postData?: string; postDataEntries?: { bytes?: string }[] };
}

/**
 * Intercepts every request for the given redirect URIs (compared without query and fragment),
 * answers with a tiny 200 page, and queues what arrived; `next()` resolves with the next
 * callback.
 *
 * Why not page.route: Playwright does not route the target of a redirect ("The handler will only
 * be called for the first url if the response is a redirect"), and the authorization response
 * is a 303 to the redirect URI, so the browser would really connect to 127.0.0.1:8080. The CDP
 * Fetch domain pauses redirect targets too, so the trap uses it on the page's own CDP session
 * (Playwright's request/response events still see every request).
 */
export class CallbackTrap {
  readonly hits: CapturedCallback[] = [];
  private taken = 0;
  private waiters: ((cb: CapturedCallback) => void)[] = [];
  private readonly targets: Set<string>;

  private constructor(redirectUris: string[]) {
    this.targets = new Set(redirectUris.map(stripUrl));
  }

  /** Arms the trap on a page (its main frame and same-site frames). */
  static async on(page: Page, ...redirectUris: string[]): Promise<CallbackTrap> {
    const trap = new CallbackTrap(redirectUris);
    const cdp = await page.context().newCDPSession(page);
    cdp.on('Fetch.requestPaused', (event: PausedRequest) => {
      trap.handle(cdp, event).catch(() => undefined); // the page may be gone already
    });
    const origins = new Set(redirectUris.map((u) => new URL(u).origin));
    await cdp.send('Fetch.enable', { patterns: [...origins].map((o) => ({ urlPattern: `${o}/*`, requestStage: 'Request' as const })) });
    return trap;
  }

  /** Whether a URL is one of the trapped redirect URIs. */
  matches(url: string): boolean {
    try {
      return this.targets.has(stripUrl(url));
    } catch {
      return false;
    }
  }

  private async handle(cdp: CDPSession, event: PausedRequest): Promise<void> {
    if (!this.matches(event.request.url)) {
      await cdp.send('Fetch.continueRequest', { requestId: event.requestId });
      return;
    }
    const cb = capture(event);
    await cdp.send('Fetch.fulfillRequest', {
      requestId: event.requestId,
      responseCode: 200,
      responseHeaders: [
        { name: 'content-type', value: 'text/html; charset=utf-8' },
        { name: 'cache-control', value: 'no-store' },
      ],
      body: Buffer.from(CALLBACK_PAGE).toString('base64'),
    });
    this.hits.push(cb);
    const waiter = this.waiters.shift();
    if (waiter) {
      this.taken++;
      waiter(cb);
    }
  }

  /** The next callback not yet taken; rejects after `timeoutMs`. */
  next(timeoutMs = 10_000): Promise<CapturedCallback> {
    if (this.taken < this.hits.length) return Promise.resolve(this.hits[this.taken++]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no callback to ${[...this.targets].join(', ')} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (cb: CapturedCallback) => {
        clearTimeout(timer);
        resolve(cb);
      };
      this.waiters.push(waiter);
    });
  }
}

/**
 * Starts a navigation to `url` as typing it in the address bar does and returns once its response
 * has committed, without waiting for the page to load. For pages that navigate away by themselves
 * at once (form_post's auto-submitting form): Playwright's page.goto fails with "interrupted by
 * another navigation" when the page's own navigation starts before it has seen the commit, even
 * with waitUntil 'commit'. CDP's Page.navigate answers at the commit, before any script of the
 * page runs, so nothing can interrupt it; what the page does next is for the caller to wait for
 * (the callback trap, page.waitForURL).
 */
export async function navigateWithoutWaiting(page: Page, url: string): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { errorText } = (await cdp.send('Page.navigate', { url })) as { errorText?: string };
    if (errorText) throw new Error(`navigation to ${url} failed: ${errorText}`);
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}

/** Runs `action` (a navigation, a click) and resolves with the callback it leads to. */
export async function captureCallback(trap: CallbackTrap, action: () => Promise<unknown>, timeoutMs = 10_000): Promise<CapturedCallback> {
  const next = trap.next(timeoutMs);
  await Promise.all([action(), next]);
  return next;
}

function stripUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

function capture(event: PausedRequest): CapturedCallback {
  const { url, method, headers } = event.request;
  const contentType = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  const body =
    event.request.postData ??
    (event.request.postDataEntries ?? []).map((e) => Buffer.from(e.bytes ?? '', 'base64').toString('utf8')).join('');
  const params = method === 'POST' ? new URLSearchParams(body) : new URL(url).searchParams;
  return {
    url,
    method,
    params: new URLSearchParams(params),
    contentType,
    redirected: event.redirectedRequestId !== undefined,
    toRequest: () =>
      method === 'POST'
        ? new Request(url, { method, body, headers: { 'content-type': contentType ?? 'application/x-www-form-urlencoded' } })
        : new Request(url),
    asUrl: () => {
      const u = new URL(url);
      if (method === 'POST') for (const [k, v] of params) u.searchParams.append(k, v);
      return u;
    },
  };
}

/**
 * A real little web server on a random loopback port serving fixed HTML pages (path → HTML), for
 * pages that must come from another origin over the network (an attacker's framing page). Pages
 * fulfilled by interception would not do: Chrome treats them as public and its Local Network
 * Access checks block their loopback subframes before the server's own headers are looked at.
 */
export async function serveHtml(pages: Record<string, string>): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const html = pages[new URL(req.url ?? '/', 'http://x').pathname];
    res.writeHead(html === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Everything a page asked for and everything it complained about, to assert on afterwards. */
export interface PageRecorder {
  requests: { url: string; method: string; resourceType: string }[];
  responses: { url: string; status: number; headers: Record<string, string> }[];
  /** Requests that got no usable response, with Chrome's reason (net::ERR_…). */
  failures: { url: string; error: string }[];
  consoleErrors: string[];
  pageErrors: string[];
}

/** Records requests, responses, console errors and uncaught page errors of every page in a context. */
export function recordPages(context: BrowserContext): PageRecorder {
  const rec: PageRecorder = { requests: [], responses: [], failures: [], consoleErrors: [], pageErrors: [] };
  const watch = (page: Page) => {
    page.on('request', (r) => rec.requests.push({ url: r.url(), method: r.method(), resourceType: r.resourceType() }));
    page.on('response', (r) => rec.responses.push({ url: r.url(), status: r.status(), headers: r.headers() }));
    page.on('requestfailed', (r) => rec.failures.push({ url: r.url(), error: r.failure()?.errorText ?? 'unknown' }));
    page.on('console', (m: ConsoleMessage) => {
      if (m.type() === 'error') rec.consoleErrors.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => rec.pageErrors.push(String(e)));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return rec;
}
