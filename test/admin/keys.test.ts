import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { startAdminServer, type AdminTestServer } from '../helpers/admin.js';
import { startServer, type TestServer } from '../helpers/server.js';

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

  /** A resource server as one is written: jose's remote JWK Set, whose cache has expired (cacheMaxAge 0). */
  const verifyAtResourceServer = (token: string) =>
    jwtVerify(token, createRemoteJWKSet(new URL(`${s.url}/jwks`), { cacheMaxAge: 0 }), {
      issuer: s.issuer,
      audience: 'https://other-api.example.com',
    });
  const kidOf = (token: string) => decodeProtectedHeader(token).kid!;
  const jwksKids = async () => ((await (await fetch(`${s.url}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
  type Key = { kid: string; alg: string; status: string; active_from: string; retired_at: string | null; publish_until: string | null };
  const keys = async () => (await s.api('GET', '/keys?limit=200')).body.items as Key[];

  it('retires a key: refused without a successor (409), a pending successor takes over, unpublish stops its tokens verifying', async () => {
    const reader = await s.token('reader');
    // An access token signed now, by the key that signs access tokens (ES256 by default).
    const oldToken = await s.token('other');
    const oldKid = kidOf(oldToken);
    const oldAlg = decodeProtectedHeader(oldToken).alg!;
    assert.equal((await keys()).find((k) => k.kid === oldKid)?.status, 'signing');

    // Bad requests, each precise.
    assert.equal((await s.api('POST', `/keys/${oldKid}/retire`, { token: reader, body: {} })).status, 403);
    const unknown = await s.api('POST', '/keys/no-such-kid/retire', { body: {} });
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.detail, /no-such-kid/);
    const bad = await s.api('POST', `/keys/${oldKid}/retire`, { body: { unpublish: 'yes' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].pointer, '/unpublish');
    const typo = await s.api('POST', `/keys/${oldKid}/retire`, { body: { unpublished: true } });
    assert.equal(typo.status, 400);

    // The only key of its algorithm: refused, nothing changed.
    const alone = await s.api('POST', `/keys/${oldKid}/retire`, { body: { unpublish: true } });
    assert.equal(alone.status, 409, JSON.stringify(alone.body));
    assert.match(alone.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.match(alone.body.detail, new RegExp(`no other ${oldAlg} key would sign now.*rotate the ${oldAlg} keys first`));
    assert.equal((await keys()).find((k) => k.kid === oldKid)?.status, 'signing');
    assert.ok((await jwksKids()).includes(oldKid));

    // A rotation with a delay: the new key is published, signs in 10 minutes.
    const rotated = await s.api('POST', '/keys/rotate', { body: { alg: oldAlg, delay_seconds: 600 } });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const newKid = (rotated.body.keys as { kid: string }[])[0]!.kid;
    assert.equal((await keys()).find((k) => k.kid === newKid)?.status, 'pending');

    // Retire the old key now: the pending successor takes over at once; the old key stays
    // published, so the tokens it signed keep verifying.
    const retired = await s.api('POST', `/keys/${oldKid}/retire`, { body: {} });
    assert.equal(retired.status, 200, JSON.stringify(retired.body));
    assert.equal(retired.body.key.status, 'retired');
    assert.equal(retired.body.unpublished, false);
    assert.equal(retired.body.signing_now, newKid);
    assert.equal(retired.body.promoted.kid, newKid);
    assert.ok(Date.parse(retired.body.key.publish_until) > Date.now() + 3000_000, 'published while its tokens live');
    assert.equal((await keys()).find((k) => k.kid === newKid)?.status, 'signing');
    const newToken = await s.token('other');
    assert.equal(kidOf(newToken), newKid, 'new tokens are signed by the successor');
    await verifyAtResourceServer(oldToken);
    await verifyAtResourceServer(newToken);

    // Retiring it again without unpublish: nothing to do, and said so.
    const again = await s.api('POST', `/keys/${oldKid}/retire`, { body: {} });
    assert.equal(again.status, 409);
    assert.match(again.body.detail, /retire it with unpublish/);

    // Unpublish (suspected compromise): gone from /jwks; its tokens stop verifying at a resource
    // server and at Latchkey itself (introspection); new tokens verify.
    const unpublished = await s.api('POST', `/keys/${oldKid}/retire`, { body: { unpublish: true } });
    assert.equal(unpublished.status, 200, JSON.stringify(unpublished.body));
    assert.equal(unpublished.body.key.status, 'expired');
    assert.equal(unpublished.body.unpublished, true);
    assert.ok(!(await jwksKids()).includes(oldKid));
    await assert.rejects(verifyAtResourceServer(oldToken), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
    await verifyAtResourceServer(newToken);
    await verifyAtResourceServer(await s.token('other'));
    // The admin API itself verifies its callers' tokens with the same keys: one signed by the unpublished key is refused.
    const adminOld = await s.api('GET', '/keys', { token: reader });
    assert.equal(adminOld.status, kidOf(reader) === oldKid ? 401 : 200);

    // Gone from /jwks: nothing left to retire.
    const gone = await s.api('POST', `/keys/${oldKid}/retire`, { body: { unpublish: true } });
    assert.equal(gone.status, 409);
    assert.match(gone.body.detail, /left \/jwks/);

    // Each retirement is an audit event naming the actor, with before and after, in the same transaction.
    const events = (await s.api('GET', '/events?type=key.retired')).body.items as {
      actor: { client_id: string };
      target: { type: string; id: string };
      detail: { before: { status: string }; after: { status: string }; unpublished: boolean; promoted?: { kid: string } };
    }[];
    assert.equal(events.length, 2);
    assert.deepEqual(
      events.map((e) => [e.target.id, e.detail.before.status, e.detail.after.status, e.detail.unpublished]),
      [
        [oldKid, 'retired', 'expired', true],
        [oldKid, 'signing', 'retired', false],
      ],
    );
    assert.equal(events[1]!.detail.promoted?.kid, newKid);
    assert.equal(events[0]!.actor.client_id, 'admin');
  });
});

describe(
  'key retirement across two processes on one PostgreSQL',
  { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL: the embedded database serves one process' },
  () => {
    let a: AdminTestServer;
    let b: TestServer;
    before(async () => {
      a = await startAdminServer();
      b = await startServer({ shareDatabaseWith: a });
    });
    after(async () => {
      await b.close();
      await a.close();
    });

    it('the other process stops publishing and signing with the key at its next key reload', async () => {
      const rotated = await a.api('POST', '/keys/rotate', { body: { alg: 'ES256', delay_seconds: 0 } });
      assert.equal(rotated.status, 200);
      const first = (rotated.body.keys as { kid: string; retired: string[] }[])[0]!;
      const newKid = first.kid;
      const oldKid = first.retired[0]!;
      await b.ctx.keystore.reload();
      assert.equal(b.ctx.keystore.signingKey('ES256').kid, newKid);
      assert.ok(b.ctx.keystore.verificationKey(oldKid), 'still published in b');
      const res = await a.api('POST', `/keys/${oldKid}/retire`, { body: { unpublish: true } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.ok(!a.ctx.keystore.verificationKey(oldKid), 'gone at once in the process that retired it');
      // b's timer (KEY_RELOAD_INTERVAL) re-reads the table; here called directly.
      await b.ctx.keystore.reload();
      assert.equal(b.ctx.keystore.verificationKey(oldKid), undefined);
      const jwks = (await (await fetch(`${b.url}/jwks`)).json()) as { keys: { kid: string }[] };
      assert.ok(!jwks.keys.some((k) => k.kid === oldKid));
    });
  },
);
