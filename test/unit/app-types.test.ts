import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  APP_TYPE_IDS,
  APP_TYPES,
  answerIssues,
  appTypesFor,
  clientMetadataFor,
  getsSecret,
  type AppAnswers,
  type AppType,
} from '../../src/admin/console/app-types.js';
import { appConfiguration } from '../../src/admin/console/app-snippets.js';
import { clientMetadataSchema, describeIssues } from '../../src/oauth/client-metadata.js';
import { clientKeyPair } from '../helpers/fixtures.js';

const SECRET = 'at-least-32-characters-of-secret-value';

/** Answers filling exactly the fields a type asks for. */
function answersFor(t: AppType, extra: Partial<AppAnswers> = {}): AppAnswers {
  return {
    name: 'Billing Portal',
    clientId: `billing-${t.id}`,
    ...(t.fields.includes('redirect_uris')
      ? { redirectUris: [t.id === 'native' ? 'http://127.0.0.1/callback' : 'https://app.example.com/cb'] }
      : {}),
    ...(t.fields.includes('audiences') ? { audiences: ['https://api.example.com'] } : {}),
    ...extra,
  };
}

describe('application creation helper (app types)', () => {
  it('splits the kinds of app by "does a person sign in?"', () => {
    assert.deepEqual(
      appTypesFor(true).map((t) => t.id),
      ['web', 'spa', 'spa-bff', 'native', 'device'],
    );
    assert.deepEqual(
      appTypesFor(false).map((t) => t.id),
      ['service', 'partner', 'gateway'],
    );
  });

  it('makes valid client metadata for every type, never implicit or password', () => {
    for (const id of APP_TYPE_IDS) {
      const t = APP_TYPES[id];
      const a = answersFor(t);
      assert.deepEqual(answerIssues(t, a), [], id);
      const m = clientMetadataFor(t, a);
      const r = clientMetadataSchema.safeParse({ ...m, ...(getsSecret(m) ? { client_secret: SECRET } : {}) });
      assert.ok(r.success, `${id}: ${r.success ? '' : describeIssues(r.error)}`);
      assert.ok(!(r.data.grant_types as string[]).some((g) => g === 'password' || g === 'implicit'), id);
      assert.ok(!r.data.response_types.some((rt) => rt.includes('token')), id);
      assert.ok(t.explanation.length > 40 && !t.explanation.includes('\n'), `${id}: one-sentence explanation`);
      assert.match(t.warning, /implicit|password/, id);
    }
  });

  it('gives browser and installed apps no secret, servers one', () => {
    const method = (id: keyof typeof APP_TYPES) => clientMetadataFor(APP_TYPES[id], answersFor(APP_TYPES[id])).token_endpoint_auth_method;
    assert.equal(method('spa'), 'none');
    assert.equal(method('native'), 'none');
    assert.equal(method('device'), 'none');
    assert.equal(method('web'), 'client_secret_basic');
    assert.equal(method('spa-bff'), 'client_secret_basic');
    assert.equal(method('service'), 'client_secret_basic');
    assert.deepEqual(clientMetadataFor(APP_TYPES.service, answersFor(APP_TYPES.service)).grant_types, ['client_credentials']);
    assert.deepEqual(clientMetadataFor(APP_TYPES.device, answersFor(APP_TYPES.device)).grant_types, [
      'urn:ietf:params:oauth:grant-type:device_code',
      'refresh_token',
    ]);
  });

  it('switches a confidential client to private_key_jwt when its keys are given', async () => {
    const { publicJwk } = await clientKeyPair();
    const t = APP_TYPES.service;
    const m = clientMetadataFor(t, answersFor(t, { jwks: { keys: [publicJwk] } }));
    assert.equal(m.token_endpoint_auth_method, 'private_key_jwt');
    assert.equal(getsSecret(m), false);
    assert.ok(clientMetadataSchema.safeParse(m).success);
  });

  it('asks for what the type needs and refuses what it does not use', () => {
    const web = APP_TYPES.web;
    assert.deepEqual(
      answerIssues(web, { name: 'x', clientId: 'x' }).map((i) => i.field),
      ['redirect_uris'],
    );
    assert.deepEqual(
      answerIssues(APP_TYPES.service, { name: ' ', clientId: 'x', redirectUris: ['https://a.example/cb'] }).map((i) => i.field),
      ['name', 'audiences', 'redirect_uris'],
    );
    assert.deepEqual(
      answerIssues(APP_TYPES.spa, answersFor(APP_TYPES.spa, { jwks: { keys: [] } })).map((i) => i.field),
      ['jwks'],
    );
  });

  it('fills in the default scope and normalises spaces', () => {
    assert.equal(clientMetadataFor(APP_TYPES.web, answersFor(APP_TYPES.web)).scope, 'openid profile email');
    assert.equal(clientMetadataFor(APP_TYPES.web, answersFor(APP_TYPES.web, { scope: '  openid   email ' })).scope, 'openid email');
  });

  it('writes ready-to-paste configuration naming the client, its secret only when it has one', () => {
    const web = appConfiguration(APP_TYPES.web, {
      issuer: 'https://id.example.com',
      clientId: 'billing',
      clientSecret: 'the-secret',
      redirectUris: ['https://app.example.com/cb'],
      scope: 'openid',
      audiences: [],
      usesKeys: false,
    });
    assert.equal(web.discoveryUrl, 'https://id.example.com/.well-known/openid-configuration');
    assert.match(web.env, /^CLIENT_SECRET=the-secret$/m);
    assert.match(web.snippets[0]!.code, /process\.env\.CLIENT_SECRET/);
    const spa = appConfiguration(APP_TYPES.spa, {
      issuer: 'https://id.example.com',
      clientId: 'spa',
      redirectUris: ['https://app.example.com/cb'],
      scope: 'openid',
      audiences: [],
      usesKeys: false,
    });
    assert.doesNotMatch(spa.env, /SECRET/);
    assert.doesNotMatch(spa.snippets.map((s) => s.code).join('\n'), /SECRET/);
    const service = appConfiguration(APP_TYPES.service, {
      issuer: 'https://id.example.com',
      clientId: 'svc',
      clientSecret: 's',
      redirectUris: [],
      scope: 'read',
      audiences: ['https://api.example.com'],
      usesKeys: false,
    });
    assert.match(service.snippets[0]!.code, /grant_type=client_credentials/);
    assert.match(service.snippets[0]!.code, /resource='https:\/\/api\.example\.com'/);
    assert.doesNotMatch(service.snippets[0]!.code, /\\$/);
  });
});
