import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { rotateSigningKeys } from '../../src/keys/keystore.js';
import { API, OTHER_API, SECRET, clientKeyPair, standardBootstrap, type ClientKeys } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';

const insecure = { execute: [oidc.allowInsecureRequests] };
const METRICS_TOKEN = 'metrics-token-metrics-token-0123456789';

describe('client credentials with openid-client', () => {
  let server: TestServer;
  let jwtKey: ClientKeys;

  before(async () => {
    jwtKey = await clientKeyPair('ES256');
    server = await startServer({ bootstrap: standardBootstrap(jwtKey.publicJwk), env: { METRICS_TOKEN: METRICS_TOKEN } });
  });
  after(() => server.close());

  const verify = (token: string, audience = API) =>
    jwtVerify(token, createRemoteJWKSet(new URL(`${server.url}/jwks`)), { issuer: server.issuer, audience, typ: 'at+jwt' });

  it('discovery describes what is implemented, with every URL under the issuer', async () => {
    const config = await oidc.discovery(new URL(server.issuer), 'svc-basic', undefined, oidc.ClientSecretBasic(SECRET), insecure);
    const md = config.serverMetadata();
    assert.equal(md.issuer, server.issuer);
    assert.equal(md.token_endpoint, `${server.issuer}/token`);
    assert.equal(md.jwks_uri, `${server.issuer}/jwks`);
    assert.ok(md.grant_types_supported?.includes('client_credentials'));
    assert.ok(!md.grant_types_supported?.includes('password'));
    assert.deepEqual(md.code_challenge_methods_supported, ['S256']);
    assert.ok(md.token_endpoint_auth_methods_supported?.includes('private_key_jwt'));
    const rfc8414 = await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json();
    assert.deepEqual(rfc8414, await (await fetch(`${server.url}/.well-known/openid-configuration`)).json());
  });

  it('client_secret_basic: an RFC 9068 access token that verifies against /jwks', async () => {
    const config = await oidc.discovery(new URL(server.issuer), 'svc-basic', undefined, oidc.ClientSecretBasic(SECRET), insecure);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'api:read', resource: API });
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.scope, 'api:read');
    assert.equal(tokens.expires_in, 600);
    const { payload, protectedHeader } = await verify(tokens.access_token);
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.sub, 'svc-basic');
    assert.equal(payload.client_id, 'svc-basic');
    assert.equal(payload.aud, API);
    assert.equal(payload.scope, 'api:read');
    assert.equal(payload.exp! - payload.iat!, 600);
    assert.match(String(payload.jti), /^[\w-]{22,}$/);
  });

  it('client_secret_post, with the default scope and the only audience', async () => {
    const config = await oidc.discovery(new URL(server.issuer), 'svc-post', undefined, oidc.ClientSecretPost(SECRET), insecure);
    const tokens = await oidc.clientCredentialsGrant(config);
    const { payload } = await verify(tokens.access_token);
    assert.equal(payload.scope, 'api:read');
    assert.equal(payload.aud, API);
  });

  it('private_key_jwt', async () => {
    const config = await oidc.discovery(
      new URL(server.issuer),
      'svc-jwt',
      undefined,
      oidc.PrivateKeyJwt({ key: jwtKey.privateKey, kid: 'client-key-1' }),
      insecure,
    );
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'api:read' });
    const { payload } = await verify(tokens.access_token);
    assert.equal(payload.client_id, 'svc-jwt');
  });

  it('a scope picks its resource as the audience; the resource lifetime applies', async () => {
    const config = await oidc.discovery(new URL(server.issuer), 'svc-basic', undefined, oidc.ClientSecretBasic(SECRET), insecure);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'other:read' });
    const { payload } = await verify(tokens.access_token, OTHER_API);
    assert.equal(payload.aud, OTHER_API);
    assert.equal(tokens.expires_in, 600, 'other API has no ttl of its own: ACCESS_TOKEN_TTL default');
  });

  it('introspection reports a live token, and revocation makes it inactive', async () => {
    const config = await oidc.discovery(new URL(server.issuer), 'svc-basic', undefined, oidc.ClientSecretBasic(SECRET), insecure);
    const { access_token } = await oidc.clientCredentialsGrant(config, { scope: 'api:read api:write', resource: API });
    const live = await oidc.tokenIntrospection(config, access_token);
    assert.equal(live.active, true);
    assert.equal(live.client_id, 'svc-basic');
    assert.equal(live.sub, 'svc-basic');
    assert.equal(live.scope, 'api:read api:write');
    assert.equal(live.token_type, 'Bearer');
    await oidc.tokenRevocation(config, access_token);
    const dead = await oidc.tokenIntrospection(config, access_token);
    assert.deepEqual(dead, { active: false });
  });

  it('introspection: garbage, foreign and expired tokens are inactive', async () => {
    const config = await oidc.discovery(new URL(server.issuer), 'svc-basic', undefined, oidc.ClientSecretBasic(SECRET), insecure);
    assert.deepEqual(await oidc.tokenIntrospection(config, 'not-a-token'), { active: false });
    // Signed by a key that is not ours (a client's key), with our issuer and typ.
    const { SignJWT } = await import('jose');
    const foreign = await new SignJWT({ client_id: 'svc-basic', jti: 'x' })
      .setProtectedHeader({ alg: 'ES256', kid: 'client-key-1', typ: 'at+jwt' })
      .setIssuer(server.issuer)
      .setSubject('svc-basic')
      .setAudience(API)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(jwtKey.privateKey);
    assert.deepEqual(await oidc.tokenIntrospection(config, foreign), { active: false });
  });

  it('a token revoked by another client stays active and the attempt is refused', async () => {
    const basicCfg = await oidc.discovery(new URL(server.issuer), 'svc-basic', undefined, oidc.ClientSecretBasic(SECRET), insecure);
    const postCfg = await oidc.discovery(new URL(server.issuer), 'svc-post', undefined, oidc.ClientSecretPost(SECRET), insecure);
    const { access_token } = await oidc.clientCredentialsGrant(basicCfg, { scope: 'api:read', resource: API });
    await assert.rejects(
      oidc.tokenRevocation(postCfg, access_token),
      (err: unknown) => err instanceof oidc.ResponseBodyError && err.error === 'invalid_request',
    );
    assert.equal((await oidc.tokenIntrospection(basicCfg, access_token)).active, true);
  });

  it('key rotation: the new key is published before it signs; old tokens keep verifying', async () => {
    const config = await oidc.discovery(new URL(server.issuer), 'svc-basic', undefined, oidc.ClientSecretBasic(SECRET), insecure);
    const before = (await oidc.clientCredentialsGrant(config, { resource: API })).access_token;
    const oldKid = decodeProtectedHeader(before).kid;
    const { ctx } = server;
    const [es] = await rotateSigningKeys(ctx.repos.keys, ctx.secrets.keyEncryptionKey, ctx.clock, {
      delaySeconds: 3600,
      maxTokenLifetime: 600,
      algs: ['ES256'],
    });
    await ctx.keystore.reload();
    const jwks = (await (await fetch(`${server.url}/jwks`)).json()) as { keys: { kid: string }[] };
    assert.ok(
      jwks.keys.some((k) => k.kid === es!.kid),
      'pending key is published at once',
    );
    const during = (await oidc.clientCredentialsGrant(config, { resource: API })).access_token;
    assert.equal(decodeProtectedHeader(during).kid, oldKid, 'pending key does not sign yet');

    await rotateSigningKeys(ctx.repos.keys, ctx.secrets.keyEncryptionKey, ctx.clock, {
      delaySeconds: 0,
      maxTokenLifetime: 600,
      algs: ['ES256'],
    });
    await ctx.keystore.reload();
    const after = (await oidc.clientCredentialsGrant(config, { resource: API })).access_token;
    assert.notEqual(decodeProtectedHeader(after).kid, oldKid);
    await verify(before); // the retired key is still published
    assert.equal((await oidc.tokenIntrospection(config, before)).active, true);
  });

  it('/jwks publishes public keys only, each with kid, alg and use, and cache headers', async () => {
    const res = await fetch(`${server.url}/jwks`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('cache-control') ?? '', /max-age=\d+/);
    assert.ok(res.headers.get('etag'));
    const { keys } = (await res.json()) as { keys: Record<string, string>[] };
    assert.ok(keys.some((k) => k.alg === 'RS256') && keys.some((k) => k.alg === 'ES256'));
    for (const k of keys) {
      assert.ok(k.kid && k.alg && k.use === 'sig');
      for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(k[priv], undefined);
    }
    const rsa = keys.find((k) => k.kty === 'RSA')!;
    assert.ok(Buffer.from(rsa.n!, 'base64url').length >= 256, 'RSA key is at least 2048 bits');
    const again = await fetch(`${server.url}/jwks`, { headers: { 'if-none-match': res.headers.get('etag')! } });
    assert.equal(again.status, 304);
  });

  it('CORS for browser apps on /token, /userinfo, /revoke, /jwks and discovery; never on pages', async () => {
    const pre = await fetch(`${server.url}/token`, {
      method: 'OPTIONS',
      headers: { origin: 'https://spa.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /authorization/);
    const jwks = await fetch(`${server.url}/jwks`, { headers: { origin: 'https://spa.example' } });
    assert.equal(jwks.headers.get('access-control-allow-origin'), '*');
    const page = await fetch(`${server.url}/authorize`, { headers: { origin: 'https://spa.example' } });
    assert.equal(page.headers.get('access-control-allow-origin'), null);
  });

  it('health, readiness and metrics', async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', checks: { database: 'ok', keys: 'ok' } });
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    assert.match(metrics, /latchkey_tokens_issued_total\{grant_type="client_credentials"\} \d+/);
    assert.match(metrics, /latchkey_http_request_duration_seconds_bucket\{le="[\d.]+",route="\/token"\}/);
    assert.match(metrics, /latchkey_http_requests_total\{route="\/token",method="POST",status="200"\}/);
  });
});
