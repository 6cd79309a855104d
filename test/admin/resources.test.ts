import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAdminServer, type AdminTestServer } from '../helpers/admin.js';

const API = 'https://orders.example.com';
const IDP = 'https://partner-idp.example.com';
const path = (collection: string, id: string) => `/${collection}/${encodeURIComponent(id)}`;

describe('admin API: resources and trusted issuers', () => {
  let s: AdminTestServer;
  before(async () => {
    s = await startAdminServer();
  });
  after(async () => {
    await s.close();
  });

  it('creates, reads, patches (If-Match) and deletes a resource with scope descriptions; each change is an event', async () => {
    const created = await s.api('POST', '/resources', {
      body: { identifier: API, name: 'Orders', scopes: ['orders:read'], scope_descriptions: { 'orders:read': 'See your orders' } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.built_in, false);
    assert.equal(created.headers.get('location'), `/admin/api/v1${path('resources', API)}`);
    const read = await s.api('GET', path('resources', API));
    assert.equal(read.body.scope_descriptions['orders:read'], 'See your orders');
    const etag = read.headers.get('etag') ?? '';

    const patched = await s.api('PATCH', path('resources', API), {
      body: { scopes: ['orders:read', 'orders:write'], scope_descriptions: { 'orders:write': 'Place orders' } },
      headers: { 'if-match': etag },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(patched.body.scope_descriptions, { 'orders:read': 'See your orders', 'orders:write': 'Place orders' });
    assert.equal((await s.api('PATCH', path('resources', API), { body: { name: 'X' }, headers: { 'if-match': etag } })).status, 412);

    const bad = await s.api('PATCH', path('resources', API), { body: { scope_descriptions: { 'orders:delete': 'Delete' } } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].pointer, '/scope_descriptions/orders:delete');

    const list = await s.api('GET', '/resources?limit=1');
    assert.equal(list.body.items.length, 1);
    assert.equal(typeof list.body.next_cursor, 'string');

    assert.equal((await s.api('DELETE', path('resources', API))).status, 204);
    assert.equal((await s.api('GET', path('resources', API))).status, 404);
    const types = ((await s.api('GET', `/events?limit=20`)).body.items as { type: string; target: { id: string } | null }[])
      .filter((e) => e.target?.id === API)
      .map((e) => e.type);
    assert.deepEqual(types, ['resource.deleted', 'resource.updated', 'resource.created']);
  });

  it('keeps the built-in admin resource read-only', async () => {
    const shown = await s.api('GET', path('resources', s.audience));
    assert.equal(shown.status, 200);
    assert.equal(shown.body.built_in, true);
    assert.deepEqual(shown.body.scopes, ['latchkey:admin', 'latchkey:admin:read']);
    assert.equal((await s.api('DELETE', path('resources', s.audience))).status, 409);
    assert.equal((await s.api('PATCH', path('resources', s.audience), { body: { scopes: [] } })).status, 409);
  });

  it('manages trusted issuers with the bootstrap file’s rules', async () => {
    const body = {
      issuer: IDP,
      jwks_uri: 'https://partner-idp.example.com/jwks',
      subject: 'alice',
      client_ids: ['admin'],
    };
    const created = await s.api('POST', '/trusted-issuers', { body });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await s.api('POST', '/trusted-issuers', { body })).status, 409);
    const own = await s.api('POST', '/trusted-issuers', { body: { ...body, issuer: s.issuer } });
    assert.equal(own.status, 400);
    assert.equal(own.body.errors[0].pointer, '/issuer');
    const both = await s.api('PATCH', path('trusted-issuers', IDP), { body: { allow_any_subject: true } });
    assert.equal(both.status, 400);
    assert.equal(both.body.errors[0].pointer, '/subject');
    const ok = await s.api('PATCH', path('trusted-issuers', IDP), { body: { allow_any_subject: true, subject: null } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.allow_any_subject, true);
    assert.equal((await s.api('DELETE', path('trusted-issuers', IDP))).status, 204);
    const events = (await s.api('GET', '/events?type=trusted_issuer.updated')).body.items as { target: { id: string } }[];
    assert.equal(events[0]?.target.id, IDP);
  });
});
