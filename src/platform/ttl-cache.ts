import type { Clock } from '../clock.js';

/** A cached value and when it was stored (milliseconds since the epoch, by the cache's Clock). */
export interface TtlEntry<V> {
  value: V;
  storedAt: number;
}

export interface TtlCacheOptions {
  /** How long an entry is served, in milliseconds. */
  ttlMs: number;
  /** At most this many entries; storing one more evicts the oldest stored (the map is never unbounded). */
  maxEntries?: number;
}

/**
 * One in-memory cache with expiry by an injectable Clock (docs/architecture.md: caches only for
 * what can be re-read). `undefined` is a value like any other, so a miss (an unknown client id or
 * issuer) is cached too and a flood of made-up identifiers does not reach the database. Loads of
 * one key are shared while in flight, so a burst of requests for a cold key reads the source once.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, TtlEntry<V>>();
  private readonly inflight = new Map<K, Promise<V>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly clock: Clock,
    options: TtlCacheOptions,
  ) {
    this.ttlMs = options.ttlMs;
    this.maxEntries = Math.max(1, options.maxEntries ?? 10_000);
  }

  /** The entry if it is still fresh; an expired one is dropped. */
  entry(key: K): TtlEntry<V> | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (this.clock.now() - hit.storedAt < this.ttlMs) return hit;
    this.entries.delete(key);
    return undefined;
  }

  set(key: K, value: V): void {
    // Re-inserting keeps the Map's order = storage order, so the first key is the oldest.
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, storedAt: this.clock.now() });
  }

  /**
   * The fresh cached value, or the result of `load` (stored, then returned). Concurrent calls for
   * one key share one load. `reload` may declare a fresh entry unusable (e.g. a JWKS without the
   * wanted kid); a failed load stores nothing and rejects every caller that shared it.
   */
  getOrLoad(key: K, load: () => Promise<V>, reload?: (entry: TtlEntry<V>) => boolean): Promise<V> {
    const hit = this.entry(key);
    if (hit && !reload?.(hit)) return Promise.resolve(hit.value);
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const p = load()
      .then((value) => {
        // Not stored if delete()/clear() ran meanwhile: that value may predate the change.
        if (this.inflight.get(key) === p) this.set(key, value);
        return value;
      })
      .finally(() => {
        if (this.inflight.get(key) === p) this.inflight.delete(key);
      });
    this.inflight.set(key, p);
    return p;
  }

  delete(key: K): void {
    this.entries.delete(key);
    this.inflight.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.inflight.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
