import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runMain } from '../helpers/cli.js';
import { runServer } from '../helpers/restartable-server.js';
import { freePort, freshDatabaseEnv } from '../helpers/server.js';

interface ListedKey {
  kid: string;
  alg: string;
  status: string;
  active_from: string;
  retired_at: string | null;
}

describe('latchkey keys list after overlapping rotations shows what the server does', () => {
  let db: Awaited<ReturnType<typeof freshDatabaseEnv>>;
  let env: Record<string, string>;

  before(async () => {
    db = await freshDatabaseEnv();
    env = { ...db.env, LOG_LEVEL: 'silent' };
  });
  after(() => db.drop());

  const cli = async <T>(argv: string[]): Promise<T> => {
    const r = await runMain([...argv, '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as T;
  };

  it('one signing key per algorithm, the one the server signs with; no retired_at before active_from', async () => {
    const original = await cli<ListedKey[]>(['keys', 'list']);
    // A rotation that waits 10 minutes, then one that takes over at once.
    const slow = await cli<{ keys: { alg: string; kid: string }[] }>(['keys', 'rotate', '--delay', '600']);
    const fast = await cli<{ keys: { alg: string; kid: string }[] }>(['keys', 'rotate', '--delay', '0']);
    const keys = await cli<ListedKey[]>(['keys', 'list']);

    for (const alg of ['ES256', 'RS256']) {
      const signing = keys.filter((k) => k.alg === alg && k.status === 'signing');
      assert.deepEqual(
        signing.map((k) => k.kid),
        [fast.keys.find((k) => k.alg === alg)!.kid],
        `${alg}: exactly one signing key, the last rotation's`,
      );
      const first = keys.find((k) => k.kid === original.find((o) => o.alg === alg)!.kid)!;
      assert.equal(first.status, 'retired');
      const superseded = keys.find((k) => k.kid === slow.keys.find((s) => s.alg === alg)!.kid)!;
      assert.equal(superseded.status, 'superseded', 'the pending key of the first rotation never signs');
    }
    for (const k of keys) {
      if (k.retired_at)
        assert.ok(
          Date.parse(k.retired_at) >= Date.parse(k.active_from),
          `${k.kid}: retired_at ${k.retired_at} < active_from ${k.active_from}`,
        );
    }

    // The server agrees: it signs with the keys listed as signing.
    const server = await runServer({ port: await freePort(), dbEnv: db.env });
    try {
      for (const alg of ['ES256', 'RS256'] as const) {
        assert.equal(server.ctx.keystore.signingKey(alg).kid, keys.find((k) => k.alg === alg && k.status === 'signing')!.kid);
      }
    } finally {
      await server.stop();
    }
  });
});
