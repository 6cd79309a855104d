import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAdminServer, type AdminTestServer } from '../helpers/admin.js';
import { postForm } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';
import { waitUntil } from '../helpers/wait.js';

describe('admin API: clients', () => {
  let s: AdminTestServer;
  before(async () => {
    s = await startAdminServer();
  });
  after(async () => {
    await s.close();
  });

  const tokenFor = (clientId: string, secret: string, resource?: string) =>
    postForm(
      `${s.url}/token`,
      { grant_type: 'client_credentials', ...(resource ? { resource } : {}) },
      { authorization: basicAuth(clientId, secret) },
    );
  const eventsOf = async (type: string, id: string) =>
    (await s.api('GET', `/events?type=${type}&client_id=${encodeURIComponent(id)}`)).body.items as {
      target: { id: string };
      actor: { client_id: string };
      detail: Record<string, unknown>;
    }[];

  it('refuses writes with a read-only token (403) and without a token (401)', async () => {
    const body = { client_id: 'nope', grant_types: ['client_credentials'] };
    const read = await s.api('POST', '/clients', { token: await s.token('reader'), body });
    assert.equal(read.status, 403);
    assert.match(read.headers.get('www-authenticate') ?? '', /error="insufficient_scope".*scope="latchkey:admin"/);
    assert.equal((await s.api('POST', '/clients', { token: null, body })).status, 401);
    assert.equal((await s.api('GET', '/clients/nope')).status, 404);
  });

  it('creates a client (201, secret once), which then works at /token, and records client.created without the secret', async () => {
    const res = await s.api('POST', '/clients', {
      body: {
        client_id: 'billing',
        client_name: 'Billing',
        grant_types: ['client_credentials'],
        scope: 'latchkey:admin:read',
        audiences: [s.audience],
      },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.client_id, 'billing');
    assert.equal(typeof res.body.client_secret, 'string');
    assert.ok(res.headers.get('etag'));
    const token = await tokenFor('billing', res.body.client_secret as string, s.audience);
    assert.equal(token.status, 200, JSON.stringify(token.body));

    const shown = await s.api('GET', '/clients/billing');
    assert.equal(shown.status, 200);
    assert.equal(shown.body.client_secret, undefined);
    assert.equal(shown.body.has_client_secret, true);

    const [event] = await eventsOf('client.created', 'billing');
    assert.ok(event);
    assert.equal(event.actor.client_id, 'admin');
    assert.equal(event.target.id, 'billing');
    assert.doesNotMatch(JSON.stringify(event), new RegExp(res.body.client_secret as string));

    const again = await s.api('POST', '/clients', { body: { client_id: 'billing', grant_types: ['client_credentials'] } });
    assert.equal(again.status, 409);
    assert.equal(again.body.errors[0].pointer, '/client_id');
  });

  it('answers bad input with problem details naming the field', async () => {
    const uri = await s.api('POST', '/clients', { body: { client_id: 'web1', redirect_uris: ['not a uri'] } });
    assert.equal(uri.status, 400);
    assert.match(uri.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.ok(
      uri.body.errors.some((e: { pointer: string }) => e.pointer === '/redirect_uris/0'),
      JSON.stringify(uri.body),
    );
    const unknown = await s.api('POST', '/clients', {
      body: { client_id: 'web2', grant_types: ['client_credentials'], redirect_uri: 'x' },
    });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.errors[0].pointer, '/redirect_uri');
    const json = await s.api('POST', '/clients', { body: '{"client_id": ' });
    assert.equal(json.status, 400);
    assert.equal(json.body.status, 400);
    const type = await s.api('POST', '/clients', { body: 'client_id=x', headers: { 'content-type': 'text/plain' } });
    assert.equal(type.status, 415);
    assert.match(type.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const grant = await s.api('POST', '/clients', { body: { client_id: 'pw', grant_types: ['password'] } });
    assert.equal(grant.status, 400);
    assert.equal(grant.body.errors[0].pointer, '/grant_types/0');
  });

  it('pages the list with an opaque cursor, every client once', async () => {
    for (const id of ['page-a', 'page-b', 'page-c', 'page-d', 'page-e']) {
      assert.equal((await s.api('POST', '/clients', { body: { client_id: id, grant_types: ['client_credentials'] } })).status, 201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await s.api('GET', `/clients?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.ok(res.body.items.length <= 2);
      seen.push(...res.body.items.map((c: { client_id: string }) => c.client_id));
      cursor = res.body.next_cursor as string | null;
      pages++;
    } while (cursor && pages < 20);
    assert.equal(new Set(seen).size, seen.length);
    for (const id of ['admin', 'reader', 'other', 'page-a', 'page-e']) assert.ok(seen.includes(id), id);
    assert.deepEqual([...seen].sort(), seen);
  });

  it('patches with a merge patch; a stale If-Match answers 412 and changes nothing', async () => {
    const read = await s.api('GET', '/clients/page-a');
    const etag = read.headers.get('etag') ?? '';
    const first = await s.api('PATCH', '/clients/page-a', { body: { client_name: 'Page A' }, headers: { 'if-match': etag } });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.client_name, 'Page A');
    assert.notEqual(first.headers.get('etag'), etag);

    const stale = await s.api('PATCH', '/clients/page-a', { body: { client_name: 'Lost update' }, headers: { 'if-match': etag } });
    assert.equal(stale.status, 412);
    assert.match(stale.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal((await s.api('GET', '/clients/page-a')).body.client_name, 'Page A');
    assert.equal((await s.api('DELETE', '/clients/page-a', { headers: { 'if-match': etag } })).status, 412);

    // null removes a member; application/json is accepted too.
    const removed = await s.api('PATCH', '/clients/page-a', {
      body: { client_name: null },
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(removed.status, 200);
    assert.equal(removed.body.client_name, undefined);
    const bad = await s.api('PATCH', '/clients/page-a', { body: { grant_types: ['authorization_code'] } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].pointer, '/redirect_uris');
    assert.equal((await s.api('PATCH', '/clients/page-a', { body: { client_id: 'other-id' } })).body.errors[0].pointer, '/client_id');

    const [updated] = await eventsOf('client.updated', 'page-a');
    assert.ok(updated);
    assert.deepEqual(Object.keys(updated.detail).sort(), ['after', 'before']);
  });

  it('rotates a secret with an overlap in which both secrets work; after it only the new one', async () => {
    const created = await s.api('POST', '/clients', {
      body: { client_id: 'rotating', grant_types: ['client_credentials'], scope: 'latchkey:admin:read', audiences: [s.audience] },
    });
    const oldSecret = created.body.client_secret as string;
    const reader = await s.api('POST', '/clients/rotating/secret', { token: await s.token('reader'), body: {} });
    assert.equal(reader.status, 403);
    const rotated = await s.api('POST', '/clients/rotating/secret', { body: { overlap_seconds: 2 } });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const newSecret = rotated.body.client_secret as string;
    assert.notEqual(newSecret, oldSecret);
    assert.equal((await tokenFor('rotating', newSecret)).status, 200);
    assert.equal((await tokenFor('rotating', oldSecret)).status, 200);
    const expires = Date.parse(rotated.body.previous_secret_expires_at as string);
    await waitUntil('the overlap to end', () => Date.now() > expires + 50, { timeoutMs: 5000 });
    assert.equal((await tokenFor('rotating', oldSecret)).status, 401);
    assert.equal((await tokenFor('rotating', newSecret)).status, 200);

    // Without overlap the old secret stops at once.
    const now = await s.api('POST', '/clients/rotating/secret', { body: { overlap_seconds: 0 } });
    assert.equal((await tokenFor('rotating', newSecret)).status, 401);
    assert.equal((await tokenFor('rotating', now.body.client_secret as string)).status, 200);
    assert.equal(
      (await s.api('POST', '/clients/rotating/secret', { body: { overlap_seconds: -1 } })).body.errors[0].pointer,
      '/overlap_seconds',
    );

    const events = await eventsOf('client.secret_rotated', 'rotating');
    assert.equal(events.length, 2);
    assert.doesNotMatch(JSON.stringify(events), new RegExp(newSecret));
  });

  it('deletes a client (204): its tokens stop working at once, and client.deleted is recorded', async () => {
    const created = await s.api('POST', '/clients', {
      body: { client_id: 'doomed', grant_types: ['client_credentials'], scope: 'latchkey:admin:read', audiences: [s.audience] },
    });
    const token = await tokenFor('doomed', created.body.client_secret as string, s.audience);
    const doomedToken = token.body.access_token as string;
    assert.equal((await s.api('GET', '/events', { token: doomedToken })).status, 200);
    const introspected = await postForm(
      `${s.url}/introspect`,
      { token: doomedToken },
      { authorization: basicAuth('doomed', created.body.client_secret as string) },
    );
    assert.equal(introspected.body.active, true);

    const del = await s.api('DELETE', '/clients/doomed');
    assert.equal(del.status, 204);
    const refused = await s.api('GET', '/events', { token: doomedToken });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.equal((await s.api('GET', '/clients/doomed')).status, 404);
    assert.equal((await s.api('DELETE', '/clients/doomed')).status, 404);
    const [event] = await eventsOf('client.deleted', 'doomed');
    assert.ok(event?.detail.before);
  });

  it('lists every client route in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${s.url}/admin/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    assert.ok(doc.paths['/admin/api/v1/clients']?.get && doc.paths['/admin/api/v1/clients'].post);
    const item = doc.paths['/admin/api/v1/clients/{client_id}'];
    assert.ok(item?.get && item.patch && item.delete);
    assert.ok(doc.paths['/admin/api/v1/clients/{client_id}/secret']?.post);
  });
});
