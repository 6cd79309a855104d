import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAdminServer, type AdminTestServer } from '../helpers/admin.js';

describe('admin API: authorization, problem details, OpenAPI, events', () => {
  let s: AdminTestServer;
  before(async () => {
    s = await startAdminServer();
  });
  after(async () => {
    await s.close();
  });

  it('answers 401 with an RFC 6750 challenge without a token or with an invalid one', async () => {
    const none = await s.api('GET', '/events', { token: null });
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer realm="latchkey"/);
    assert.match(none.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(none.body.status, 401);
    assert.equal(typeof none.body.title, 'string');
    assert.equal(typeof none.body.detail, 'string');

    const bad = await s.api('GET', '/events', { token: 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln' });
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  it('answers 403 insufficient_scope for a token of another audience; a read-only token reads', async () => {
    const other = await s.api('GET', '/events', { token: await s.token('other') });
    assert.equal(other.status, 403);
    assert.match(other.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);

    const reader = await s.token('reader');
    const read = await s.api('GET', '/events', { token: reader });
    assert.equal(read.status, 200, JSON.stringify(read.body));
    // Writes by a read-only token: test/admin/clients.test.ts.
  });

  it('lists events newest first with the contract fields, pages them with an opaque cursor, and filters', async () => {
    // Client authentication failures are security events; each is stored.
    for (let i = 0; i < 3; i++) {
      await fetch(`${s.url}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`admin:wrong-${i}`).toString('base64')}`,
        },
        body: 'grant_type=client_credentials',
      });
    }
    await s.ctx.events.flush();
    const first = await s.api('GET', '/events?type=client_auth.failure&limit=2');
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.items.length, 2);
    assert.equal(typeof first.body.next_cursor, 'string');
    for (const e of first.body.items) {
      for (const k of ['id', 'time', 'type', 'actor', 'target']) assert.ok(k in e, `event has ${k}`);
      assert.equal(e.type, 'client_auth.failure');
      assert.equal(e.actor.client_id, 'admin');
    }
    assert.ok(Date.parse(first.body.items[0].time) >= Date.parse(first.body.items[1].time));
    const second = await s.api('GET', `/events?type=client_auth.failure&limit=2&cursor=${first.body.next_cursor}`);
    assert.equal(second.body.items.length, 1);
    assert.equal(second.body.next_cursor, null);
    const ids = [...first.body.items, ...second.body.items].map((e: { id: string }) => e.id);
    assert.equal(new Set(ids).size, 3);

    const byClient = await s.api('GET', '/events?client_id=nobody');
    assert.deepEqual(byClient.body.items, []);
    const future = await s.api('GET', `/events?since=${encodeURIComponent(new Date(Date.now() + 3600_000).toISOString())}`);
    assert.deepEqual(future.body.items, []);
  });

  it('answers bad input with problem details naming the field', async () => {
    const limit = await s.api('GET', '/events?limit=100000');
    assert.equal(limit.status, 400);
    assert.match(limit.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(limit.body.errors[0].field, 'limit');
    const cursor = await s.api('GET', '/events?cursor=not-a-cursor');
    assert.equal(cursor.status, 400);
    assert.equal(cursor.body.errors[0].field, 'cursor');
    const since = await s.api('GET', '/events?since=yesterday');
    assert.equal(since.status, 400);
    assert.equal(since.body.errors[0].field, 'since');
  });

  it('answers 404 and 405 as problem details', async () => {
    const missing = await s.api('GET', '/nothing-here');
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const method = await s.api('DELETE', '/events');
    assert.equal(method.status, 405);
    assert.equal(method.headers.get('allow'), 'GET');
  });

  it('serves its OpenAPI 3.1 document without a token, and a reference page', async () => {
    const res = await fetch(`${s.url}/admin/api/v1/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/admin/api/v1/events']?.get);
    const page = await fetch(`${s.url}/admin/api/v1/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /GET \/admin\/api\/v1\/events/);
  });

  it('keeps the built-in resource for the admin API', async () => {
    const r = await s.ctx.repos.resources.find(s.audience);
    assert.deepEqual(r?.scopes, ['latchkey:admin', 'latchkey:admin:read']);
  });
});
