import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { verifyPassword } from '../../src/users/password.js';
import { startAdminServer, type AdminTestServer } from '../helpers/admin.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { signInWithCodeFlow } from '../helpers/sign-in.js';
import { UserAgent, formAction, hiddenField } from '../helpers/user-agent.js';

/** /admin/api/v1 users, sessions and grants end to end, with real tokens (issue 14 item 3). */

const API = 'https://api.example.com';
const CB = 'http://127.0.0.1:8080/cb';
const WEB_SECRET = 'web-secret-web-secret-web-secret-0123';
const PASSWORD = 'correct horse battery staple';
const insecure = { execute: [oidc.allowInsecureRequests] };

describe('admin API: users, sessions, grants', () => {
  let s: AdminTestServer;
  let config: oidc.Configuration;
  before(async () => {
    s = await startAdminServer(
      {
        resources: [{ identifier: API, scopes: ['api:read'] }],
        clients: [
          {
            client_id: 'web',
            client_secret: WEB_SECRET,
            redirect_uris: [CB],
            grant_types: ['authorization_code', 'refresh_token'],
            scope: 'openid profile offline_access api:read',
            audiences: [API],
          },
        ],
        users: [{ username: 'alice', password: PASSWORD, claims: { name: 'Alice Example' } }],
      },
      { env: { LOGIN_FAILURE_LIMIT_ACCOUNT: '3' } },
    );
    config = await oidc.discovery(new URL(s.issuer), 'web', undefined, oidc.ClientSecretBasic(WEB_SECRET), insecure);
  });
  after(async () => {
    await s.close();
  });

  /** The audit events about a user, oldest first. */
  async function eventsOf(sub: string): Promise<{ type: string; actor: Record<string, unknown>; detail: Record<string, unknown> }[]> {
    const r = await s.api('GET', `/events?subject=${encodeURIComponent(sub)}&limit=200`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return [...r.body.items].reverse();
  }

  const signIn = (username: string, password: string) =>
    signInWithCodeFlow({ config, baseUrl: s.url, redirectUri: CB, username, password, scope: 'openid profile offline_access api:read' });

  let bobId = '';

  it('POST /users creates a user (201, Location, ETag) with claims and roles, and audits it without the password', async () => {
    const r = await s.api('POST', '/users', {
      body: { username: 'Bob', password: 'bobs long password', claims: { email: 'bob@example.com' }, roles: ['support', 'admin'] },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    bobId = r.body.id;
    assert.match(bobId, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(r.headers.get('location'), `/admin/api/v1/users/${bobId}`);
    assert.match(r.headers.get('etag') ?? '', /^"[\w-]+"$/);
    assert.deepEqual(
      { username: r.body.username, claims: r.body.claims, roles: r.body.roles },
      { username: 'Bob', claims: { email: 'bob@example.com' }, roles: ['admin', 'support'] },
    );
    assert.deepEqual(Object.keys(r.body).sort(), ['claims', 'created_at', 'id', 'roles', 'updated_at', 'username']);
    const stored = await s.ctx.repos.users.findById(bobId);
    assert.ok(stored && (await verifyPassword(stored.passwordHash, 'bobs long password')));

    const [created] = await eventsOf(bobId);
    assert.equal(created?.type, 'user.created');
    assert.equal(created.actor.client_id, 'admin');
    assert.equal((created.detail.after as { username: string }).username, 'Bob');
    assert.ok(!JSON.stringify(created).includes('bobs long password') && !JSON.stringify(created).includes('$argon2'));

    // Without a password: created, but nobody can sign in as them.
    const nopw = await s.api('POST', '/users', { body: { username: 'nopass' } });
    assert.equal(nopw.status, 201, JSON.stringify(nopw.body));
    assert.deepEqual([nopw.body.claims, nopw.body.roles], [{}, []]);
  });

  it('refuses bad input with problem details naming the field, a taken name with 409, a read-only token with 403', async () => {
    const cases: [unknown, string][] = [
      [{ username: 'has space', password: 'long enough pw' }, '/username'],
      [{ username: 'carol', password: 'short' }, '/password'],
      [{ username: 'carol', claims: { email: 'not-an-email' } }, '/claims/email'],
      [{ username: 'carol', roles: ['bad role'] }, '/roles/0'],
      [{ username: 'carol', role: ['admin'] }, '/role'],
    ];
    for (const [body, pointer] of cases) {
      const r = await s.api('POST', '/users', { body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.ok(
        r.body.errors.some((e: { pointer?: string }) => e.pointer === pointer),
        `${JSON.stringify(body)} names ${pointer}: ${JSON.stringify(r.body.errors)}`,
      );
    }
    const dup = await s.api('POST', '/users', { body: { username: 'BOB', password: 'another password' } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.errors[0].pointer, '/username');
    const ro = await s.api('POST', '/users', { token: await s.token('reader'), body: { username: 'carol' } });
    assert.equal(ro.status, 403);
    assert.match(ro.headers.get('www-authenticate') ?? '', /insufficient_scope/);
    assert.equal((await s.api('GET', '/users?username=carol')).body.items.length, 0, 'nothing was created');
  });

  it('lists users by username with a cursor, filters by ?username= whatever its case, and reads one', async () => {
    const first = await s.api('GET', '/users?limit=2');
    assert.equal(first.status, 200);
    assert.deepEqual(
      first.body.items.map((u: { username: string }) => u.username),
      ['alice', 'Bob'],
    );
    const second = await s.api('GET', `/users?limit=2&cursor=${first.body.next_cursor}`);
    assert.deepEqual(
      second.body.items.map((u: { username: string }) => u.username),
      ['nopass'],
    );
    assert.equal(second.body.next_cursor, null);
    const byName = await s.api('GET', '/users?username=bOb');
    assert.deepEqual(
      byName.body.items.map((u: { id: string }) => u.id),
      [bobId],
    );
    const one = await s.api('GET', `/users/${bobId}`);
    assert.equal(one.status, 200);
    assert.ok(one.headers.get('etag'));
    assert.equal((await s.api('GET', '/users/nobody')).status, 404);
  });

  it('PATCH merges claims, replaces roles, renames, honours If-Match, and refuses the password and read-only members', async () => {
    const { headers } = await s.api('GET', `/users/${bobId}`);
    const etag = headers.get('etag')!;
    const r = await s.api('PATCH', `/users/${bobId}`, {
      body: { claims: { email: null, name: 'Bob Builder' }, roles: ['ops'] },
      headers: { 'if-match': etag },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.claims, { name: 'Bob Builder' });
    assert.deepEqual(r.body.roles, ['ops']);
    assert.notEqual(r.headers.get('etag'), etag);
    const stale = await s.api('PATCH', `/users/${bobId}`, { body: { roles: [] }, headers: { 'if-match': etag } });
    assert.equal(stale.status, 412);
    assert.deepEqual((await s.ctx.repos.users.rolesOf(bobId)) ?? [], ['ops'], 'a stale If-Match changes nothing');

    const renamed = await s.api('PATCH', `/users/${bobId}`, { body: { username: 'robert' } });
    assert.equal(renamed.body.username, 'robert');
    assert.equal((await s.api('PATCH', `/users/${bobId}`, { body: { username: 'ALICE' } })).status, 409);
    const pw = await s.api('PATCH', `/users/${bobId}`, { body: { password: 'a new password here' } });
    assert.equal(pw.status, 400);
    assert.equal(pw.body.errors[0].pointer, '/password');
    assert.equal((await s.api('PATCH', `/users/${bobId}`, { body: { id: 'other' } })).body.errors[0].pointer, '/id');
    assert.equal(
      (await s.api('PATCH', `/users/${bobId}`, { body: { claims: { email: 'nope' } } })).body.errors[0].pointer,
      '/claims/email',
    );
    assert.equal((await s.api('PATCH', `/users/${bobId}`, { body: { roles: 'admin' } })).status, 400);

    const updates = (await eventsOf(bobId)).filter((e) => e.type === 'user.updated');
    assert.equal(updates.length, 2, 'one event per change, none for refused patches');
    assert.deepEqual((updates[0]!.detail.before as { roles: string[] }).roles, ['admin', 'support']);
    assert.deepEqual((updates[0]!.detail.after as { roles: string[] }).roles, ['ops']);
  });

  let aliceId = '';
  let tokens: Awaited<ReturnType<typeof signIn>>['tokens'];
  let ua: UserAgent;

  it('lists and ends sessions: an ended session signs no one in', async () => {
    aliceId = (await s.api('GET', '/users?username=alice')).body.items[0].id;
    ({ tokens, ua } = await signIn('alice', PASSWORD));
    const list = await s.api('GET', `/sessions?sub=${aliceId}`);
    assert.equal(list.status, 200);
    assert.equal(list.body.items.length, 1);
    const session = list.body.items[0];
    assert.deepEqual([session.sub, session.username], [aliceId, 'alice']);
    assert.equal((await s.api('GET', `/sessions/${session.id}`)).body.id, session.id);
    assert.equal((await s.api('GET', `/sessions?sub=${bobId}`)).body.items.length, 0);

    // Signed in: prompt=none answers with a code.
    const silent = async () => {
      const a = await pkceAuthorizationUrl(config, CB, { prompt: 'none', scope: 'openid' });
      return new URL((await ua.get(a.url.toString())).headers.get('location')!).searchParams;
    };
    assert.ok((await silent()).get('code'));
    assert.equal((await s.api('DELETE', `/sessions/${session.id}`)).status, 204);
    assert.equal((await silent()).get('error'), 'login_required');
    assert.equal((await s.api('DELETE', `/sessions/${session.id}`)).status, 404);
    assert.ok((await eventsOf(aliceId)).some((e) => e.type === 'session.ended'));
  });

  it("lists a user's grants (consent and token families) and DELETE revokes every token of it", async () => {
    const list = await s.api('GET', `/grants?sub=${aliceId}`);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.equal(list.body.items.length, 1);
    const grant = list.body.items[0];
    assert.equal(grant.id, `${aliceId}.web`);
    assert.equal(grant.client_id, 'web');
    assert.deepEqual(
      grant.consent.map((c: { resource: string | null; scopes: string[] }) => [c.resource, [...c.scopes].sort()]),
      [
        [null, ['offline_access', 'openid', 'profile']],
        [API, ['api:read']],
      ],
    );
    // The signed-in token family, and the one of the prompt=none code above (not redeemed).
    assert.equal(grant.token_families.length, 2);
    assert.deepEqual((await s.api('GET', '/grants?client_id=nobody')).body.items, []);
    assert.equal((await s.api('GET', `/grants/${encodeURIComponent(grant.id)}`)).body.id, grant.id);

    assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, true);
    assert.equal((await s.api('DELETE', `/grants/${encodeURIComponent(grant.id)}`)).status, 204);
    await assert.rejects(
      oidc.refreshTokenGrant(config, tokens.refresh_token!),
      (err: unknown) => err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant',
    );
    assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, false);
    assert.deepEqual((await s.api('GET', `/grants?sub=${aliceId}`)).body.items, []);
    assert.equal((await s.api('DELETE', `/grants/${encodeURIComponent(grant.id)}`)).status, 404);
    assert.equal((await s.api('DELETE', '/grants/no-dot-here')).status, 404);
    const revoked = (await eventsOf(aliceId)).find((e) => e.type === 'consent.revoked');
    assert.ok(revoked, 'audited');
    assert.equal((revoked.detail.before as { client_id: string }).client_id, 'web');
  });

  it('POST /users/{id}/password sets the password, ends sessions and revokes grants; never logs it', async () => {
    ({ tokens } = await signIn('alice', PASSWORD));
    const bad = await s.api('POST', `/users/${aliceId}/password`, { body: { password: 'short' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].pointer, '/password');
    const r = await s.api('POST', `/users/${aliceId}/password`, { body: { password: 'a brand new passphrase' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { sessions_ended: 1, grants_revoked: 1 });
    assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, false);
    await signIn('alice', 'a brand new passphrase');
    const changed = (await eventsOf(aliceId)).filter((e) => e.type === 'user.password_changed');
    assert.equal(changed.length, 1);
    assert.equal(changed[0]!.detail.grants_revoked, 1);
    assert.ok(!JSON.stringify(changed).includes('a brand new passphrase'));
    assert.equal((await s.api('POST', '/users/nobody/password', { body: { password: 'a brand new passphrase' } })).status, 404);
  });

  it('POST /users/{id}/unlock lets a locked-out account sign in again', async () => {
    const attempt = async (password: string) => {
      const agent = new UserAgent();
      const a = await pkceAuthorizationUrl(config, CB, { scope: 'openid' });
      const html = await (await agent.follow(await agent.get(a.url.toString()), s.url)).text();
      return agent.post(formAction(html, s.url), { username: 'alice', password, csrf: hiddenField(html, 'csrf') });
    };
    for (let i = 0; i < 3; i++) await attempt('wrong password');
    const locked = await attempt('a brand new passphrase');
    assert.notEqual(locked.status, 303, 'locked out: the right password does not sign in');
    assert.match(await locked.text(), /too many|try again/i);

    const r = await s.api('POST', `/users/${aliceId}/unlock`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { failures_cleared: true });
    const ok = await attempt('a brand new passphrase');
    assert.equal(ok.status, 303, 'signed in after the unlock');
    assert.deepEqual((await s.api('POST', `/users/${aliceId}/unlock`)).body, { failures_cleared: false });
    assert.ok((await eventsOf(aliceId)).some((e) => e.type === 'user.unlocked'));
  });

  it('DELETE /users/{id} deletes the user (If-Match honoured) and audits it', async () => {
    const stale = await s.api('DELETE', `/users/${bobId}`, { headers: { 'if-match': '"stale"' } });
    assert.equal(stale.status, 412);
    assert.equal((await s.api('DELETE', `/users/${bobId}`)).status, 204);
    assert.equal((await s.api('GET', `/users/${bobId}`)).status, 404);
    assert.equal((await s.api('DELETE', `/users/${bobId}`)).status, 404);
    const types = (await eventsOf(bobId)).map((e) => e.type);
    assert.equal(types.at(-1), 'user.deleted');
  });

  it('documents every route in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${s.url}/admin/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const p = '/admin/api/v1';
    for (const [path, method] of [
      ['/users', 'get'],
      ['/users', 'post'],
      ['/users/{id}', 'patch'],
      ['/users/{id}', 'delete'],
      ['/users/{id}/password', 'post'],
      ['/users/{id}/unlock', 'post'],
      ['/sessions', 'get'],
      ['/sessions/{id}', 'delete'],
      ['/grants', 'get'],
      ['/grants/{id}', 'delete'],
    ] as const) {
      assert.ok(doc.paths[`${p}${path}`]?.[method], `${method} ${path}`);
    }
  });
});
