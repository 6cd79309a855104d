import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { afterWorkerDeath, DEFAULT_RESTART_POLICY, type SlotHistory } from '../../src/cluster/restart-policy.js';

describe('a dead worker: restart, back off, or give up', () => {
  const policy = DEFAULT_RESTART_POLICY;

  it('a worker that ran a while is restarted at once, and its history forgotten', () => {
    assert.deepEqual(afterWorkerDeath({ soonDeaths: 2 }, policy.soonMs), { action: 'restart', delayMs: 0, history: { soonDeaths: 0 } });
  });

  it('one that keeps dying soon after starting waits twice as long each time, then is given up on', () => {
    let history: SlotHistory = { soonDeaths: 0 };
    const delays: number[] = [];
    for (;;) {
      const d = afterWorkerDeath(history, 200, policy);
      history = d.history;
      if (d.action === 'give-up') break;
      delays.push(d.delayMs);
    }
    assert.deepEqual(delays, [500, 1000, 2000]);
    assert.equal(history.soonDeaths, policy.maxSoonDeaths + 1);
  });

  it('the wait never exceeds maxDelayMs', () => {
    const d = afterWorkerDeath({ soonDeaths: 20 }, 0, { ...policy, maxSoonDeaths: 100 });
    assert.equal(d.action === 'restart' && d.delayMs, policy.maxDelayMs);
  });
});
