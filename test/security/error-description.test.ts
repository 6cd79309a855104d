import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { API, SECRET, clientKeyPair, standardBootstrap } from '../helpers/fixtures.js';
import { postForm, startServer, type TestServer } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';

/** RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E. */
const ALLOWED = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;
const NASTY = ['x"q', 'y\\z', 'naïve', 'emoji-😀', '"quoted"'];

describe('error_description never carries forbidden characters nor the request values (issue 11 item 22)', () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await startServer({ bootstrap: standardBootstrap((await clientKeyPair()).publicJwk) });
    token = `${server.url}/token`;
  });
  after(() => server.close());

  const auth = { authorization: basicAuth('svc-basic', SECRET) };
  const assertClean = (res: { status: number; body: { error?: string; error_description?: string } }, sent: string) => {
    assert.ok(res.status >= 400, JSON.stringify(res.body));
    const d = res.body.error_description ?? '';
    assert.match(d, ALLOWED, `forbidden characters in ${JSON.stringify(d)}`);
    assert.ok(!d.includes(sent), `${JSON.stringify(d)} repeats the value sent ${JSON.stringify(sent)}`);
  };

  it('in grant_type', async () => {
    for (const v of NASTY) assertClean(await postForm(token, { grant_type: v }, auth), v);
    for (const v of NASTY) assertClean(await postForm(token, { grant_type: `urn:example:${v}` }), `urn:example:${v}`);
  });

  it('in scope, malformed or merely unregistered', async () => {
    for (const v of NASTY) assertClean(await postForm(token, { grant_type: 'client_credentials', scope: v }, auth), v);
    const res = await postForm(token, { grant_type: 'client_credentials', scope: 'api:read api:not-mine' }, auth);
    assert.equal(res.body.error, 'invalid_scope');
    assertClean(res, 'api:not-mine');
  });

  it('in resource, malformed or merely not allowed', async () => {
    for (const v of NASTY) assertClean(await postForm(token, { grant_type: 'client_credentials', resource: v }, auth), v);
    for (const v of NASTY) {
      const sent = `${API}/${v}`;
      assertClean(await postForm(token, { grant_type: 'client_credentials', resource: sent }, auth), sent);
    }
    const res = await postForm(token, { grant_type: 'client_credentials', resource: 'https://elsewhere.example' }, auth);
    assert.equal(res.body.error, 'invalid_target');
    assertClean(res, 'https://elsewhere.example');
  });

  it('in an unknown parameter name, sent twice', async () => {
    const res = await postForm(
      token,
      `grant_type=client_credentials&scope=api:%22x&${encodeURIComponent('we"ird')}=1&${encodeURIComponent('we"ird')}=2`,
      auth,
    );
    assertClean(res, 'we"ird');
    assertClean(res, 'we');
  });

  it('in client credentials: the Basic client_id is not repeated back', async () => {
    for (const v of NASTY)
      assertClean(await postForm(token, { grant_type: 'client_credentials' }, { authorization: basicAuth(v, SECRET) }), v);
  });
});

describe('invalid_client reads the same whether the client is unknown, the secret wrong or the method another', () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await startServer({ bootstrap: standardBootstrap((await clientKeyPair()).publicJwk) });
    token = `${server.url}/token`;
  });
  after(() => server.close());

  it('one status, body and challenge for all three', async () => {
    const unknown = await postForm(token, { grant_type: 'client_credentials' }, { authorization: basicAuth('no-such-client', SECRET) });
    const wrongSecret = await postForm(
      token,
      { grant_type: 'client_credentials' },
      { authorization: basicAuth('svc-basic', `${SECRET}x`) },
    );
    // svc-post is registered for client_secret_post; svc-jwt for private_key_jwt.
    const wrongMethod = await postForm(token, { grant_type: 'client_credentials' }, { authorization: basicAuth('svc-post', SECRET) });
    const wrongMethodJwt = await postForm(token, { grant_type: 'client_credentials' }, { authorization: basicAuth('svc-jwt', SECRET) });
    for (const res of [unknown, wrongSecret, wrongMethod, wrongMethodJwt]) {
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, unknown.body);
      assert.equal(res.headers.get('www-authenticate'), unknown.headers.get('www-authenticate'));
    }
    assert.equal(unknown.body.error, 'invalid_client');
    assert.doesNotMatch(
      unknown.body.error_description,
      /no client is registered|secret is wrong|private_key_jwt|client_secret_post|client_secret_basic/,
    );
  });

  it('the same in the form body (client_secret_post) as in the header', async () => {
    const unknown = await postForm(token, { grant_type: 'client_credentials', client_id: 'no-such-client', client_secret: SECRET });
    const wrongSecret = await postForm(token, { grant_type: 'client_credentials', client_id: 'svc-post', client_secret: `${SECRET}x` });
    const wrongMethod = await postForm(token, { grant_type: 'client_credentials', client_id: 'svc-basic', client_secret: SECRET });
    for (const res of [unknown, wrongSecret, wrongMethod]) {
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, unknown.body);
    }
  });
});
