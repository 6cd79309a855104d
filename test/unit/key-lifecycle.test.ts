import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { keyStatus, signingGapOf, signingKeyOf, type KeyTimes } from '../../src/keys/lifecycle.js';
import { keyRetentionSeconds } from '../../src/keys/retention.js';
import type { Db } from '../../src/store/db.js';
import { MIGRATIONS_DIR, migrate } from '../../src/store/migrate.js';
import { openDb } from '../../src/store/open.js';
import { keysRepository } from '../../src/store/repositories/keys.js';
import { freshDatabaseEnv } from '../helpers/server.js';

const T = Date.parse('2030-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T + seconds * 1000);
const key = (kid: string, activeFrom: number, retiredAt: number | null, publishUntil: number | null = null) => ({
  kid,
  alg: 'ES256',
  active_from: at(activeFrom),
  retired_at: retiredAt === null ? null : at(retiredAt),
  publish_until: publishUntil === null ? null : at(publishUntil),
});

describe('key retention: how long a retired key stays published', () => {
  it('covers the longest JWT we sign, plus clock skew and the key reload interval', () => {
    const defaults = loadConfig({});
    assert.equal(keyRetentionSeconds(defaults, null), 3600 + 30 + 30, 'ID_TOKEN_TTL (3600) outlives ACCESS_TOKEN_TTL (600)');
    assert.equal(keyRetentionSeconds(defaults, 7200), 7200 + 30 + 30, "a resource's own access_token_ttl");
    assert.equal(keyRetentionSeconds(loadConfig({ ACCESS_TOKEN_TTL: '86400' }), 600), 86400 + 30 + 30);
    assert.equal(
      keyRetentionSeconds(loadConfig({ ID_TOKEN_TTL: '60', ACCESS_TOKEN_TTL: '30' }), null),
      300 + 30 + 30,
      "token exchange's 5-minute JWTs",
    );
    assert.equal(keyRetentionSeconds(loadConfig({ CLOCK_SKEW: '120', KEY_RELOAD_INTERVAL: '600' }), null), 3600 + 120 + 600);
  });
});

describe('key lifecycle: one rule for the key store and the listing', () => {
  // Rows as rotations before migration 009 left them: A's retired_at lies after C took over,
  // B (pending when C's rotation ran) has a retired_at before its active_from.
  const a = key('A', -100, 600, 4000);
  const b = key('B', 600, 10, 4010);
  const c = key('C', 10, null);
  const all = [a, b, c];

  it('one key signs per algorithm: the newest started one', () => {
    const now = T + 20_000;
    assert.deepEqual(
      all.map((k) => keyStatus(k, now, all)),
      ['retired', 'superseded', 'signing'],
    );
    assert.equal(
      signingKeyOf(
        all.map((row) => ({ row })),
        'ES256',
        now,
      )?.row,
      c,
    );
    assert.equal(keyStatus(a, T, all), 'signing', 'before C starts, A signs');
    assert.equal(keyStatus(c, T, all), 'pending');
    assert.equal(keyStatus(a, T + 4000_000, all), 'expired');
  });

  it('a key past publish_until never signs', () => {
    const gone: KeyTimes = key('D', -100, null, -1);
    assert.equal(signingKeyOf([{ row: gone }], 'ES256', T), undefined);
  });
});

describe('migration 009 rewrites times left by earlier overlapping rotations', () => {
  let db: Db;
  let drop: () => Promise<void>;
  before(async () => {
    const fresh = await freshDatabaseEnv();
    drop = fresh.drop;
    db = await openDb(loadConfig(fresh.env));
    await migrate(db);
  });
  after(async () => {
    await db.close();
    await drop();
  });

  it('a superseded key stops at its own start; a key stops when the next signing key starts', async () => {
    for (const k of [key('A', -100, 600, 4000), key('B', 600, 10, 4010), key('C', 10, null)]) {
      await db.query(
        'INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_enc, active_from, retired_at, publish_until) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [k.kid, k.alg, '{}', 'v1.x.y.z', k.active_from, k.retired_at, k.publish_until],
      );
    }
    await db.exec(readFileSync(`${MIGRATIONS_DIR}009_signing_key_times.sql`, 'utf8'));
    const rows = new Map((await keysRepository(db).listAll()).map((r) => [r.kid, r]));
    assert.equal(rows.get('A')!.retired_at?.getTime(), at(10).getTime(), 'A stopped when C started');
    assert.equal(rows.get('B')!.retired_at?.getTime(), at(600).getTime(), 'B never signs');
    assert.equal(rows.get('C')!.retired_at, null);
    assert.equal(rows.get('A')!.publish_until?.getTime(), at(4000).getTime(), 'publication is not shortened');
  });
});

describe('signingGapOf: when no key of an algorithm would sign', () => {
  it('follows the chain of keys taking over from each other', () => {
    assert.equal(signingGapOf([key('A', 0, null)], 'ES256', T), undefined, 'a key that never stops');
    assert.equal(signingGapOf([key('A', 0, null)], 'RS256', T), T, 'no key of that algorithm');
    // A rotation: A until 600, then B for good.
    assert.equal(signingGapOf([key('A', 0, 600), key('B', 600, null)], 'ES256', T), undefined);
    // B retired while pending (it never signs): A stops at 600 with nothing after it.
    assert.equal(signingGapOf([key('A', 0, 600), key('B', 600, 600)], 'ES256', T)!, at(600).getTime());
    // A retired now: B has not started.
    assert.equal(signingGapOf([key('A', 0, 0), key('B', 600, null)], 'ES256', T), T);
    // Unpublished keys sign nothing, whatever retired_at says.
    assert.equal(signingGapOf([key('A', 0, null, 0)], 'ES256', T), T);
    assert.equal(signingGapOf([key('A', 0, null, 100), key('B', 50, null)], 'ES256', T), undefined);
  });
});
