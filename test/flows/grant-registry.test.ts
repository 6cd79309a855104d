import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { findGrant, GRANTS, type GrantTable } from '../../src/grants/index.js';
import { defineGrant } from '../../src/grants/types.js';
import { hashClientSecret } from '../../src/keys/secret.js';
import { clientMetadataSchema, clientMetadataSchemaFor, describeIssues } from '../../src/oauth/client-metadata.js';
import { required } from '../../src/oauth/params.js';
import { basicAuth } from '../support/basic-auth.js';
import { postForm, startServer, type TestServer } from '../helpers/server.js';

/**
 * Adding a grant type is its own module plus one registry line (issue 12 item 1): a toy grant,
 * defined and registered here in the test only, is dispatched by /token with its parameters
 * parsed by its own schema, advertised in discovery, and accepted in client metadata — with no
 * change to the token endpoint, discovery or the metadata schema.
 */
const TOY = 'urn:example:params:oauth:grant-type:toy';
const seen: unknown[] = [];
const toyGrant = defineGrant({
  grantType: TOY,
  parameters: z.object({ wish: required('wish').max(20, 'wish is too long') }),
  clientAuthentication: 'required',
  clientTypes: ['confidential'],
  handle({ client, params }) {
    seen.push(params);
    return Promise.resolve({ access_token: `toy:${client.clientId}:${params.wish}`, token_type: 'N_A', expires_in: 1 });
  },
});
const withToy: GrantTable = { ...GRANTS, [toyGrant.grantType]: toyGrant }; // the one registry line

const SECRET = 'toy-secret-toy-secret-toy-secret-0123';

describe('grant registry: a grant registered in a test is dispatched, advertised and accepted', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ grants: withToy });
    const metadata = clientMetadataSchemaFor(withToy).parse({ client_id: 'toy-client', client_secret: SECRET, grant_types: [TOY] });
    const { client_secret: _secret, ...stored } = metadata;
    await server.ctx.repos.clients.upsert('toy-client', stored, hashClientSecret(server.ctx.secrets, SECRET));
  });
  after(() => server.close());

  it('client metadata accepts it with the registry, and the built-in registry does not know it', () => {
    assert.equal(clientMetadataSchemaFor(withToy).safeParse({ client_id: 'c', client_secret: SECRET, grant_types: [TOY] }).success, true);
    const builtIn = clientMetadataSchema.safeParse({ client_id: 'c', client_secret: SECRET, grant_types: [TOY] });
    assert.equal(builtIn.success, false);
    assert.match(describeIssues(builtIn.error), /unknown grant type/);
  });

  it('its client types are the public-client rule: a public client may not register it', () => {
    const r = clientMetadataSchemaFor(withToy).safeParse({ client_id: 'spa', token_endpoint_auth_method: 'none', grant_types: [TOY] });
    assert.equal(r.success, false);
    assert.match(describeIssues(r.error), new RegExp(`public client .* cannot use ${TOY}`));
  });

  it('/token dispatches it, handing the handler only the parameters its schema declares', async () => {
    seen.length = 0;
    const res = await postForm(
      `${server.url}/token`,
      { grant_type: TOY, wish: 'pony', extra: 'ignored' },
      { authorization: basicAuth('toy-client', SECRET) },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.access_token, 'toy:toy-client:pony');
    assert.deepEqual(seen, [{ wish: 'pony' }]);
  });

  it('its schema is the one the dispatcher parses with: a missing parameter is invalid_request, before the handler', async () => {
    seen.length = 0;
    const res = await postForm(`${server.url}/token`, { grant_type: TOY }, { authorization: basicAuth('toy-client', SECRET) });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_request');
    assert.match(res.body.error_description, /'wish' parameter is required/);
    assert.deepEqual(seen, []);
  });

  it('discovery lists it in grant_types_supported, after the built-in grants', async () => {
    const meta = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as { grant_types_supported: string[] };
    assert.deepEqual(meta.grant_types_supported, [...Object.keys(GRANTS), TOY]);
  });

  it('without the registry line it is unsupported_grant_type', () => {
    assert.throws(() => findGrant(GRANTS, TOY), { code: 'unsupported_grant_type' });
  });
});
