import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from '../../src/oauth/client-metadata.js';
import { requestedScopes } from '../../src/oauth/requested-scopes.js';
import { clientRecord, oauthError } from '../helpers/clients.js';

const API = 'https://api.example.com';
const OTHER = 'https://other.example.com';
const resources = new Map<string, Resource>([
  [API, { identifier: API, scopes: ['api:read', 'api:write'] }],
  [OTHER, { identifier: OTHER, scopes: ['other:read'] }],
]);
const web = clientRecord({
  client_id: 'web',
  redirect_uris: ['https://app.example.com/cb'],
  scope: 'openid profile offline_access api:read api:write other:read',
  audiences: [API, OTHER],
});
const oidcOnly = clientRecord({ client_id: 'login', redirect_uris: ['https://login.example.com/cb'], scope: 'openid email' });

describe('requestedScopes: what a person is asked to grant', () => {
  it('without scope: every registered scope but offline_access (which must be asked for)', () => {
    const r = requestedScopes(oidcOnly, undefined, [], resources);
    assert.deepEqual(r, { scopes: ['openid', 'email'], audiences: [] });
    assert.deepEqual(requestedScopes(oidcOnly, '', [], resources).scopes, ['openid', 'email']);
  });

  it('OpenID scopes alone need no resource; a resource scope brings its resource as the audience (RFC 8707)', () => {
    assert.deepEqual(requestedScopes(web, 'openid profile', [], resources), { scopes: ['openid', 'profile'], audiences: [] });
    assert.deepEqual(requestedScopes(web, 'openid api:read', [], resources), { scopes: ['openid', 'api:read'], audiences: [API] });
    assert.deepEqual(requestedScopes(web, 'openid offline_access other:read', [], resources).audiences, [OTHER]);
    assert.deepEqual(requestedScopes(web, 'api:read', [API], resources).audiences, [API]);
  });

  it('a scope not registered for the client is invalid_scope, naming it', () => {
    const err = oauthError(() => requestedScopes(oidcOnly, 'openid api:read', [], resources), 'invalid_scope');
    assert.match(err.description, /scope "api:read" is not registered for client "login"/);
  });

  it('a malformed scope parameter is invalid_scope (RFC 6749 §3.3: single spaces between tokens)', () => {
    for (const bad of ['openid  profile', ' openid', 'openid ', 'open"id', 'a\\b'])
      assert.match(oauthError(() => requestedScopes(web, bad, [], resources), 'invalid_scope').description, /RFC 6749 §3\.3/, bad);
  });

  it('a resource the client may not use is invalid_target', () => {
    oauthError(() => requestedScopes(web, 'api:read', ['https://elsewhere.example.com'], resources), 'invalid_target');
    oauthError(() => requestedScopes(oidcOnly, 'openid', [API], resources), 'invalid_target');
  });
});
