import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { purgeExpired } from '../../src/store/cleanup.js';
import { ADMIN_SECRET, startAdminServer, type AdminTestServer } from '../helpers/admin.js';
import { signInWithCodeFlow } from '../helpers/sign-in.js';

const CB = 'http://127.0.0.1:8080/cb';
const PASSWORD = 'correct horse battery staple';

describe('audit events: sign-ins and retention', () => {
  let s: AdminTestServer;
  before(async () => {
    s = await startAdminServer({
      clients: [{ client_id: 'web', client_secret: ADMIN_SECRET, redirect_uris: [CB], scope: 'openid', skip_consent: true }],
      users: [{ username: 'alice', password: PASSWORD }],
    });
  });
  after(async () => {
    await s.close();
  });

  it('records a sign-in as login.success with the user and client, filterable by subject', async () => {
    const config = await oidc.discovery(new URL(s.issuer), 'web', undefined, oidc.ClientSecretBasic(ADMIN_SECRET), {
      execute: [oidc.allowInsecureRequests],
    });
    await signInWithCodeFlow({ config, baseUrl: s.url, redirectUri: CB, username: 'alice', password: PASSWORD, scope: 'openid' });
    await s.ctx.events.flush();
    const alice = await s.ctx.repos.users.findByUsername('alice');
    assert.ok(alice);
    const res = await s.api('GET', `/events?type=login.success&subject=${alice.id}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.items.length, 1);
    const [event] = res.body.items;
    assert.equal(event.actor.client_id, 'web');
    assert.equal(event.actor.sub, alice.id);
    assert.deepEqual(event.target, { type: 'user', id: alice.id });
  });

  it('purges audit events older than AUDIT_RETENTION_DAYS, keeping newer ones', async () => {
    await s.ctx.db.query(`INSERT INTO audit_events (time, type) VALUES (now() - interval '10 days', 'old.event'), (now(), 'new.event')`);
    const counts = await purgeExpired(s.ctx.db, new Date(), { auditRetentionDays: 5 });
    assert.ok(counts);
    assert.equal(counts.audit_events, 1);
    assert.deepEqual((await s.api('GET', '/events?type=old.event')).body.items, []);
    assert.equal((await s.api('GET', '/events?type=new.event')).body.items.length, 1);
  });
});
