import { CookieJar } from './cookie-jar.js';

/**
 * A minimal browser over fetch for walking the server's pages without a real one (tests, the
 * benchmark's and the soak's sign-ins): a cookie jar, redirects left to the caller (each one is
 * part of what is checked), forms posted by field name. Headless Chromium tests cover the pages
 * as a browser renders them.
 */
export class UserAgent {
  readonly jar = new CookieJar();

  /**
   * `baseUrl` resolves relative paths (`/authorize?…`, a Location header's path); `timeoutMs`
   * bounds each request, so that a server that stops answering fails the caller instead of hanging it.
   */
  constructor(private readonly opts: { baseUrl?: string; timeoutMs?: number } = {}) {}

  async get(url: string): Promise<Response> {
    return this.send(url, { method: 'GET' });
  }

  /** Posts `form` as application/x-www-form-urlencoded, as a browser submits an HTML form. */
  async post(url: string, form: Record<string, string>): Promise<Response> {
    return this.send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }

  /**
   * Follows redirects while they stay on `origin` (at most 10); returns the first answer that is
   * not a redirect, or the redirect that leaves `origin` (to a client's redirect URI) unfollowed.
   */
  async follow(res: Response, origin: string): Promise<Response> {
    let r = res;
    for (let i = 0; i < 10 && r.status >= 300 && r.status < 400; i++) {
      const location = r.headers.get('location');
      if (location === null) return r;
      const next = new URL(location, origin);
      if (next.origin !== new URL(origin).origin) return r;
      await r.body?.cancel();
      r = await this.get(next.toString());
    }
    return r;
  }

  private async send(url: string, init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string }): Promise<Response> {
    const target = this.opts.baseUrl === undefined ? url : new URL(url, this.opts.baseUrl).toString();
    const res = await fetch(target, {
      ...init,
      redirect: 'manual',
      headers: { ...init.headers, ...this.jar.headers() },
      ...(this.opts.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(this.opts.timeoutMs) }),
    });
    this.jar.store(res.headers.getSetCookie());
    return res;
  }
}
