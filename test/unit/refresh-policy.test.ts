import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeRefresh, type RefreshFacts } from '../../src/grants/refresh-policy.js';
import { isLiveRefreshToken } from '../../src/tokens/refresh-token-liveness.js';
import type { RefreshTokenState } from '../../src/store/repositories/refresh-tokens.js';

const NOW = Date.UTC(2026, 0, 1);
const at = (secondsFromNow: number) => new Date(NOW + secondsFromNow * 1000);

const live: RefreshTokenState = {
  tokenHash: 'h0',
  grantId: 'g1',
  clientId: 'web',
  userId: 'u1',
  scopes: ['openid', 'offline_access'],
  resources: [],
  authTime: at(-100),
  nonce: null,
  createdAt: at(-100),
  expiresAt: at(3600),
  rotatedAt: null,
  successorHash: null,
  revokedAt: null,
  replacedAt: null,
  dpopJkt: null,
  grantRevoked: false,
  grantExpiresAt: at(7200),
};
const rotated = (secondsAgo: number): RefreshTokenState => ({ ...live, rotatedAt: at(-secondsAgo), successorHash: 'h1' });
const facts = (token: RefreshTokenState | undefined, more: Partial<RefreshFacts> = {}): RefreshFacts => ({
  token,
  clientId: 'web',
  now: NOW,
  graceMs: 0,
  changedSinceArrival: false,
  ...more,
});

describe('refresh policy (src/grants/refresh-policy.ts)', () => {
  it('a live token of the client is refreshed', () => {
    assert.deepEqual(judgeRefresh(facts(live)), { kind: 'refresh' });
    assert.equal(isLiveRefreshToken(live, NOW), true);
  });

  it('unknown, foreign, revoked and expired tokens are refused with the reason', () => {
    const reason = (f: RefreshFacts) => {
      const v = judgeRefresh(f);
      return v.kind === 'refuse' ? v.reason : v.kind;
    };
    assert.equal(reason(facts(undefined)), 'not_found');
    assert.equal(reason(facts(live, { clientId: 'other' })), 'other_client');
    assert.equal(reason(facts({ ...live, grantRevoked: true })), 'revoked');
    assert.equal(reason(facts({ ...live, revokedAt: at(-1) })), 'revoked');
    assert.equal(reason(facts({ ...live, expiresAt: at(0) })), 'expired');
    assert.equal(reason(facts({ ...live, grantExpiresAt: at(0) })), 'expired');
    // A revoked family wins over reuse: nothing left to revoke.
    assert.equal(reason(facts({ ...rotated(5), grantRevoked: true })), 'revoked');
  });

  it('a rotated token is reuse however soon it comes back, unless it changed after the request arrived', () => {
    for (const ago of [0, 0.1, 1, 2, 60]) {
      assert.deepEqual(judgeRefresh(facts(rotated(ago))), { kind: 'reuse', grantId: 'g1', userId: 'u1', why: 'rotated' }, `${ago} s`);
    }
    assert.deepEqual(judgeRefresh(facts(rotated(0), { changedSinceArrival: true })), { kind: 'refuse', reason: 'concurrent' });
    assert.deepEqual(judgeRefresh(facts(rotated(60), { changedSinceArrival: true })), { kind: 'refuse', reason: 'concurrent' });
  });

  it('grace: an unused successor may be re-issued inside the window only', () => {
    assert.deepEqual(judgeRefresh(facts(rotated(5), { graceMs: 30_000 })), { kind: 'reissue_successor', successorHash: 'h1' });
    assert.deepEqual(judgeRefresh(facts(rotated(30), { graceMs: 30_000 })), { kind: 'reissue_successor', successorHash: 'h1' });
    assert.equal(judgeRefresh(facts(rotated(31), { graceMs: 30_000 })).kind, 'reuse');
    // Concurrency comes first: a retry that arrived before the rotation does not replace its result.
    assert.deepEqual(judgeRefresh(facts(rotated(1), { graceMs: 30_000, changedSinceArrival: true })), {
      kind: 'refuse',
      reason: 'concurrent',
    });
  });

  it('a replaced successor is reuse whenever it is presented, grace or not', () => {
    const replaced: RefreshTokenState = { ...live, replacedAt: at(-1) };
    assert.equal(isLiveRefreshToken(replaced, NOW), false);
    for (const graceMs of [0, 30_000]) {
      assert.deepEqual(judgeRefresh(facts(replaced, { graceMs })), { kind: 'reuse', grantId: 'g1', userId: 'u1', why: 'replaced' });
    }
    assert.deepEqual(judgeRefresh(facts(replaced, { changedSinceArrival: true })), { kind: 'refuse', reason: 'concurrent' });
  });
});
