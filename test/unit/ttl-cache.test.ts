import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { TtlCache } from '../../src/platform/ttl-cache.js';

/** A load whose completion the test controls, counting its calls. */
function deferredLoader<V>() {
  let calls = 0;
  const pending: { resolve: (v: V) => void; reject: (e: Error) => void }[] = [];
  const load = () => {
    calls++;
    return new Promise<V>((resolve, reject) => pending.push({ resolve, reject }));
  };
  return {
    load,
    calls: () => calls,
    resolve: (v: V) => pending.shift()?.resolve(v),
    reject: (e: Error) => pending.shift()?.reject(e),
  };
}

describe('TtlCache', () => {
  it('serves a value for the TTL by the injected clock, then forgets it', () => {
    const clock = new ManualClock(1_000_000);
    const cache = new TtlCache<string, number>(clock, { ttlMs: 10_000 });
    cache.set('a', 1);
    clock.advance(9.999);
    assert.equal(cache.entry('a')?.value, 1);
    assert.equal(cache.entry('a')?.storedAt, 1_000_000);
    clock.advance(0.001);
    assert.equal(cache.entry('a'), undefined);
    assert.equal(cache.size, 0);
  });

  it('caches undefined like any value (a miss is remembered)', async () => {
    const clock = new ManualClock();
    const cache = new TtlCache<string, string | undefined>(clock, { ttlMs: 1000 });
    let reads = 0;
    const load = () => {
      reads++;
      return Promise.resolve(undefined);
    };
    assert.equal(await cache.getOrLoad('nobody', load), undefined);
    assert.equal(await cache.getOrLoad('nobody', load), undefined);
    assert.equal(reads, 1);
    clock.advance(1);
    await cache.getOrLoad('nobody', load);
    assert.equal(reads, 2);
  });

  it('shares one in-flight load among concurrent callers of a key', async () => {
    const cache = new TtlCache<string, string>(new ManualClock(), { ttlMs: 1000 });
    const d = deferredLoader<string>();
    const all = Promise.all([cache.getOrLoad('k', d.load), cache.getOrLoad('k', d.load), cache.getOrLoad('k', d.load)]);
    assert.equal(d.calls(), 1);
    d.resolve('v');
    assert.deepEqual(await all, ['v', 'v', 'v']);
    assert.equal(await cache.getOrLoad('k', d.load), 'v');
    assert.equal(d.calls(), 1);
  });

  it('a failed load stores nothing; the next call loads again', async () => {
    const cache = new TtlCache<string, string>(new ManualClock(), { ttlMs: 1000 });
    const d = deferredLoader<string>();
    const first = cache.getOrLoad('k', d.load);
    const second = cache.getOrLoad('k', d.load);
    d.reject(new Error('down'));
    await assert.rejects(first, /down/);
    await assert.rejects(second, /down/);
    assert.equal(cache.entry('k'), undefined);
    const third = cache.getOrLoad('k', d.load);
    d.resolve('up');
    assert.equal(await third, 'up');
    assert.equal(d.calls(), 2);
  });

  it('a load that was running when the key was deleted is not stored', async () => {
    const cache = new TtlCache<string, string>(new ManualClock(), { ttlMs: 1000 });
    const d = deferredLoader<string>();
    const before = cache.getOrLoad('k', d.load);
    cache.delete('k');
    d.resolve('stale');
    assert.equal(await before, 'stale');
    assert.equal(cache.entry('k'), undefined);
  });

  it('reload() can refuse a fresh entry (e.g. a JWKS without the wanted kid)', async () => {
    const cache = new TtlCache<string, string>(new ManualClock(), { ttlMs: 1000 });
    cache.set('k', 'old');
    assert.equal(
      await cache.getOrLoad(
        'k',
        () => Promise.resolve('new'),
        (e) => e.value === 'old',
      ),
      'new',
    );
    assert.equal(cache.entry('k')?.value, 'new');
  });

  it('is bounded: storing past maxEntries evicts the oldest stored', () => {
    const cache = new TtlCache<number, number>(new ManualClock(), { ttlMs: 1000, maxEntries: 3 });
    for (let i = 0; i < 10; i++) cache.set(i, i);
    assert.equal(cache.size, 3);
    assert.deepEqual(
      [0, 6, 7, 8, 9].map((i) => cache.entry(i)?.value),
      [undefined, undefined, 7, 8, 9],
    );
    cache.set(7, 70); // re-storing makes 7 the newest
    cache.set(10, 10);
    assert.equal(cache.entry(8), undefined);
    assert.equal(cache.entry(7)?.value, 70);
  });
});
