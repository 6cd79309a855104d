import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientMetadataSchema, describeIssues } from '../../src/oauth/client-metadata.js';
import { redirectUriProblem } from '../../src/oauth/uris.js';

const SECRET = 'at-least-32-characters-of-secret-value';
const web = { client_id: 'web', client_secret: SECRET, redirect_uris: ['https://app.example.com/cb'] };

const problem = (input: unknown): string => {
  const r = clientMetadataSchema.safeParse(input);
  assert.equal(r.success, false, `expected ${JSON.stringify(input)} to be refused`);
  return describeIssues(r.error);
};

describe('client metadata (RFC 7591) validation', () => {
  it('applies RFC 7591 defaults', () => {
    const m = clientMetadataSchema.parse(web);
    assert.deepEqual(m.grant_types, ['authorization_code']);
    assert.deepEqual(m.response_types, ['code']);
    assert.equal(m.token_endpoint_auth_method, 'client_secret_basic');
    assert.equal(m.skip_consent, false);
  });

  it('accepts the docs/contract.md example client', () => {
    const r = clientMetadataSchema.safeParse({
      client_id: 'web-app',
      client_secret: SECRET,
      client_name: 'Web App',
      redirect_uris: ['http://localhost:8080/callback'],
      post_logout_redirect_uris: ['http://localhost:8080/'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile email offline_access api:read',
      audiences: ['https://api.example.com'],
      skip_consent: false,
    });
    assert.ok(r.success, r.success ? '' : describeIssues(r.error));
  });

  it('refuses redirect URIs with fragments, dangerous schemes, plain http off loopback, userinfo', () => {
    for (const [uri, why] of [
      ['https://app.example.com/cb#x', /fragment/],
      ['javascript:alert(1)', /javascript: scheme/],
      ['data:text/html,hi', /data: scheme/],
      ['http://app.example.com/cb', /plain http/],
      ['https://user@app.example.com/cb', /user information/],
      ['/relative', /not an absolute URI/],
    ] as const) {
      assert.match(problem({ ...web, redirect_uris: [uri] }), why, uri);
    }
  });

  it('allows loopback http and private-use schemes for native apps (RFC 8252)', () => {
    for (const uri of ['http://127.0.0.1/cb', 'http://[::1]:8080/cb', 'http://localhost:3000/cb', 'com.example.app:/oauth2redirect']) {
      assert.equal(redirectUriProblem(uri), undefined, uri);
    }
  });

  it('refuses short secrets with a clear message', () => {
    assert.match(problem({ ...web, client_secret: 'short' }), /client_secret: client_secret must be at least 32 characters/);
  });

  it('refuses password and implicit grants, naming what to use', () => {
    assert.match(problem({ ...web, grant_types: ['password'] }), /not supported.*authorization_code grant with PKCE/);
    assert.match(problem({ ...web, grant_types: ['implicit'] }), /PKCE/);
    assert.match(problem({ ...web, response_types: ['token'] }), /response_types/);
  });

  it('refuses private keys in jwks, and jwks with jwks_uri', () => {
    const jwk = { kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'secret' };
    assert.match(
      problem({
        client_id: 'x',
        token_endpoint_auth_method: 'private_key_jwt',
        grant_types: ['client_credentials'],
        jwks: { keys: [jwk] },
      }),
      /public keys only.*d/,
    );
    assert.match(
      problem({
        client_id: 'x',
        token_endpoint_auth_method: 'private_key_jwt',
        grant_types: ['client_credentials'],
        jwks: { keys: [] },
        jwks_uri: 'https://x.example/jwks',
      }),
      /either jwks or jwks_uri/,
    );
    assert.match(
      problem({ client_id: 'x', token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'] }),
      /needs the client's public keys/,
    );
  });

  it('refuses inconsistent combinations', () => {
    assert.match(problem({ client_id: 'x', token_endpoint_auth_method: 'none', grant_types: ['client_credentials'] }), /public client/);
    assert.match(
      problem({ client_id: 'x', client_secret: SECRET, token_endpoint_auth_method: 'none', redirect_uris: ['https://a.example/cb'] }),
      /must not have a client_secret/,
    );
    assert.match(problem({ client_id: 'x', client_secret: SECRET }), /at least one redirect_uri/);
  });

  it('refuses unknown fields by name (a typo is a misconfiguration)', () => {
    assert.match(problem({ ...web, redirect_uri: 'https://a.example/cb' }), /unknown field\(s\) "redirect_uri"/);
  });

  it('refuses bad scopes and audiences', () => {
    assert.match(problem({ ...web, scope: 'a  b' }), /scope/);
    assert.match(problem({ ...web, audiences: ['https://api.example.com#x'] }), /fragment/);
  });
});
