import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentRotations } from '../../src/grants/recent-rotations.js';

describe('RecentRotations (src/grants/recent-rotations.ts)', () => {
  it('orders a request against a change this process committed: before is concurrent, after is not', () => {
    let t = 1000;
    const r = new RecentRotations(() => t);
    const early = 999;
    const end = r.begin('h');
    assert.equal(r.changedAfter('h', early), true, 'a change in flight counts');
    t = 1005;
    end(true);
    assert.equal(r.changedAfter('h', early), true);
    assert.equal(r.changedAfter('h', 1006), false, 'arrived after the commit');
    assert.equal(r.changedAfter('other', early), false);
  });

  it('an attempt that changed nothing leaves no mark; ending twice counts once', () => {
    const r = new RecentRotations(() => 10);
    const a = r.begin('h');
    const b = r.begin('h');
    a(false);
    a(true);
    assert.equal(r.changedAfter('h', 0), true, 'b is still in flight');
    b(false);
    assert.equal(r.changedAfter('h', 0), false);
  });

  it('forgets marks older than any request can be (memory stays bounded)', () => {
    let t = 0;
    const r = new RecentRotations(() => t);
    for (let i = 0; i < 100; i++) r.begin(`h${i}`)(true);
    t = 121_000;
    r.begin('late')(true);
    assert.equal(r.size, 1);
  });
});
