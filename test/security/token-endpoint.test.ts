import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';
import { API, OTHER_API, SECRET, clientKeyPair, standardBootstrap, type ClientKeys } from '../helpers/fixtures.js';
import { capturingLogger, postForm, startServer, type JsonBody, type TestServer } from '../helpers/server.js';
import { CLIENT_AUTHENTICATION_FAILED } from '../../src/oauth/errors.js';
import { basicAuth } from '../support/basic-auth.js';

/** Claims over an assertion's defaults; a claim set to undefined is left out of the token. */
type ClaimOverrides = { [K in keyof JWTPayload]?: JWTPayload[K] | undefined };

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('token endpoint refuses bad input with precise RFC errors', () => {
  let server: TestServer;
  let jwtKey: ClientKeys;
  let token: string;
  const log = capturingLogger();

  before(async () => {
    jwtKey = await clientKeyPair('ES256');
    const bootstrap = standardBootstrap(jwtKey.publicJwk);
    bootstrap.clients.push({
      client_id: 'svc-limited',
      client_secret: SECRET,
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'api:read',
      audiences: [API],
    });
    server = await startServer({ bootstrap, env: { AUTH_FAILURE_LIMIT: '30' }, logger: log.logger });
    token = `${server.url}/token`;
  });
  after(() => server.close());

  const cc = (
    extra: Record<string, string | string[]> = {},
    headers: Record<string, string> = { authorization: basicAuth('svc-basic', SECRET) },
  ) => postForm(token, { grant_type: 'client_credentials', ...extra }, headers);

  const assertion = async (
    claims: ClaimOverrides,
    opts: { alg?: string; header?: Record<string, unknown>; key?: Parameters<SignJWT['sign']>[0] } = {},
  ) => {
    const now = Math.floor(Date.now() / 1000);
    // JSON leaves out the claims set to undefined.
    const payload: Record<string, unknown> = {
      iss: 'svc-jwt',
      sub: 'svc-jwt',
      aud: server.issuer,
      jti: crypto.randomUUID(),
      iat: now,
      exp: now + 60,
      ...claims,
    };
    return new SignJWT(payload)
      .setProtectedHeader({ alg: opts.alg ?? 'ES256', kid: 'client-key-1', ...opts.header })
      .sign(opts.key ?? jwtKey.privateKey);
  };
  const jwtAuth = (a: string, extra: Record<string, string> = {}) =>
    postForm(token, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: a, ...extra });

  const expectError = (res: { status: number; body: JsonBody; headers: Headers }, status: number, error: string, description?: RegExp) => {
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.equal(res.body.error, error);
    assert.equal(typeof res.body.error_description, 'string');
    assert.ok(res.body.error_description.length > 10);
    if (res.status === 401 && error === 'invalid_client' && res.body.error_description === CLIENT_AUTHENTICATION_FAILED) {
      // One wording for every failure once the client_id is looked up; which check refused is
      // the logged detail of this request.
      if (description) assert.match(log.detail(res.headers.get('x-request-id')) ?? '(no detail logged)', description);
    } else if (description) assert.match(res.body.error_description, description);
    assert.equal(res.headers.get('cache-control'), 'no-store');
  };

  it('token responses carry Cache-Control: no-store', async () => {
    const res = await cc({ resource: API });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('pragma'), 'no-cache');
  });

  it('wrong secret: 401 invalid_client with a Basic challenge', async () => {
    const res = await cc({}, { authorization: basicAuth('svc-basic', 'wrong-secret-wrong-secret-wrong-secret') });
    expectError(res, 401, 'invalid_client', /secret is wrong/);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Basic /);
  });

  it('unknown client: 401 invalid_client', async () => {
    expectError(await cc({}, { authorization: basicAuth('nobody', SECRET) }), 401, 'invalid_client', /no client is registered/);
    const post = await postForm(token, { grant_type: 'client_credentials', client_id: 'nobody', client_secret: SECRET });
    expectError(post, 401, 'invalid_client');
    assert.equal(post.headers.get('www-authenticate'), null, 'no Basic challenge when Basic was not tried');
  });

  it('Basic credentials are form-urlencoded (RFC 6749 §2.3.1)', async () => {
    const raw = `Basic ${Buffer.from(`svc-basic:${SECRET}`).toString('base64')}`;
    assert.equal((await cc({ resource: API }, { authorization: raw })).status, 200);
    const bad = `Basic ${Buffer.from('svc-basic:%zz').toString('base64')}`;
    expectError(await cc({}, { authorization: bad }), 401, 'invalid_client', /form-urlencoded/);
    expectError(await cc({}, { authorization: 'Basic !!!' }), 401, 'invalid_client');
    expectError(await cc({}, { authorization: 'Bearer abc' }), 401, 'invalid_client', /Basic scheme/);
  });

  it('two authentication methods in one request: invalid_request', async () => {
    const res = await cc({ client_id: 'svc-basic', client_secret: SECRET });
    expectError(res, 400, 'invalid_request', /more than one client authentication method/);
  });

  it('a client must use the method it registered', async () => {
    const res = await postForm(token, { grant_type: 'client_credentials', client_id: 'svc-basic', client_secret: SECRET });
    expectError(res, 401, 'invalid_client', /registered for client_secret_basic/);
  });

  it('no authentication at all: invalid_client', async () => {
    expectError(await postForm(token, { grant_type: 'client_credentials' }), 401, 'invalid_client');
  });

  it('a public client cannot use client_credentials: unauthorized_client', async () => {
    const res = await postForm(token, { grant_type: 'client_credentials', client_id: 'public-app' });
    expectError(res, 400, 'unauthorized_client', /not allowed the client_credentials grant/);
  });

  it('private_key_jwt: expired assertion', async () => {
    const now = Math.floor(Date.now() / 1000);
    expectError(await jwtAuth(await assertion({ exp: now - 120, iat: now - 180 })), 401, 'invalid_client', /"exp" is in the past/);
  });

  it('private_key_jwt: replayed jti is refused, also when sent twice at once', async () => {
    const a = await assertion({});
    assert.equal((await jwtAuth(a)).status, 200);
    expectError(await jwtAuth(a), 401, 'invalid_client', /used before/);
    const b = await assertion({});
    const results = await Promise.all([jwtAuth(b), jwtAuth(b), jwtAuth(b), jwtAuth(b)]);
    assert.equal(results.filter((r) => r.status === 200).length, 1, 'exactly one concurrent use wins');
  });

  it('private_key_jwt: alg none is refused', async () => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${enc({ alg: 'none' })}.${enc({ iss: 'svc-jwt', sub: 'svc-jwt', aud: server.issuer, jti: 'n1', exp: now + 60 })}.`;
    expectError(await jwtAuth(unsigned), 401, 'invalid_client', /alg "none" is not allowed/);
  });

  it('private_key_jwt: HS256 keyed with the public key is refused', async () => {
    const pubBytes = new TextEncoder().encode(JSON.stringify(jwtKey.publicJwk));
    const forged = await assertion({}, { alg: 'HS256', key: pubBytes });
    expectError(await jwtAuth(forged), 401, 'invalid_client', /alg "HS256" is not allowed/);
  });

  it('private_key_jwt: an embedded jwk header is never trusted', async () => {
    const attacker = await generateKeyPair('ES256');
    const forged = await assertion({}, { key: attacker.privateKey, header: { jwk: await exportJWK(attacker.publicKey) } });
    expectError(await jwtAuth(forged), 401, 'invalid_client', /"jwk" header is not accepted/);
    const noHeader = await assertion({}, { key: attacker.privateKey });
    expectError(await jwtAuth(noHeader), 401, 'invalid_client', /signature does not verify/);
  });

  it('private_key_jwt: unknown kid', async () => {
    expectError(await jwtAuth(await assertion({}, { header: { kid: 'nope' } })), 401, 'invalid_client', /no registered key matches/);
  });

  it('private_key_jwt: wrong aud, or an array with a foreign audience', async () => {
    expectError(await jwtAuth(await assertion({ aud: 'https://evil.example' })), 401, 'invalid_client', /"aud" must be/);
    expectError(await jwtAuth(await assertion({ aud: [server.issuer, 'https://evil.example'] })), 401, 'invalid_client', /"aud" must be/);
    assert.equal((await jwtAuth(await assertion({ aud: `${server.issuer}/token` }))).status, 200, 'the token endpoint URL is accepted');
  });

  it('private_key_jwt: aud is the issuer or the token endpoint URL as one string, never another endpoint or an array (rfc7523bis)', async () => {
    const refused = [
      `${server.issuer}/introspect`,
      `${server.issuer}/revoke`,
      [server.issuer],
      [`${server.issuer}/token`],
      [server.issuer, `${server.issuer}/token`],
      `${server.issuer}/`,
    ];
    for (const aud of refused) {
      const res = await jwtAuth(await assertion({ aud }));
      expectError(
        res,
        401,
        'invalid_client',
        /"aud" must be this server's issuer \(.*\) or its token endpoint URL \(.*\), as a single string/,
      );
      if (Array.isArray(aud)) assert.match(log.detail(res.headers.get('x-request-id')) ?? '', /not an array/);
    }
    // The other endpoints that authenticate clients take the same assertions, and refuse their own URL.
    for (const endpoint of ['introspect', 'revoke']) {
      const res = await postForm(`${server.url}/${endpoint}`, {
        token: 'x',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await assertion({ aud: `${server.issuer}/${endpoint}` }),
      });
      expectError(res, 401, 'invalid_client', /"aud" must be/);
    }
    const atIntrospection = await postForm(`${server.url}/introspect`, {
      token: 'x',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await assertion({ aud: server.issuer }),
    });
    assert.equal(atIntrospection.status, 200, JSON.stringify(atIntrospection.body));
    assert.equal((await jwtAuth(await assertion({ aud: server.issuer }))).status, 200, 'the issuer is accepted');
  });

  it('private_key_jwt: exp too far ahead, nbf in the future, missing jti, iss ≠ sub', async () => {
    const now = Math.floor(Date.now() / 1000);
    expectError(await jwtAuth(await assertion({ exp: now + 3600 })), 401, 'invalid_client', /too far|seconds ahead/);
    expectError(await jwtAuth(await assertion({ nbf: now + 600 })), 401, 'invalid_client', /"nbf"/);
    expectError(await jwtAuth(await assertion({ jti: undefined })), 401, 'invalid_client', /"jti"/);
    expectError(await jwtAuth(await assertion({ iss: 'someone-else' })), 401, 'invalid_client', /"iss" must equal the client_id/);
  });

  it('private_key_jwt: wrong assertion type, and garbage', async () => {
    const res = await postForm(token, {
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:x',
      client_assertion: await assertion({}),
    });
    expectError(res, 400, 'invalid_request', /client_assertion_type must be/);
    expectError(await jwtAuth('garbage'), 401, 'invalid_client', /not a JWT/);
  });

  it('unknown scope: invalid_scope', async () => {
    expectError(await cc({ scope: 'api:admin' }), 400, 'invalid_scope', /scope \(the value sent\) is not registered/);
    expectError(await cc({ scope: 'api:read other:read', resource: API }), 400, 'invalid_scope', /not defined by resource/);
    expectError(await cc({ scope: 'bad"scope' }), 400, 'invalid_scope');
  });

  it('disallowed resource: invalid_target', async () => {
    expectError(await cc({ resource: 'https://evil.example.com' }), 400, 'invalid_target', /may not obtain tokens for resource/);
    expectError(await cc({ resource: 'not a uri' }), 400, 'invalid_target', /absolute URI/);
    expectError(await cc({ resource: `${API}#frag` }), 400, 'invalid_target', /fragment/);
    expectError(await cc({}), 400, 'invalid_target', /several resources/);
  });

  it('several resources: an access token for both', async () => {
    const res = await cc({ resource: [API, OTHER_API], scope: 'api:read other:read' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const payload = JSON.parse(Buffer.from(res.body.access_token.split('.')[1], 'base64url').toString());
    assert.deepEqual(payload.aud, [API, OTHER_API]);
  });

  it('password grant and unknown grant types: unsupported_grant_type naming what to use', async () => {
    expectError(
      await postForm(token, { grant_type: 'password', username: 'a', password: 'b' }),
      400,
      'unsupported_grant_type',
      /authorization_code grant with PKCE/,
    );
    expectError(
      await cc({ grant_type: 'urn:example:magic' }),
      400,
      'unsupported_grant_type',
      /supported grant types: .*client_credentials/,
    );
    expectError(await postForm(token, { grant_type: 'implicit' }), 400, 'unsupported_grant_type', /PKCE/);
    expectError(await postForm(token, {}), 400, 'invalid_request', /'grant_type' parameter is required/);
  });

  it('repeated parameters are refused', async () => {
    expectError(await cc({ scope: ['api:read', 'api:write'] }), 400, 'invalid_request', /'scope' parameter is repeated/);
    expectError(
      await postForm(token, 'grant_type=client_credentials&grant_type=client_credentials', {
        authorization: basicAuth('svc-basic', SECRET),
      }),
      400,
      'invalid_request',
      /repeated/,
    );
  });

  it('malformed bodies: JSON, no content type, garbage, invalid UTF-8, NUL bytes', async () => {
    const json = await fetch(token, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth('svc-basic', SECRET) },
      body: '{"grant_type":"client_credentials"}',
    });
    assert.equal(json.status, 415);
    assert.equal(((await json.json()) as JsonBody).error, 'invalid_request');
    const none = await fetch(token, { method: 'POST' });
    assert.equal(none.status, 400);
    assert.equal(((await none.json()) as JsonBody).error, 'invalid_request');
    const odd = await fetch(token, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    assert.equal(odd.status, 415);
    for (const body of ['%%%&&&===', 'grant_type=%FF%FE', 'grant_type=client\u0000credentials', '&&&']) {
      const res = await postForm(token, body, { authorization: basicAuth('svc-basic', SECRET) });
      assert.ok(res.status >= 400 && res.status < 500, `${body} → ${res.status}`);
      assert.equal(typeof res.body.error, 'string');
    }
    const badJson = await fetch(`${server.url}/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{bad',
    });
    assert.equal(badJson.status, 400);
    assert.equal(((await badJson.json()) as JsonBody).error, 'invalid_request');
  });

  it('oversized bodies: 413 invalid_request', async () => {
    const res = await postForm(
      token,
      { grant_type: 'client_credentials', scope: 'a'.repeat(200_000) },
      { authorization: basicAuth('svc-basic', SECRET) },
    );
    expectError(res, 413, 'invalid_request', /larger than/);
    const many = Array.from({ length: 500 }, (_, i) => `p${i}=1`).join('&');
    expectError(await postForm(token, many), 413, 'invalid_request', /more than 200 parameters/);
  });

  it('wrong method and unknown paths answer JSON, not HTML', async () => {
    const get = await fetch(token);
    assert.equal(get.status, 405);
    assert.match(get.headers.get('allow') ?? '', /\bPOST\b/);
    assert.equal(((await get.json()) as JsonBody).error, 'invalid_request');
    const missing = await fetch(`${server.url}/nope`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as JsonBody).error, 'invalid_request');
  });

  it('introspection requires an authenticated client and a token', async () => {
    expectError(
      await postForm(`${server.url}/introspect`, { token: 'x', client_id: 'public-app' }),
      401,
      'invalid_client',
      /requires client authentication/,
    );
    expectError(await postForm(`${server.url}/introspect`, { token: 'x' }), 401, 'invalid_client');
    expectError(
      await postForm(`${server.url}/introspect`, {}, { authorization: basicAuth('svc-basic', SECRET) }),
      400,
      'invalid_request',
      /'token' parameter is required/,
    );
  });

  it('failed authentications are rate-limited per client and IP', async () => {
    const wrong = { authorization: basicAuth('svc-limited', 'wrong-secret-wrong-secret-wrong-secret') };
    for (let i = 0; i < 30; i++) assert.equal((await cc({}, wrong)).status, 401);
    const limited = await cc({}, wrong);
    expectError(limited, 429, 'invalid_client', /too many failed authentication attempts/);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    // Even the right secret is refused while blocked, so guessing cannot continue.
    expectError(await cc({}, { authorization: basicAuth('svc-limited', SECRET) }), 429, 'invalid_client');
    // Other clients are unaffected.
    assert.equal((await cc({ resource: API })).status, 200);
  });

  it('API responses carry security headers and a request id', async () => {
    const res = await fetch(`${server.url}/.well-known/openid-configuration`, { headers: { 'x-request-id': 'trace-123' } });
    assert.equal(res.headers.get('x-request-id'), 'trace-123');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  });
});
