import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgePoll } from '../../src/grants/device-poll-policy.js';
import type { DeviceCode } from '../../src/store/repositories/device-codes.js';

const T0 = Date.UTC(2026, 0, 1);
const at = (s: number) => new Date(T0 + s * 1000);

const fresh: DeviceCode = {
  deviceCodeHash: 'h',
  userCode: 'BCDFGHJK',
  clientId: 'tv',
  scopes: ['openid'],
  resources: [],
  intervalSeconds: 5,
  lastPolledAt: null,
  slowedDownAt: null,
  status: 'pending',
  userId: null,
  authTime: null,
  createdAt: at(0),
  expiresAt: at(600),
};

/** Polls at the given seconds, carrying the recorded state forward as the store would. */
function run(times: number[], code: DeviceCode = fresh, approveAt = Infinity): string[] {
  let c = code;
  return times.map((t) => {
    if (t >= approveAt && c.status === 'pending') c = { ...c, status: 'approved', userId: 'u1', authTime: at(approveAt) };
    const v = judgePoll(c, 'tv', at(t));
    if (v.kind === 'refuse') return v.reason;
    c = { ...c, ...v.record };
    return v.kind === 'slow_down' ? `slow_down(${v.interval})` : v.kind;
  });
}

describe('device polling policy (src/grants/device-poll-policy.ts)', () => {
  it('answers at the interval; slow_down when faster, raising the interval by 5 s once per answered poll', () => {
    assert.deepEqual(run([0, 5, 10]), ['pending', 'pending', 'pending']);
    assert.deepEqual(run([0, 1, 2, 3]), ['pending', 'slow_down(10)', 'slow_down(10)', 'slow_down(10)']);
  });

  it('a slow_down does not restart the clock: waiting the interval last told, from any poll, is answered', () => {
    assert.deepEqual(run([0, 1, 11]), ['pending', 'slow_down(10)', 'pending']);
    assert.deepEqual(run([0, 4, 10]), ['pending', 'slow_down(10)', 'pending']);
  });

  it('a poller that keeps the first interval after a slow_down is still answered, so an approved code reaches it', () => {
    const answers = run([0, 1, 6, 11, 16, 21, 26, 31, 36, 41, 46], fresh, 12);
    assert.deepEqual(answers.slice(0, 4), ['pending', 'slow_down(10)', 'slow_down(10)', 'pending']);
    assert.ok(answers.includes('approved'), answers.join(', '));
    assert.equal(answers.at(-1), 'consumed', 'and only once');
  });

  it('foreign, expired and consumed codes are refused before any interval check', () => {
    assert.deepEqual(judgePoll(undefined, 'tv', at(0)), { kind: 'refuse', reason: 'not_found' });
    assert.deepEqual(judgePoll(fresh, 'other', at(0)), { kind: 'refuse', reason: 'other_client' });
    assert.deepEqual(judgePoll({ ...fresh, lastPolledAt: at(599) }, 'tv', at(600)), { kind: 'refuse', reason: 'expired' });
    assert.deepEqual(judgePoll({ ...fresh, status: 'consumed', lastPolledAt: at(0) }, 'tv', at(1)), { kind: 'refuse', reason: 'consumed' });
  });

  it('denied and approved codes are answered at the interval; approval consumes the code', () => {
    assert.equal(judgePoll({ ...fresh, status: 'denied' }, 'tv', at(0)).kind, 'denied');
    const v = judgePoll({ ...fresh, status: 'approved', userId: 'u1' }, 'tv', at(0));
    assert.ok(v.kind === 'approved');
    assert.equal(v.record.status, 'consumed');
    assert.equal(v.code.userId, 'u1');
    assert.equal(judgePoll({ ...fresh, status: 'approved', userId: 'u1', lastPolledAt: at(0) }, 'tv', at(1)).kind, 'slow_down');
  });
});
