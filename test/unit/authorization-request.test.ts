import type { FormParams } from '../../src/domain/form.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AuthorizationPageError,
  AuthorizationRedirectError,
  checkClientAndRedirect,
  validateAuthorizationRequest,
} from '../../src/interaction/authorization-request.js';
import type { Resource } from '../../src/oauth/client-metadata.js';
import type { OAuthErrorCode } from '../../src/oauth/errors.js';
import type { PkceRequirement } from '../../src/oauth/pkce-policy.js';
import { clientRecord } from '../helpers/clients.js';

const CB = 'https://app.example.com/cb';
const API = 'https://api.example.com';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'; // RFC 7636 Appendix B
const resources = new Map<string, Resource>([[API, { identifier: API, scopes: ['api:read'] }]]);
const web = clientRecord({
  client_id: 'web',
  client_name: 'Web App',
  client_secret: 'at-least-32-characters-of-secret-value',
  redirect_uris: [CB],
  response_types: ['code', 'code id_token'],
  scope: 'openid profile api:read',
  audiences: [API],
});
const spa = clientRecord({ client_id: 'spa', token_endpoint_auth_method: 'none', redirect_uris: [CB], scope: 'openid' });
const service = clientRecord({ client_id: 'svc', grant_types: ['client_credentials'], scope: 'api:read', audiences: [API] });

const base: FormParams = {
  client_id: 'web',
  redirect_uri: CB,
  response_type: 'code',
  scope: 'openid',
  state: 'xyz',
  code_challenge: CHALLENGE,
  code_challenge_method: 'S256',
};
const validate = (extra: FormParams, client = web, pkce: PkceRequirement = 'always') =>
  validateAuthorizationRequest({ ...base, ...extra }, client, CB, resources, pkce);
const NO_PKCE: FormParams = { code_challenge: undefined, code_challenge_method: undefined };

/** The redirected error a request gets: code, description, and where it would go. */
function redirected(extra: FormParams, code: OAuthErrorCode, client = web, pkce: PkceRequirement = 'always'): AuthorizationRedirectError {
  try {
    validate(extra, client, pkce);
  } catch (err) {
    assert.ok(err instanceof AuthorizationRedirectError, `expected a redirected error, got ${String(err)}`);
    assert.equal(err.code, code, err.description);
    return err;
  }
  assert.fail(`expected ${code} for ${JSON.stringify(extra)}`);
}

function page(params: FormParams, client = web): AuthorizationPageError {
  try {
    checkClientAndRedirect(params, client);
  } catch (err) {
    assert.ok(err instanceof AuthorizationPageError, `expected an error page, got ${String(err)}`);
    assert.equal(err.status, 400);
    return err;
  }
  assert.fail(`expected an error page for ${JSON.stringify(params)}`);
}

describe('checkClientAndRedirect: errors that must never be redirected (RFC 6749 §4.1.2.1)', () => {
  it('returns the client and the redirect URI it asked for when both are good', () => {
    const { client, redirectUri } = checkClientAndRedirect(base, web);
    assert.equal(client, web);
    assert.equal(redirectUri, CB);
  });

  it('no client_id, a repeated one, or an unknown client: an error page', () => {
    assert.equal(page({ redirect_uri: CB }).title, 'Invalid request');
    assert.match(page({ client_id: ['web', 'web'], redirect_uri: CB }).message, /client_id parameter is repeated/);
    assert.throws(
      () => checkClientAndRedirect({ client_id: 'ghost', redirect_uri: CB }, undefined),
      (err) => err instanceof AuthorizationPageError && err.title === 'Unknown application',
    );
  });

  it('no redirect_uri, a repeated one, or one not registered exactly: an error page, never a redirect (RFC 9700 §4.1.3)', () => {
    assert.match(page({ client_id: 'web' }).message, /no redirect_uri/);
    assert.match(page({ client_id: 'web', redirect_uri: [CB, CB] }).message, /redirect_uri parameter is repeated/);
    const err = page({ client_id: 'web', redirect_uri: `${CB}/` });
    assert.equal(err.title, 'Invalid redirect URI');
    assert.match(err.message, /not registered for Web App/);
    assert.ok(!err.message.includes(`${CB}/`), 'the unregistered URI is not echoed');
  });
});

describe('validateAuthorizationRequest (RFC 6749 §4.1.1, OIDC Core §3.1.2.1)', () => {
  it('a good request: scopes, audiences, PKCE challenge, state, nonce, prompt and max_age as given', () => {
    const req = validate({
      scope: 'openid api:read',
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
      nonce: 'n-0S6',
      prompt: 'login consent',
      max_age: '0',
      login_hint: 'alice',
      ui_locales: '',
    });
    assert.deepEqual(req, {
      clientId: 'web',
      redirectUri: CB,
      responseType: 'code',
      responseMode: 'query',
      scopes: ['openid', 'api:read'],
      resources: [API],
      prompt: ['login', 'consent'],
      state: 'xyz',
      nonce: 'n-0S6',
      codeChallenge: CHALLENGE,
      maxAge: 0,
      loginHint: 'alice',
    });
  });

  it('errors go back to the now-trusted redirect URI with state, in the response mode asked for', () => {
    const err = redirected({ response_type: 'token' }, 'unsupported_response_type');
    assert.deepEqual(err.target, { redirectUri: CB, responseMode: 'query', state: 'xyz' });
    assert.equal(redirected({ response_mode: 'form_post', prompt: 'bogus' }, 'invalid_request').target.responseMode, 'form_post');
    // Until the response type is known good, a hybrid request's errors use its default, the fragment.
    assert.equal(
      redirected({ response_type: 'code id_token', scope: 'profile', nonce: 'n' }, 'invalid_scope').target.responseMode,
      'fragment',
    );
  });

  it('refuses response types that issue tokens from the authorization endpoint (RFC 9700 §2.1.2) and unknown ones', () => {
    for (const t of ['token', 'id_token token', 'code token', 'code id_token token'])
      assert.match(redirected({ response_type: t }, 'unsupported_response_type').description, /RFC 9700 §2\.1\.2/, t);
    redirected({ response_type: 'id_token' }, 'unsupported_response_type');
    redirected({ response_type: undefined }, 'invalid_request');
  });

  it('hybrid "code id_token": in either order, needs openid, a nonce, and no query response mode', () => {
    assert.equal(validate({ response_type: 'id_token code', nonce: 'n' }).responseType, 'code id_token');
    assert.equal(validate({ response_type: 'code id_token', nonce: 'n' }).responseMode, 'fragment');
    assert.match(redirected({ response_type: 'code id_token' }, 'invalid_request').description, /requires a nonce/);
    redirected({ response_type: 'code id_token', nonce: 'n', response_mode: 'query' }, 'invalid_request');
    redirected({ response_type: 'code id_token', nonce: 'n' }, 'unauthorized_client', spa);
  });

  it('a client not registered for the code grant is unauthorized_client', () => {
    const err = redirected({ client_id: 'svc' }, 'unauthorized_client', service);
    assert.match(err.description, /response_type "code"|authorization_code/);
  });

  it('PKCE: S256 only (plain refused, RFC 9700 §2.1.1), a 43-character challenge, required of public clients', () => {
    assert.match(
      redirected({ code_challenge: CHALLENGE, code_challenge_method: 'plain' }, 'invalid_request').description,
      /plain is refused/,
    );
    redirected({ code_challenge_method: undefined }, 'invalid_request');
    redirected({ code_challenge: undefined }, 'invalid_request');
    redirected({ code_challenge: CHALLENGE.slice(1), code_challenge_method: 'S256' }, 'invalid_request');
    redirected({ code_challenge: `${CHALLENGE.slice(1)}+`, code_challenge_method: 'S256' }, 'invalid_request');
    assert.match(redirected({ client_id: 'spa', ...NO_PKCE }, 'invalid_request', spa).description, /public clients must use PKCE/);
    assert.equal(validate({ client_id: 'spa', code_challenge: CHALLENGE, code_challenge_method: 'S256' }, spa).codeChallenge, CHALLENGE);
  });

  it('PKCE_REQUIRED=always (the default): a confidential client must send a challenge too, nonce or not (OAuth 2.1 §4.1.1)', () => {
    assert.match(redirected(NO_PKCE, 'invalid_request').description, /PKCE is required/);
    assert.match(redirected({ ...NO_PKCE, nonce: 'n-0S6' }, 'invalid_request').description, /PKCE is required/);
    assert.throws(
      () => validateAuthorizationRequest({ ...base, ...NO_PKCE, nonce: 'n' }, web, CB, resources),
      /PKCE is required/,
      'always is the default',
    );
  });

  it('PKCE_REQUIRED=except-oidc-nonce: only an OpenID request with a nonce from a confidential client may omit it (OAuth 2.1 §7.5.1)', () => {
    const relaxed = 'except-oidc-nonce';
    assert.equal(validate({ ...NO_PKCE, nonce: 'n-0S6' }, web, relaxed).codeChallenge, undefined);
    assert.match(redirected(NO_PKCE, 'invalid_request', web, relaxed).description, /PKCE is required/, 'no nonce');
    assert.match(
      redirected({ ...NO_PKCE, nonce: 'n', scope: 'api:read' }, 'invalid_request', web, relaxed).description,
      /PKCE is required/,
      'not OpenID',
    );
    assert.match(
      redirected({ client_id: 'spa', ...NO_PKCE, nonce: 'n' }, 'invalid_request', spa, relaxed).description,
      /public clients must use PKCE/,
    );
    // A challenge that is sent is still checked, and plain stays refused.
    redirected({ code_challenge_method: 'plain', nonce: 'n' }, 'invalid_request', web, relaxed);
  });

  it('scopes: unregistered is invalid_scope; a resource the client may not use is invalid_target', () => {
    redirected({ scope: 'openid email' }, 'invalid_scope');
    redirected({ scope: 'openid  profile' }, 'invalid_scope');
    redirected({ scope: 'openid', resource: 'https://elsewhere.example.com' }, 'invalid_target');
    assert.deepEqual(validate({ scope: 'api:read', resource: [API, API] }).resources, [API]);
  });

  it('any repeated parameter but resource is invalid_request (RFC 6749 §3.1)', () => {
    assert.match(redirected({ scope: ['openid', 'openid'] }, 'invalid_request').description, /"scope" parameter is repeated/);
    redirected({ nonce: ['a', 'b'] }, 'invalid_request');
  });

  it('bounds the lengths of state, nonce and the hints', () => {
    redirected({ state: 'x'.repeat(2049) }, 'invalid_request');
    assert.equal(validate({ state: 'x'.repeat(2048) }).state, 'x'.repeat(2048));
    redirected({ nonce: 'x'.repeat(513) }, 'invalid_request');
    redirected({ login_hint: 'x'.repeat(257) }, 'invalid_request');
  });

  it('request and request_uri left in the parameters (nested in a request object or a pushed request) are refused', () => {
    redirected({ request: 'eyJ...' }, 'invalid_request');
    redirected({ request_uri: 'https://app.example.com/req' }, 'invalid_request');
  });

  it('require_pushed_authorization_requests and REQUIRE_PAR refuse a request that did not come through /par (RFC 9126 §6)', () => {
    const requiring = clientRecord({
      client_id: 'web',
      client_secret: 'at-least-32-characters-of-secret-value',
      redirect_uris: [CB],
      scope: 'openid',
      require_pushed_authorization_requests: true,
    });
    assert.match(redirected({}, 'invalid_request', requiring).description, /must push its authorization requests/);
    const par = (client: typeof web, origin: { pushed: boolean; signed: boolean; requirePar: boolean }) =>
      validateAuthorizationRequest(base, client, CB, resources, 'always', origin);
    assert.throws(
      () => par(web, { pushed: false, signed: false, requirePar: true }),
      (e: AuthorizationRedirectError) => e.code === 'invalid_request' && /only pushed authorization requests/.test(e.description),
    );
    assert.equal(par(requiring, { pushed: true, signed: false, requirePar: true }).clientId, 'web');
  });

  it('require_signed_request_object refuses a request that was not a signed request object (RFC 9101 §10.5)', () => {
    const signedOnly = clientRecord({
      client_id: 'web',
      client_secret: 'at-least-32-characters-of-secret-value',
      redirect_uris: [CB],
      scope: 'openid',
      require_signed_request_object: true,
      jwks: {
        keys: [
          { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' },
        ],
      },
    });
    assert.match(redirected({}, 'invalid_request', signedOnly).description, /signed request object/);
    assert.equal(
      validateAuthorizationRequest(base, signedOnly, CB, resources, 'always', { pushed: false, signed: true, requirePar: false }).clientId,
      'web',
    );
  });

  it('prompt: known values only; none stands alone (OIDC Core §3.1.2.1)', () => {
    redirected({ prompt: 'none login' }, 'invalid_request');
    redirected({ prompt: 'create' }, 'invalid_request');
    assert.deepEqual(validate({ prompt: 'none' }).prompt, ['none']);
    assert.deepEqual(validate({ prompt: 'select_account' }).prompt, ['select_account']);
  });

  it('max_age is a non-negative whole number of seconds; display one of page, popup, touch, wap', () => {
    for (const bad of ['-1', '1.5', 'soon', '', '1e3', '9999999999']) redirected({ max_age: bad }, 'invalid_request');
    assert.equal(validate({ max_age: '3600' }).maxAge, 3600);
    redirected({ display: 'fullscreen' }, 'invalid_request');
    validate({ display: 'popup' });
  });

  it('an unsupported response_mode is invalid_request', () => {
    assert.match(redirected({ response_mode: 'web_message' }, 'invalid_request').description, /response_mode "web_message"/);
  });
});
