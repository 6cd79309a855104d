import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { claimsForScopes } from '../../src/users/claims.js';
import { runMain } from '../helpers/cli.js';
import { SECRET, clientKeyPair, standardBootstrap } from '../helpers/fixtures.js';
import { postForm, startServer, type TestServer } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';

/** Names every plain object inherits: request input must never find them in a lookup table. */
const PROTOTYPE_NAMES = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__lookupGetter__',
];

describe('request input that names Object.prototype members is just an unknown value', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ bootstrap: standardBootstrap((await clientKeyPair()).publicJwk) });
  });
  after(() => server.close());

  it('grant_type=constructor, __proto__, toString… answer unsupported_grant_type, with or without client authentication', async () => {
    for (const grantType of PROTOTYPE_NAMES) {
      for (const headers of [{}, { authorization: basicAuth('svc-basic', SECRET) }]) {
        const res = await postForm(`${server.url}/token`, { grant_type: grantType }, headers);
        assert.equal(res.status, 400, `${grantType}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error, 'unsupported_grant_type', `${grantType}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error_description, /is not supported; supported grant types: authorization_code/);
      }
    }
  });

  it('a scope named like an Object.prototype member releases no claims (and does not throw)', () => {
    const claims = { name: 'Alice', email: 'alice@example.com' };
    assert.deepEqual(claimsForScopes(claims, PROTOTYPE_NAMES), {});
    assert.deepEqual(claimsForScopes(claims, ['constructor', 'email']), { email: 'alice@example.com' });
  });

  it('the CLI: a command group or client --type named constructor, __proto__, toString is a usage error', async () => {
    // Refused before any database is opened: the data dir is never created.
    const env = { DATA_DIR: `${server.ctx.config.dataDir}-never-created` };
    for (const name of ['constructor', '__proto__', 'toString']) {
      const create = await runMain(['clients', 'create', '--type', name, '--name', 'x'], { env });
      assert.equal(create.code, 2, create.stderr);
      assert.match(create.stderr, new RegExp(`--type must be one of web, spa, native, service, device \\(got "${name}"\\)`));
      const group = await runMain([name], { env });
      assert.equal(group.code, 2, group.stderr);
      assert.match(group.stderr, new RegExp(`unknown command "${name}"`));
    }
  });
});
