import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentRotations } from '../../src/grants/recent-rotations.js';

describe('RecentRotations (src/grants/recent-rotations.ts)', () => {
  it('orders a request against a change this process committed: before is concurrent, after is not', () => {
    let t = 1000;
    const r = new RecentRotations(() => t);
    const end = r.begin('h');
    assert.equal(r.changedAfter('h', 1001), true, 'a change that began before the request arrived, still in flight, counts');
    assert.equal(r.changedAfter('h', 999), false, 'one that began after it arrived does not (yet)');
    t = 1005;
    end(true);
    assert.equal(r.changedAfter('h', 999), true, 'committed after the request arrived');
    assert.equal(r.changedAfter('h', 1006), false, 'arrived after the commit');
    assert.equal(r.changedAfter('other', 999), false);
  });

  it('an attempt that changed nothing leaves no mark; ending twice counts once', () => {
    let t = 10;
    const r = new RecentRotations(() => t);
    const a = r.begin('h');
    t = 11;
    const b = r.begin('h');
    a(false);
    a(true);
    assert.equal(r.changedAfter('h', 12), true, 'b is still in flight');
    b(false);
    assert.equal(r.changedAfter('h', 12), false);
  });

  it('overlapping replays cannot all excuse each other: the first to arrive is not excused', () => {
    let t = 100;
    const r = new RecentRotations(() => t);
    // Two replays of an already rotated token: X arrives at 100, Y at 101; both start their statements.
    t = 102;
    const endX = r.begin('h');
    t = 103;
    const endY = r.begin('h');
    endX(false);
    assert.equal(r.changedAfter('h', 100), false, 'X, the first, is judged a replay although Y is in flight');
    endY(false);
    assert.equal(r.changedAfter('h', 101), false);
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
