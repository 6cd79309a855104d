/**
 * Helpers for scenarios that make their credentials ahead of the measurement: a FIFO stock and a
 * batch sender (autocannon with a fixed number of requests, each built and answered one by one).
 * The browser-like steps (sign-in, consent) use test/support/user-agent.ts.
 */
import autocannon from 'autocannon';
import type { RequestSpec } from '../scenarios/types.js';

/**
 * First in, first out: the oldest credential is used first. Credentials older than `maxAgeMs`
 * (codes and assertions have lifetimes) are dropped when reached, never sent.
 */
export class Stock<T> {
  #items: { item: T; at: number }[] = [];
  #head = 0;
  made = 0;
  recycled = 0;
  dropped = 0;
  makingMs = 0;

  constructor(readonly maxAgeMs = Infinity) {}

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push({ item, at: Date.now() });
    this.made++;
  }

  /** Puts back an item that a measured answer produced (not counted as made). */
  recycle(item: T): void {
    this.#items.push({ item, at: Date.now() });
    this.recycled++;
  }

  take(): T | undefined {
    const oldest = Date.now() - this.maxAgeMs;
    while (this.#head < this.#items.length) {
      const entry = this.#items[this.#head]!;
      this.#items[this.#head++] = undefined as never; // let it be collected
      if (this.#head > 65_536 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      if (entry.at >= oldest) return entry.item;
      this.dropped++;
    }
    return undefined;
  }

  /** Drops what is too old to be sent, then runs `make(missing)` until `count` are in stock. */
  async fill(count: number, make: (missing: number) => void | Promise<void>, maxPasses = 5): Promise<void> {
    const t0 = performance.now();
    const oldest = Date.now() - this.maxAgeMs * 0.75;
    while (this.#head < this.#items.length && this.#items[this.#head]!.at < oldest) {
      this.#items[this.#head++] = undefined as never;
      this.dropped++;
    }
    try {
      for (let pass = 0; this.size < count; pass++) {
        if (pass === maxPasses) throw new Error(`could not make enough credentials: ${this.size} of ${count} after ${maxPasses} passes`);
        await make(count - this.size);
      }
    } finally {
      this.makingMs += performance.now() - t0;
    }
  }

  describe(what: string): string | undefined {
    if (!this.made) return undefined;
    const s = this.makingMs / 1000;
    const dropped = this.dropped ? `; ${this.dropped.toLocaleString('en-US')} dropped as too old` : '';
    const recycled = this.recycled ? `; ${this.recycled.toLocaleString('en-US')} more taken from answers` : '';
    return `${this.made.toLocaleString('en-US')} ${what} made in ${s.toFixed(1)} s (${Math.round(this.made / Math.max(s, 0.001)).toLocaleString('en-US')}/s, unmeasured)${recycled}${dropped}`;
  }
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
}

export function header(a: Answer, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(a.headers)) if (k.toLowerCase() === lower) return Array.isArray(v) ? v[0] : v;
  return undefined;
}

/**
 * Sends `count` requests over `connections` keep-alive connections (autocannon, fixed amount):
 * `build()` makes each request and a value that travels with it, `onAnswer` gets both back.
 * Returns how many answers `onAnswer` accepted (returned true). Throws, with a sample answer,
 * when any was refused: a broken minting flow must stop the bench, not skew it. (Requests lost
 * to a connection error just make fewer; Stock.fill asks again.)
 */
export async function batch<T>(
  baseUrl: string,
  count: number,
  connections: number,
  build: () => { req: RequestSpec; value: T },
  onAnswer: (value: T, a: Answer) => boolean,
): Promise<number> {
  if (count <= 0) return 0;
  const conns = Math.max(1, Math.min(connections, count));
  let accepted = 0;
  let refused = 0;
  let sample = '';
  const first = build();
  let pendingFirst: { req: RequestSpec; value: T } | undefined = first;
  const instance = autocannon({
    url: baseUrl + first.req.path,
    method: first.req.method,
    connections: conns,
    amount: count,
    sampleInt: 100, // the run ends at the next sample tick
    timeout: 30,
    requests: [
      {
        setupRequest: (_req, context) => {
          const next = pendingFirst ?? build();
          pendingFirst = undefined;
          context.value = next.value;
          return { method: next.req.method, path: next.req.path, headers: next.req.headers, body: next.req.body ?? '' };
        },
        onResponse: (status, body, context, headers) => {
          let ok = false;
          let why = '';
          try {
            ok = onAnswer(context.value as T, { status, headers, body });
          } catch (err) {
            why = ` (${(err as Error).message})`;
          }
          if (ok) accepted++;
          else {
            refused++;
            if (!sample) sample = `HTTP ${status}${why} ${JSON.stringify(headers).slice(0, 300)} ${body.slice(0, 300)}`;
          }
        },
      },
    ],
  });
  const r = await instance;
  if (refused > 0 || accepted === 0) {
    throw new Error(`${refused} of ${count} answers were not as expected (${r.errors} connection errors); first: ${sample || 'none'}`);
  }
  return accepted;
}

/** The path (and query) of a redirect's Location, which may be absolute on another host name. */
export function locationPath(res: Response | Answer): string {
  const loc = res instanceof Response ? res.headers.get('location') : header(res, 'location');
  if (!loc) throw new Error(`expected a redirect, got HTTP ${res.status} without Location`);
  const u = new URL(loc, 'http://placeholder');
  return u.pathname + u.search;
}
