import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JtiPool } from '../../src/tokens/access-token.js';

describe('JtiPool: the token path draws jti values from a per-server pool, not module state', () => {
  it('gives 128-bit base64url values, all different, across refills', () => {
    const pool = new JtiPool();
    const seen = new Set<string>();
    const n = (JtiPool.SIZE / 16) * 3 + 5; // past two refills
    for (let i = 0; i < n; i++) {
      const jti = pool.next();
      assert.equal(Buffer.from(jti, 'base64url').length, 16);
      seen.add(jti);
    }
    assert.equal(seen.size, n);
  });

  it('two pools share nothing', () => {
    assert.notEqual(new JtiPool().next(), new JtiPool().next());
  });
});
