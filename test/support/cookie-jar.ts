/**
 * Cookies by name for one server, as a browser keeps them for the pages the tests, the benchmark
 * and the soak walk through (sign-in, consent, device verification). Enough of RFC 6265 §5.3 for
 * the cookies Latchkey sets: a Set-Cookie with Max-Age <= 0 or an Expires in the past removes
 * the cookie (§5.3 steps 3 and 11: an expired cookie is evicted), anything else stores it; Path,
 * Domain and the flags are not looked at (every request goes to the one origin).
 */
export class CookieJar {
  readonly #cookies = new Map<string, string>();

  /** Takes every Set-Cookie line of a response: fetch's `headers.getSetCookie()`, node:http's `headers['set-cookie']`. */
  store(setCookie: readonly string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue; // RFC 6265 §5.2: no name, no cookie
      const name = pair.slice(0, eq).trim();
      if (expires(attributes)) this.#cookies.delete(name);
      else this.#cookies.set(name, pair.slice(eq + 1).trim());
    }
  }

  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  /** Every cookie's value, e.g. to use session cookies as random-looking strings. */
  values(): string[] {
    return [...this.#cookies.values()];
  }

  get size(): number {
    return this.#cookies.size;
  }

  /** The Cookie request header's value (RFC 6265 §5.4), '' when the jar is empty. */
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** `{ cookie: … }` to spread into request headers, or nothing when the jar is empty. */
  headers(): Record<string, string> {
    return this.#cookies.size ? { cookie: this.header() } : {};
  }
}

/** Whether a cookie's attributes say it is already gone (Max-Age wins over Expires, §5.3 step 3). */
function expires(attributes: readonly string[]): boolean {
  let maxAge: number | undefined;
  let expiresAt: number | undefined;
  for (const attr of attributes) {
    const eq = attr.indexOf('=');
    const key = (eq < 0 ? attr : attr.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : attr.slice(eq + 1).trim();
    if (key === 'max-age' && /^-?\d+$/.test(value)) maxAge = Number(value);
    else if (key === 'expires') expiresAt = Date.parse(value);
  }
  if (maxAge !== undefined) return maxAge <= 0;
  return expiresAt !== undefined && !Number.isNaN(expiresAt) && expiresAt <= Date.now();
}
