/**
 * A minimal browser for flow tests that do not need a real one: a cookie jar, manual redirects,
 * and form submission by field name. Headless Chromium tests cover the real pages.
 */
export class UserAgent {
  readonly cookies = new Map<string, string>();

  private store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private cookieHeader(): Record<string, string> {
    if (!this.cookies.size) return {};
    return { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  }

  async get(url: string): Promise<Response> {
    const res = await fetch(url, { redirect: 'manual', headers: this.cookieHeader() });
    this.store(res);
    return res;
  }

  async post(url: string, form: Record<string, string>): Promise<Response> {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...this.cookieHeader() },
      body: new URLSearchParams(form).toString(),
    });
    this.store(res);
    return res;
  }

  /** Follows redirects within `origin`; returns the first response that is not one, or the redirect leaving it. */
  async follow(res: Response, origin: string): Promise<Response> {
    let r = res;
    for (let i = 0; i < 10 && r.status >= 300 && r.status < 400; i++) {
      const location = new URL(r.headers.get('location')!, origin).toString();
      if (!location.startsWith(origin)) return r;
      r = await this.get(location);
    }
    return r;
  }
}

/** The value of a hidden input in an HTML page. */
export function hiddenField(html: string, name: string): string {
  const m = new RegExp(`name="${name}"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="${name}"`).exec(html);
  if (!m) throw new Error(`no field ${name} in page:\n${html.slice(0, 2000)}`);
  return (m[1] ?? m[2])!
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
}

/** The form action of the first form in a page. */
export function formAction(html: string, origin: string): string {
  const m = /<form[^>]*action="([^"]*)"/.exec(html);
  if (!m) throw new Error(`no form in page:\n${html.slice(0, 2000)}`);
  return new URL(m[1]!.replace(/&amp;/g, '&'), origin).toString();
}
