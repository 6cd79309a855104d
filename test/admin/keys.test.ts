import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAdminServer, type AdminTestServer } from '../helpers/admin.js';

describe('admin API: signing keys', () => {
  let s: AdminTestServer;
  before(async () => {
    s = await startAdminServer();
  });
  after(async () => {
    await s.close();
  });

  it('lists the keys with their timeline, and rotates them (admin scope only), recorded as key.rotated', async () => {
    const before = await s.api('GET', '/keys', { token: await s.token('reader') });
    assert.equal(before.status, 200, JSON.stringify(before.body));
    const signing = (before.body.items as { kid: string; alg: string; status: string }[]).filter((k) => k.status === 'signing');
    assert.deepEqual(signing.map((k) => k.alg).sort(), ['ES256', 'RS256']);
    for (const k of before.body.items) assert.equal(k.public_jwk.d, undefined);

    assert.equal((await s.api('POST', '/keys/rotate', { token: await s.token('reader'), body: {} })).status, 403);
    const bad = await s.api('POST', '/keys/rotate', { body: { alg: 'HS256' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].pointer, '/alg');

    const rotated = await s.api('POST', '/keys/rotate', { body: { alg: 'ES256', delay_seconds: 0 } });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const [fresh] = rotated.body.keys as { kid: string; retired: string[] }[];
    assert.ok(fresh);
    const oldEs = signing.find((k) => k.alg === 'ES256')!.kid;
    assert.deepEqual(fresh.retired, [oldEs]);

    const shown = await s.api('GET', `/keys/${fresh.kid}`);
    assert.equal(shown.body.status, 'signing');
    assert.equal((await s.api('GET', `/keys/${oldEs}`)).body.status, 'retired');
    const jwks = (await (await fetch(`${s.url}/jwks`)).json()) as { keys: { kid: string }[] };
    assert.ok(jwks.keys.some((k) => k.kid === fresh.kid));

    await s.ctx.events.flush();
    const events = (await s.api('GET', '/events?type=key.rotated')).body.items as {
      actor: { client_id: string };
      target: { id: string };
    }[];
    assert.equal(events[0]?.target.id, fresh.kid);
    assert.equal(events[0].actor.client_id, 'admin');

    const page = await s.api('GET', '/keys?limit=1');
    assert.equal(page.body.items.length, 1);
    const next = await s.api('GET', `/keys?limit=10&cursor=${page.body.next_cursor}`);
    const all = (await s.api('GET', '/keys')).body.items as unknown[];
    assert.equal((next.body.items as unknown[]).length + 1, all.length);
  });
});
