import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basicAuth } from '../support/basic-auth.js';
import { postForm, startServer, type TestServer } from '../helpers/server.js';

const SECRET = 'a-client-secret-of-at-least-32-characters';

/**
 * Issue 12 item 2: client metadata is parsed by its schema when read, not trusted from the jsonb
 * column. A row that no longer passes (written by hand, or by an older version under rules since
 * tightened) is never served: the request is a server fault, and nothing is issued from it.
 */
describe('stored client metadata is parsed when read', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({
      bootstrap: {
        resources: [{ identifier: 'https://api.example.com', scopes: ['api:read'] }],
        clients: [
          {
            client_id: 'svc',
            client_secret: SECRET,
            grant_types: ['client_credentials'],
            scope: 'api:read',
            audiences: ['https://api.example.com'],
          },
        ],
      },
    });
  });
  after(() => server.close());

  const token = () =>
    postForm(`${server.url}/token`, { grant_type: 'client_credentials', scope: 'api:read' }, { authorization: basicAuth('svc', SECRET) });

  it('a valid row works; the same row edited to grant_types ["password"] in the database issues nothing', async () => {
    assert.equal((await token()).status, 200);
    await server.ctx.db.query(
      `UPDATE clients SET metadata = jsonb_set(metadata, '{grant_types}', '["password", "client_credentials"]') WHERE client_id = 'svc'`,
    );
    server.ctx.registry.invalidate('svc');
    const r = await token();
    assert.equal(r.status, 500);
    assert.equal(r.body.error, 'server_error');
    assert.equal(r.body.access_token, undefined);
    assert.doesNotMatch(JSON.stringify(r.body), /password|grant_types/, 'the stored row is not described to the caller');
  });

  it('a row with a member the schema does not know is refused too (no unvalidated metadata reaches a grant)', async () => {
    await server.ctx.db.query(
      `UPDATE clients SET metadata = jsonb_set(metadata, '{grant_types}', '["client_credentials"]') || '{"is_admin": true}' WHERE client_id = 'svc'`,
    );
    server.ctx.registry.invalidate('svc');
    assert.equal((await token()).status, 500);
    await server.ctx.db.query(`UPDATE clients SET metadata = metadata - 'is_admin' WHERE client_id = 'svc'`);
    server.ctx.registry.invalidate('svc');
    assert.equal((await token()).status, 200, 'fixed in the database, the client works again');
  });
});
