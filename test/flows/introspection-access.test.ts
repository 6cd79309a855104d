import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { API, OTHER_API, SECRET, clientKeyPair, standardBootstrap } from '../helpers/fixtures.js';
import { postForm, startServer, type TestServer } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';

describe("introspection answers only the token's client and the clients registered for its audience (RFC 7662 §4)", () => {
  let server: TestServer;

  before(async () => {
    const bootstrap = standardBootstrap((await clientKeyPair()).publicJwk);
    bootstrap.clients.push({
      client_id: 'other-rs',
      client_secret: SECRET,
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'other:read',
      audiences: [OTHER_API],
    });
    server = await startServer({ bootstrap });
  });
  after(() => server.close());

  const token = async (scope: string, resource: string) => {
    const res = await postForm(
      `${server.url}/token`,
      { grant_type: 'client_credentials', scope, resource },
      { authorization: basicAuth('svc-basic', SECRET) },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.access_token as string;
  };
  const introspect = async (as: string, t: string, auth: Record<string, string> = { authorization: basicAuth(as, SECRET) }) => {
    const res = await postForm(
      `${server.url}/introspect`,
      { token: t, ...(auth.authorization ? {} : { client_id: as, client_secret: SECRET }) },
      auth,
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { active: boolean; client_id?: string };
  };

  it('the client it was issued to and a client registered for its audience see it; any other client gets {"active": false}', async () => {
    const forApi = await token('api:read', API);
    assert.equal((await introspect('svc-basic', forApi)).client_id, 'svc-basic', 'its own client');
    assert.equal((await introspect('svc-post', forApi, {})).active, true, 'registered for API');
    // other-rs is registered only for OTHER_API: it learns nothing, not even that the token exists.
    assert.deepEqual(await introspect('other-rs', forApi), { active: false });

    const forOther = await token('other:read', OTHER_API);
    assert.equal((await introspect('other-rs', forOther)).active, true);
    assert.deepEqual(await introspect('svc-post', forOther, {}), { active: false });
  });
});
