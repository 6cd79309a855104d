import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { SignJWT, createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, type JWTPayload } from 'jose';
import { API, OTHER_API, SECRET, clientKeyPair, type ClientKeys } from '../helpers/fixtures.js';
import { createAppContext } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/server.js';
import { asSent } from '../helpers/error-description.js';
import { postForm, startServer, type JsonBody, type TestServer } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';
import { freePort } from '../support/ports.js';

/** Claims over an assertion's defaults; a claim set to undefined is left out of the token. */
type ClaimOverrides = { [K in keyof JWTPayload]?: JWTPayload[K] | undefined };

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const PARTNER = 'https://idp.partner.example';
const SINGLE = 'https://single.partner.example';
const REMOTE = 'https://remote.partner.example';
const insecure = { execute: [oidc.allowInsecureRequests] };

type SignKey = Parameters<SignJWT['sign']>[0];

describe('JWT-bearer grant (RFC 7523) with openid-client', () => {
  let server: TestServer;
  let partner: ClientKeys;
  let single: ClientKeys;
  let remote: ClientKeys;
  let clientKey: ClientKeys;
  let jwksServer: Server;
  let aliceId: string;

  before(async () => {
    partner = await clientKeyPair('ES256', 'partner-1');
    single = await clientKeyPair('ES256', 'single-1');
    remote = await clientKeyPair('RS256', 'remote-1');
    clientKey = await clientKeyPair('ES256', 'client-key-1');
    jwksServer = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [remote.publicJwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const jwksPort = (jwksServer.address() as { port: number }).port;

    const bearer = { grant_types: [JWT_BEARER], audiences: [API, OTHER_API] };
    server = await startServer({
      bootstrap: {
        resources: [
          { identifier: API, scopes: ['api:read', 'api:write'], access_token_ttl: 600 },
          { identifier: OTHER_API, scopes: ['other:read'] },
        ],
        clients: [
          { client_id: 'partner-svc', client_secret: SECRET, scope: 'api:read api:write other:read', ...bearer },
          {
            client_id: 'partner-jwt',
            token_endpoint_auth_method: 'private_key_jwt',
            jwks: { keys: [clientKey.publicJwk] },
            scope: 'api:read',
            ...bearer,
          },
          { client_id: 'stranger', client_secret: SECRET, scope: 'api:read', ...bearer },
          { client_id: 'cc-only', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'api:read', audiences: [API] },
        ],
        users: [{ username: 'alice', password: 'correct horse battery staple', claims: { name: 'Alice' } }],
        trusted_issuers: [
          {
            issuer: PARTNER,
            jwks: { keys: [partner.publicJwk] },
            allow_any_subject: true,
            scope: 'api:read other:read',
            client_ids: ['partner-svc', 'partner-jwt', 'cc-only'],
          },
          {
            issuer: SINGLE,
            jwks: { keys: [single.publicJwk] },
            subject: 'alice',
            scope: 'api:read api:write',
            client_ids: ['partner-svc'],
          },
          {
            issuer: REMOTE,
            jwks_uri: `http://127.0.0.1:${jwksPort}/jwks`,
            allow_any_subject: true,
            scope: 'api:read',
            client_ids: ['partner-svc'],
          },
        ],
      },
    });
    aliceId = (await server.ctx.repos.users.findByUsername('alice'))!.id;
  });
  after(async () => {
    await server.close();
    await new Promise((resolve) => jwksServer.close(resolve));
  });

  const config = () => oidc.discovery(new URL(server.issuer), 'partner-svc', undefined, oidc.ClientSecretBasic(SECRET), insecure);

  /** A valid assertion from PARTNER for alice, unless the claims or options say otherwise. */
  const assertion = (claims: ClaimOverrides = {}, opts: { alg?: string; header?: Record<string, unknown>; key?: SignKey } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    // JSON leaves out the claims set to undefined.
    const payload: Record<string, unknown> = {
      iss: PARTNER,
      sub: 'alice',
      aud: server.issuer,
      jti: randomUUID(),
      iat: now,
      exp: now + 120,
      ...claims,
    };
    return new SignJWT(payload)
      .setProtectedHeader({ alg: opts.alg ?? 'ES256', kid: 'partner-1', ...opts.header })
      .sign(opts.key ?? partner.privateKey);
  };

  const grant = (a: string, extra: Record<string, string | string[]> = {}, client = 'partner-svc') =>
    postForm(
      `${server.url}/token`,
      { grant_type: JWT_BEARER, assertion: a, resource: API, ...extra },
      { authorization: basicAuth(client, SECRET) },
    );

  const expectError = (res: { status: number; body: JsonBody; headers: Headers }, error: string, description: RegExp) => {
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error, error);
    assert.match(res.body.error_description, asSent(description));
    assert.equal(res.headers.get('cache-control'), 'no-store');
  };
  const refused = async (a: string | Promise<string>, description: RegExp, extra: Record<string, string> = {}) =>
    expectError(await grant(await a, extra), 'invalid_grant', description);

  const verify = (token: string, audience = API) =>
    jwtVerify(token, createRemoteJWKSet(new URL(`${server.url}/jwks`)), { issuer: server.issuer, audience, typ: 'at+jwt' });

  it('discovery lists the grant (from the dispatch table)', async () => {
    const md = (await config()).serverMetadata();
    assert.ok(md.grant_types_supported?.includes(JWT_BEARER));
    assert.ok(md.grant_types_supported?.includes('urn:ietf:params:oauth:grant-type:token-exchange'));
  });

  it("an assertion for a Latchkey username: an access token whose sub is the user's id, no refresh token", async () => {
    const tokens = await oidc.genericGrantRequest(await config(), JWT_BEARER, {
      assertion: await assertion(),
      scope: 'api:read',
      resource: API,
    });
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.scope, 'api:read');
    assert.equal(tokens.expires_in, 600);
    assert.equal(tokens.refresh_token, undefined);
    assert.equal(tokens.id_token, undefined);
    const { payload, protectedHeader } = await verify(tokens.access_token);
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(payload.sub, aliceId);
    assert.equal(payload.client_id, 'partner-svc');
    assert.equal(payload.aud, API);
    assert.equal(payload.scope, 'api:read');
    const live = await oidc.tokenIntrospection(await config(), tokens.access_token);
    assert.equal(live.active, true);
    assert.equal(live.sub, aliceId);
  });

  it("any other subject is used verbatim; the default scope is requested ∩ issuer's ∩ client's ∩ the resource's", async () => {
    const tokens = await oidc.genericGrantRequest(await config(), JWT_BEARER, {
      assertion: await assertion({ sub: 'partner-user-42' }),
      resource: API,
    });
    const { payload } = await verify(tokens.access_token);
    assert.equal(payload.sub, 'partner-user-42');
    // issuer: api:read other:read; client: api:read api:write other:read; API defines api:read api:write.
    assert.equal(payload.scope, 'api:read');
    assert.equal(tokens.scope, 'api:read');
    const other = await oidc.genericGrantRequest(await config(), JWT_BEARER, { assertion: await assertion(), scope: 'other:read' });
    assert.equal((await verify(other.access_token, OTHER_API)).payload.aud, OTHER_API);
  });

  it('a single-subject issuer, and an issuer whose keys come from its jwks_uri', async () => {
    const a = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'single-1' })
      .setIssuer(SINGLE)
      .setSubject('alice')
      .setAudience(server.issuer)
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(single.privateKey);
    const tokens = await oidc.genericGrantRequest(await config(), JWT_BEARER, { assertion: a, scope: 'api:write', resource: API });
    assert.equal((await verify(tokens.access_token)).payload.scope, 'api:write');

    const r = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'RS256', kid: 'remote-1' })
      .setIssuer(REMOTE)
      .setSubject('svc-account-7')
      .setAudience(server.issuer)
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(remote.privateKey);
    const fromRemote = await oidc.genericGrantRequest(await config(), JWT_BEARER, { assertion: r, resource: API });
    assert.equal((await verify(fromRemote.access_token)).payload.sub, 'svc-account-7');
  });

  it("scope beyond the issuer's or the client's: invalid_scope naming which; resource beyond the client's: invalid_target", async () => {
    expectError(
      await grant(await assertion(), { scope: 'api:write' }),
      'invalid_scope',
      /may not be granted on assertions from issuer "https:\/\/idp\.partner\.example"/,
    );
    expectError(await grant(await assertion(), { scope: 'api:admin' }), 'invalid_scope', /not registered for client "partner-svc"/);
    expectError(
      await grant(await assertion(), { resource: 'https://evil.example' }),
      'invalid_target',
      /may not obtain tokens for resource/,
    );
  });

  it('a refused request does not burn the assertion', async () => {
    const a = await assertion();
    expectError(await grant(a, { scope: 'api:write' }), 'invalid_scope', /may not be granted/);
    assert.equal((await grant(a, { scope: 'api:read' })).status, 200);
  });

  // One adversarial test per rule (docs/security.md items 22–23): every failure is invalid_grant naming the check.

  it('alg none is refused', async () => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${enc({ alg: 'none' })}.${enc({ iss: PARTNER, sub: 'alice', aud: server.issuer, jti: randomUUID(), iat: now, exp: now + 60 })}.`;
    await refused(unsigned, /assertion rejected: alg "none" is not allowed/);
  });

  it("HS256 keyed with the issuer's public key is refused", async () => {
    const pubBytes = new TextEncoder().encode(JSON.stringify(partner.publicJwk));
    await refused(assertion({}, { alg: 'HS256', key: pubBytes }), /alg "HS256" is not allowed/);
  });

  it('an embedded jwk header is never trusted; an unregistered key does not verify', async () => {
    const attacker = await generateKeyPair('ES256');
    await refused(
      assertion({}, { key: attacker.privateKey, header: { jwk: await exportJWK(attacker.publicKey) } }),
      /"jwk" header is not accepted/,
    );
    await refused(
      assertion({}, { key: attacker.privateKey, header: { jku: 'https://evil.example/jwks' } }),
      /"jku" header is not accepted/,
    );
    await refused(assertion({}, { key: attacker.privateKey }), /signature does not verify with the trusted issuer's registered keys/);
  });

  it('an unknown kid is refused', async () => {
    await refused(assertion({}, { header: { kid: 'nope' } }), /no registered key matches its "kid"/);
  });

  it('wrong aud, an array aud, and the token endpoint URL (accepted only for client assertions) are refused', async () => {
    await refused(assertion({ aud: 'https://evil.example' }), /"aud" must be this server's issuer .* as a single string/);
    await refused(assertion({ aud: [server.issuer, 'https://evil.example'] }), /"aud" must be .* single string/);
    await refused(assertion({ aud: [server.issuer] }), /"aud" must be .* single string/);
    await refused(assertion({ aud: `${server.issuer}/token` }), /"aud" must be/);
    await refused(assertion({ aud: undefined }), /the "aud" claim is required/);
  });

  it('an expired assertion is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(assertion({ iat: now - 300, exp: now - 120 }), /"exp" is in the past/);
    await refused(assertion({ exp: undefined }), /the "exp" claim is required/);
  });

  it('exp too far ahead, or a lifetime longer than the maximum, is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(assertion({ exp: now + 3600 }), /"exp" is more than 300 seconds ahead/);
    await refused(assertion({ iat: now - 3500, exp: now + 100 }), /lifetime \("exp" - "iat"\) is more than 300 seconds/);
  });

  it('nbf or iat in the future is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(assertion({ nbf: now + 120 }), /"nbf" is in the future/);
    await refused(assertion({ iat: now + 120, exp: now + 180 }), /"iat" is in the future/);
  });

  it('jti is required, and a replayed jti is refused — of concurrent presentations exactly one wins', async () => {
    await refused(assertion({ jti: undefined }), /the "jti" claim is required/);
    const a = await assertion();
    assert.equal((await grant(a)).status, 200);
    await refused(a, /"jti" has been used before/);
    const b = await assertion();
    const results = await Promise.all(Array.from({ length: 6 }, () => grant(b)));
    assert.equal(results.filter((r) => r.status === 200).length, 1, 'exactly one concurrent use wins');
    for (const r of results.filter((x) => x.status !== 200)) expectError(r, 'invalid_grant', /used before/);
  });

  it(
    'two processes sharing the database: of concurrent presentations exactly one wins',
    { skip: !process.env.DATABASE_URL && "needs PostgreSQL (DATABASE_URL): the embedded database is one process's" },
    async () => {
      // A second server on the same database and issuer, with its own pool and caches: a process of its own in all but pid.
      const port = await freePort();
      const { config } = server.ctx;
      const ctx2 = await createAppContext(
        loadConfig({
          PORT: String(port),
          ISSUER: config.issuer,
          LOG_LEVEL: 'silent',
          DATABASE_URL: config.databaseUrl!,
          LATCHKEY_SECRET: config.secret!,
        }),
      );
      const app2 = await buildServer(ctx2, { logger: false });
      await app2.listen({ port, host: '127.0.0.1' });
      try {
        const a = await assertion();
        const form = { grant_type: JWT_BEARER, assertion: a, resource: API };
        const headers = { authorization: basicAuth('partner-svc', SECRET) };
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) => postForm(i % 2 ? `http://127.0.0.1:${port}/token` : `${server.url}/token`, form, headers)),
        );
        assert.equal(results.filter((r) => r.status === 200).length, 1, JSON.stringify(results.map((r) => r.status)));
      } finally {
        await app2.close();
        await ctx2.db.close();
      }
    },
  );

  it("the jti namespace is distinct from client assertions'", async () => {
    const jti = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const clientAssertion = await new SignJWT({ jti })
      .setProtectedHeader({ alg: 'ES256', kid: 'client-key-1' })
      .setIssuer('partner-jwt')
      .setSubject('partner-jwt')
      .setAudience(server.issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(clientKey.privateKey);
    const res = await postForm(`${server.url}/token`, {
      grant_type: JWT_BEARER,
      assertion: await assertion({ jti }),
      resource: API,
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: clientAssertion,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await verify(res.body.access_token)).payload.client_id, 'partner-jwt');
  });

  it('an untrusted issuer is refused', async () => {
    await refused(assertion({ iss: 'https://unknown.example' }), /issuer "https:\/\/unknown\.example" is not a trusted issuer/);
    await refused(assertion({ iss: undefined }), /"iss" claim is required/);
  });

  it('a subject the issuer may not assert is refused', async () => {
    const a = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'single-1' })
      .setIssuer(SINGLE)
      .setSubject('bob')
      .setAudience(server.issuer)
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(single.privateKey);
    await refused(a, /"sub" "bob" is not a subject issuer "https:\/\/single\.partner\.example" may assert/);
    await refused(assertion({ sub: undefined }), /the "sub" claim is required/);
  });

  it("a client not among the issuer's client_ids may not present its assertions", async () => {
    expectError(
      await grant(await assertion(), {}, 'stranger'),
      'invalid_grant',
      /client "stranger" is not allowed to present JWTs from issuer/,
    );
    // A client without the grant type: unauthorized_client, before the assertion is looked at.
    const cc = await grant(await assertion(), {}, 'cc-only');
    assert.equal(cc.body.error, 'unauthorized_client');
  });

  it('garbage and missing assertions', async () => {
    expectError(await grant('garbage'), 'invalid_grant', /assertion rejected/);
    const res = await postForm(`${server.url}/token`, { grant_type: JWT_BEARER }, { authorization: basicAuth('partner-svc', SECRET) });
    expectError(res, 'invalid_request', /"assertion" parameter is required/);
  });
});

describe('JWT-bearer grant: a jwks_uri on a private address is refused unless JWKS_URI_ALLOW_PRIVATE', () => {
  let server: TestServer;
  let key: ClientKeys;

  before(async () => {
    key = await clientKeyPair('ES256', 'k1');
    server = await startServer({
      env: { JWKS_URI_ALLOW_PRIVATE: 'false' },
      bootstrap: {
        resources: [{ identifier: API, scopes: ['api:read'] }],
        clients: [{ client_id: 'svc', client_secret: SECRET, grant_types: [JWT_BEARER], scope: 'api:read', audiences: [API] }],
        trusted_issuers: [
          { issuer: REMOTE, jwks_uri: 'http://127.0.0.1:9/jwks', allow_any_subject: true, scope: 'api:read', client_ids: ['svc'] },
        ],
      },
    });
  });
  after(() => server.close());

  it('answers invalid_grant naming the private address, without connecting', async () => {
    const a = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(REMOTE)
      .setSubject('x')
      .setAudience(server.issuer)
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(key.privateKey);
    const res = await postForm(
      `${server.url}/token`,
      { grant_type: JWT_BEARER, assertion: a },
      { authorization: basicAuth('svc', SECRET) },
    );
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_grant');
    assert.match(res.body.error_description, /jwks_uri could not be read .*private address/);
  });
});
