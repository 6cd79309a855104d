import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { SignJWT, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { buildAccessTokenClaims, signAccessToken } from '../../src/tokens/access-token.js';
import { API, OTHER_API, SECRET, clientKeyPair, type ClientKeys } from '../helpers/fixtures.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { asSent } from '../helpers/error-description.js';
import { postForm, startServer, type JsonBody, type TestServer } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';
import { UserAgent } from '../support/user-agent.js';
import { formAction, hiddenField } from '../support/html-form.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const AT = 'urn:ietf:params:oauth:token-type:access_token';
const ID = 'urn:ietf:params:oauth:token-type:id_token';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';
const THIRD = 'https://third.example.com';
const PARTNER = 'https://idp.partner.example';
const CB = 'http://127.0.0.1:8080/cb';
const PASSWORD = 'correct horse battery staple';
const insecure = { execute: [oidc.allowInsecureRequests] };

describe('token exchange (RFC 8693) with openid-client', () => {
  let server: TestServer;
  let partner: ClientKeys;
  let aliceId: string;

  before(async () => {
    partner = await clientKeyPair('ES256', 'partner-1');
    const secret = { client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic' };
    server = await startServer({
      bootstrap: {
        resources: [
          { identifier: API, scopes: ['api:read', 'api:write'], access_token_ttl: 600 },
          { identifier: OTHER_API, scopes: ['other:read'] },
          { identifier: THIRD, scopes: ['third:read'] },
        ],
        clients: [
          {
            client_id: 'minter',
            ...secret,
            grant_types: [JWT_BEARER],
            scope: 'api:read api:write other:read',
            audiences: [API, OTHER_API],
          },
          {
            client_id: 'gateway',
            ...secret,
            grant_types: [TOKEN_EXCHANGE, 'client_credentials'],
            scope: 'api:read api:write other:read',
            audiences: [API, OTHER_API],
            // Besides its own tokens, the actors it may present (RFC 8693 §2.1).
            token_exchange_actors: ['actor-svc', 'impersonator'],
          },
          {
            // Registered for API only: tokens meant for OTHER_API are not its to exchange.
            client_id: 'api-gateway',
            ...secret,
            grant_types: [TOKEN_EXCHANGE],
            scope: 'api:read other:read',
            audiences: [API],
            token_exchange_impersonation: true,
          },
          {
            client_id: 'impersonator',
            ...secret,
            grant_types: [TOKEN_EXCHANGE, 'client_credentials'],
            scope: 'api:read other:read',
            audiences: [API, OTHER_API],
            token_exchange_impersonation: true,
          },
          { client_id: 'actor-svc', ...secret, grant_types: ['client_credentials'], scope: 'api:read', audiences: [API] },
          {
            client_id: 'web',
            ...secret,
            grant_types: ['authorization_code', TOKEN_EXCHANGE],
            redirect_uris: [CB],
            scope: 'openid profile api:read',
            audiences: [API],
            skip_consent: true,
            token_exchange_impersonation: true,
          },
        ],
        users: [{ username: 'alice', password: PASSWORD, claims: { name: 'Alice' } }],
        trusted_issuers: [
          {
            issuer: PARTNER,
            jwks: { keys: [partner.publicJwk] },
            allow_any_subject: true,
            scope: 'api:read api:write other:read',
            client_ids: ['minter', 'gateway', 'impersonator'],
          },
        ],
      },
    });
    aliceId = (await server.ctx.repos.users.findByUsername('alice'))!.id;
  });
  after(() => server.close());

  const configFor = (id: string) => oidc.discovery(new URL(server.issuer), id, undefined, oidc.ClientSecretBasic(SECRET), insecure);
  const verify = (token: string, audience = API) =>
    jwtVerify(token, createRemoteJWKSet(new URL(`${server.url}/jwks`)), { issuer: server.issuer, audience, typ: 'at+jwt' });

  /** A JWT from the trusted partner (for alice unless the claims say otherwise). */
  const partnerJwt = (claims: JWTPayload = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: PARTNER, sub: 'alice', aud: server.issuer, jti: randomUUID(), iat: now, exp: now + 120, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'partner-1' })
      .sign(partner.privateKey);
  };

  /** Alice's access token for API, obtained with the JWT-bearer grant. */
  const aliceToken = async (scope = 'api:read api:write') => {
    const res = await postForm(
      `${server.url}/token`,
      { grant_type: JWT_BEARER, assertion: await partnerJwt(), scope, resource: API },
      { authorization: basicAuth('minter', SECRET) },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.access_token as string;
  };
  /** A client's own access token (client credentials): sub = its client_id. */
  const serviceToken = async (client: string) => {
    const res = await postForm(
      `${server.url}/token`,
      { grant_type: 'client_credentials', resource: API, scope: 'api:read' },
      { authorization: basicAuth(client, SECRET) },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.access_token as string;
  };
  const exchange = (client: string, params: Record<string, string | string[]>) =>
    postForm(`${server.url}/token`, { grant_type: TOKEN_EXCHANGE, ...params }, { authorization: basicAuth(client, SECRET) });

  const expectError = (res: { status: number; body: JsonBody; headers: Headers }, error: string, description: RegExp) => {
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error, error);
    assert.match(res.body.error_description, asSent(description));
    assert.equal(res.headers.get('cache-control'), 'no-store');
  };

  it('discovery lists the grant', async () => {
    assert.ok((await configFor('gateway')).serverMetadata().grant_types_supported?.includes(TOKEN_EXCHANGE));
  });

  it('delegation: an actor_token puts an act claim in a narrower token for the subject', async () => {
    const subject = await aliceToken();
    const tokens = await oidc.genericGrantRequest(await configFor('gateway'), TOKEN_EXCHANGE, {
      subject_token: subject,
      subject_token_type: AT,
      actor_token: await serviceToken('actor-svc'),
      actor_token_type: AT,
      audience: API,
      scope: 'api:read',
    });
    assert.equal(tokens.issued_token_type, AT);
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.scope, 'api:read');
    assert.equal(tokens.refresh_token, undefined);
    assert.ok(tokens.expires_in! <= 600 && tokens.expires_in! > 500);
    const { payload } = await verify(tokens.access_token);
    assert.equal(payload.sub, aliceId);
    assert.equal(payload.client_id, 'gateway');
    assert.equal(payload.aud, API);
    assert.equal(payload.scope, 'api:read');
    assert.deepEqual(payload.act, { sub: 'actor-svc' });
    assert.ok(payload.exp! <= decodeJwt(subject).exp!, 'never outlives the subject token');
    const live = await oidc.tokenIntrospection(await configFor('gateway'), tokens.access_token);
    assert.equal(live.active, true);
  });

  it('a chain of delegation nests act claims (the current actor outermost)', async () => {
    const first = await exchange('gateway', {
      subject_token: await aliceToken(),
      subject_token_type: AT,
      actor_token: await serviceToken('actor-svc'),
      actor_token_type: AT,
      resource: API,
    });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const second = await exchange('gateway', {
      subject_token: first.body.access_token,
      subject_token_type: AT,
      actor_token: await serviceToken('impersonator'),
      actor_token_type: AT,
      resource: API,
    });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    const { payload } = await verify(second.body.access_token);
    assert.equal(payload.sub, aliceId);
    assert.deepEqual(payload.act, { sub: 'impersonator', act: { sub: 'actor-svc' } });
  });

  it('impersonation (no actor_token) only for clients whose policy allows it; an existing act is kept', async () => {
    const subject = await aliceToken('api:read');
    expectError(
      await exchange('gateway', { subject_token: subject, subject_token_type: AT, resource: API }),
      'invalid_request',
      /client "gateway" may not impersonate .*token_exchange_impersonation/,
    );
    const tokens = await oidc.genericGrantRequest(await configFor('impersonator'), TOKEN_EXCHANGE, {
      subject_token: subject,
      subject_token_type: AT,
      resource: API,
    });
    const { payload } = await verify(tokens.access_token);
    assert.equal(payload.sub, aliceId);
    assert.equal(payload.client_id, 'impersonator');
    assert.equal(payload.act, undefined);
    // A delegated token cannot be laundered into one without its actors.
    const delegated = await exchange('gateway', {
      subject_token: subject,
      subject_token_type: AT,
      actor_token: await serviceToken('actor-svc'),
      actor_token_type: AT,
      resource: API,
    });
    const again = await exchange('impersonator', { subject_token: delegated.body.access_token, subject_token_type: AT, resource: API });
    assert.deepEqual((await verify(again.body.access_token)).payload.act, { sub: 'actor-svc' });
  });

  it('requested_token_type jwt: a JWT that is not an access token (token_type N_A)', async () => {
    const tokens = await oidc.genericGrantRequest(await configFor('impersonator'), TOKEN_EXCHANGE, {
      subject_token: await aliceToken(),
      subject_token_type: AT,
      requested_token_type: JWT,
      audience: OTHER_API,
    });
    assert.equal(tokens.issued_token_type, JWT);
    assert.equal(tokens.token_type, 'n_a');
    assert.ok(tokens.expires_in! <= 300);
    assert.equal(decodeProtectedHeader(tokens.access_token).typ, 'JWT');
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${server.url}/jwks`)), {
      issuer: server.issuer,
      audience: OTHER_API,
    });
    assert.equal(payload.sub, aliceId);
    assert.ok(payload.jti);
    assert.deepEqual(await oidc.tokenIntrospection(await configFor('impersonator'), tokens.access_token), { active: false });
  });

  it('unsupported token types, and a missing subject_token_type, answer invalid_request naming them', async () => {
    const subject = await aliceToken();
    expectError(
      await exchange('impersonator', {
        subject_token: subject,
        subject_token_type: AT,
        requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token',
      }),
      'invalid_request',
      /requested_token_type \(the value sent\) is not supported/,
    );
    expectError(
      await exchange('impersonator', { subject_token: subject, subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' }),
      'invalid_request',
      /subject_token_type \(the value sent\) is not supported/,
    );
    expectError(
      await exchange('impersonator', { subject_token: subject }),
      'invalid_request',
      /"subject_token_type" parameter is required/,
    );
    expectError(await exchange('impersonator', { subject_token_type: AT }), 'invalid_request', /"subject_token" parameter is required/);
  });

  it('an audience or resource the client may not use: invalid_target', async () => {
    const subject = await aliceToken();
    expectError(
      await exchange('impersonator', { subject_token: subject, subject_token_type: AT, audience: 'https://evil.example' }),
      'invalid_target',
      /may not obtain tokens for audience \(the value sent\)/,
    );
    expectError(
      await exchange('impersonator', { subject_token: subject, subject_token_type: AT, resource: THIRD }),
      'invalid_target',
      /may not obtain tokens for resource/,
    );
    expectError(
      await exchange('impersonator', { subject_token: subject, subject_token_type: AT, audience: 'logical-name' }),
      'invalid_target',
      /audience \(the value sent\)/,
    );
  });

  it('scope may only narrow', async () => {
    const subject = await aliceToken('api:read');
    expectError(
      await exchange('gateway', {
        subject_token: subject,
        subject_token_type: AT,
        actor_token: await serviceToken('actor-svc'),
        actor_token_type: AT,
        resource: API,
        scope: 'api:write',
      }),
      'invalid_scope',
      /scope may only narrow: \(the value sent\) is not in the subject_token's scope \(api:read\)/,
    );
  });

  it('a revoked subject or actor token is refused', async () => {
    const subject = await aliceToken();
    const minter = await configFor('minter');
    await oidc.tokenRevocation(minter, subject);
    expectError(
      await exchange('impersonator', { subject_token: subject, subject_token_type: AT, resource: API }),
      'invalid_request',
      /subject_token has been revoked/,
    );
    const actor = await serviceToken('actor-svc');
    await oidc.tokenRevocation(await configFor('actor-svc'), actor);
    expectError(
      await exchange('gateway', {
        subject_token: await aliceToken(),
        subject_token_type: AT,
        actor_token: actor,
        actor_token_type: AT,
        resource: API,
      }),
      'invalid_request',
      /actor_token has been revoked/,
    );
  });

  it('an expired, forged or garbage subject token is refused; the new token never outlives it', async () => {
    const now = Math.floor(Date.now() / 1000);
    const key = server.ctx.keystore.signingKey('ES256');
    const own = (issuedAt: number) =>
      signAccessToken(
        buildAccessTokenClaims({
          issuer: server.issuer,
          subject: aliceId,
          audiences: [API],
          clientId: 'minter',
          scopes: ['api:read'],
          issuedAt,
          ttl: 600,
        }),
        key,
      );
    expectError(
      await exchange('impersonator', { subject_token: own(now - 1200), subject_token_type: AT }),
      'invalid_request',
      /subject_token has expired/,
    );
    expectError(
      await exchange('impersonator', { subject_token: 'garbage', subject_token_type: AT }),
      'invalid_request',
      /subject_token is not a valid access token issued by this server/,
    );
    // Our issuer and typ, but signed by a key that is not ours.
    const forged = await new SignJWT({ client_id: 'minter', scope: 'api:read', jti: 'x' })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })
      .setIssuer(server.issuer)
      .setSubject(aliceId)
      .setAudience(API)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(partner.privateKey);
    expectError(
      await exchange('impersonator', { subject_token: forged, subject_token_type: AT }),
      'invalid_request',
      /not a valid access token/,
    );

    const ending = await exchange('impersonator', { subject_token: own(now - 500), subject_token_type: AT, resource: API });
    assert.equal(ending.status, 200, JSON.stringify(ending.body));
    assert.ok(ending.body.expires_in <= 100, `expires_in ${ending.body.expires_in}`);
  });

  it('actor_token without actor_token_type (and the reverse) is invalid_request', async () => {
    const subject = await aliceToken();
    expectError(
      await exchange('gateway', { subject_token: subject, subject_token_type: AT, actor_token: await serviceToken('actor-svc') }),
      'invalid_request',
      /actor_token_type is required when actor_token is sent/,
    );
    expectError(
      await exchange('gateway', { subject_token: subject, subject_token_type: AT, actor_token_type: AT }),
      'invalid_request',
      /actor_token_type was sent without actor_token/,
    );
  });

  it('may_act: only the named party may act for the subject, and impersonation is refused', async () => {
    const ok = await exchange('gateway', {
      subject_token: await partnerJwt({ may_act: { sub: 'actor-svc' } }),
      subject_token_type: JWT,
      actor_token: await serviceToken('actor-svc'),
      actor_token_type: AT,
      resource: API,
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual((await verify(ok.body.access_token)).payload.act, { sub: 'actor-svc' });
    const withIss = await exchange('gateway', {
      subject_token: await partnerJwt({ may_act: { iss: server.issuer, sub: 'actor-svc' } }),
      subject_token_type: JWT,
      actor_token: await serviceToken('actor-svc'),
      actor_token_type: AT,
      resource: API,
    });
    assert.equal(withIss.status, 200, JSON.stringify(withIss.body));

    expectError(
      await exchange('gateway', {
        subject_token: await partnerJwt({ may_act: { sub: 'actor-svc' } }),
        subject_token_type: JWT,
        actor_token: await serviceToken('impersonator'),
        actor_token_type: AT,
        resource: API,
      }),
      'invalid_request',
      /actor_token's subject is not the party the subject_token allows to act for it \("may_act" names "actor-svc"\)/,
    );
    expectError(
      await exchange('gateway', {
        subject_token: await partnerJwt({ may_act: { iss: PARTNER, sub: 'actor-svc' } }),
        subject_token_type: JWT,
        actor_token: await serviceToken('actor-svc'),
        actor_token_type: AT,
        resource: API,
      }),
      'invalid_request',
      /"may_act" names "actor-svc" of "https:\/\/idp\.partner\.example"/,
    );
    expectError(
      await exchange('impersonator', {
        subject_token: await partnerJwt({ may_act: { sub: 'actor-svc' } }),
        subject_token_type: JWT,
        resource: API,
      }),
      'invalid_request',
      /may_act/,
    );
  });

  it('the actor is the calling client or a party its policy names, never the subject (RFC 8693 §2.1)', async () => {
    const subject = await aliceToken('api:read');
    // The README's shape: the gateway's own token as the actor.
    const own = await exchange('gateway', {
      subject_token: subject,
      subject_token_type: AT,
      actor_token: await serviceToken('gateway'),
      actor_token_type: AT,
      resource: API,
    });
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.deepEqual((await verify(own.body.access_token)).payload.act, { sub: 'gateway' });

    // The attack: the subject token as its own actor turns impersonation into "delegation".
    expectError(
      await exchange('gateway', {
        subject_token: subject,
        subject_token_type: AT,
        actor_token: subject,
        actor_token_type: AT,
        resource: API,
      }),
      'invalid_request',
      /actor_token is the subject_token itself/,
    );
    // Another token of the same user is no better.
    expectError(
      await exchange('gateway', {
        subject_token: subject,
        subject_token_type: AT,
        actor_token: await aliceToken('api:read'),
        actor_token_type: AT,
        resource: API,
      }),
      'invalid_request',
      new RegExp(`actor_token represents the subject itself \\("${aliceId}"\\)`),
    );
    // A trusted issuer's JWT for the same user, as the actor of a client that lists nobody.
    expectError(
      await exchange('gateway', {
        subject_token: subject,
        subject_token_type: AT,
        actor_token: await partnerJwt(),
        actor_token_type: JWT,
        resource: API,
      }),
      'invalid_request',
      /actor_token represents the subject itself/,
    );
    // A third party's token, presented by a client whose policy does not name it.
    expectError(
      await exchange('api-gateway', {
        subject_token: subject,
        subject_token_type: AT,
        actor_token: await serviceToken('actor-svc'),
        actor_token_type: AT,
        resource: API,
      }),
      'invalid_request',
      /actor_token represents "actor-svc", who is neither the calling client "api-gateway" nor a party its policy names \(it has no token_exchange_actors\)/,
    );
  });

  it('a subject token meant for an audience the client is not registered for, and not issued to it, is refused (RFC 8693 §1.1)', async () => {
    // minter obtains Alice's token for OTHER_API; api-gateway is registered for API only.
    const res = await postForm(
      `${server.url}/token`,
      { grant_type: JWT_BEARER, assertion: await partnerJwt(), scope: 'other:read', resource: OTHER_API },
      { authorization: basicAuth('minter', SECRET) },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    expectError(
      await exchange('api-gateway', { subject_token: res.body.access_token, subject_token_type: AT, resource: API }),
      'invalid_request',
      /subject_token is for "https:\/\/other\.example\.com", none of which client "api-gateway" is registered for, and was not issued to it/,
    );
    // The same kind of token for API is its to exchange.
    const ok = await exchange('api-gateway', { subject_token: await aliceToken('api:read'), subject_token_type: AT, resource: API });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  it('a JWT from a trusted issuer as subject_token: sub mapped, scope bounded, used once, only by its clients', async () => {
    const jwt = await partnerJwt({ scope: 'api:read other:read' });
    const tokens = await oidc.genericGrantRequest(await configFor('impersonator'), TOKEN_EXCHANGE, {
      subject_token: jwt,
      subject_token_type: JWT,
      resource: API,
    });
    const { payload } = await verify(tokens.access_token);
    assert.equal(payload.sub, aliceId);
    assert.equal(payload.scope, 'api:read', "the JWT's own scope narrows the issuer's");
    expectError(
      await exchange('impersonator', { subject_token: jwt, subject_token_type: JWT, resource: API }),
      'invalid_request',
      /subject_token rejected: its "jti" has been used before/,
    );
    expectError(
      await exchange('gateway', {
        subject_token: await partnerJwt({ scope: 'api:read' }),
        subject_token_type: JWT,
        actor_token: await serviceToken('actor-svc'),
        actor_token_type: AT,
        resource: API,
        scope: 'api:write',
      }),
      'invalid_scope',
      /may only narrow: \(the value sent\) is not in the subject_token's scope \(api:read\)/,
    );
    expectError(
      await exchange('web', { subject_token: await partnerJwt(), subject_token_type: JWT, resource: API }),
      'invalid_request',
      /subject_token rejected: client "web" is not allowed to present JWTs from issuer/,
    );
    expectError(
      await exchange('impersonator', {
        subject_token: await partnerJwt({ iss: 'https://unknown.example' }),
        subject_token_type: JWT,
        resource: API,
      }),
      'invalid_request',
      /not a trusted issuer/,
    );
    expectError(
      await exchange('impersonator', {
        subject_token: await partnerJwt({ aud: 'https://else.example' }),
        subject_token_type: JWT,
        resource: API,
      }),
      'invalid_request',
      /"aud" must be/,
    );
    const foreign = await exchange('impersonator', {
      subject_token: await partnerJwt({ sub: 'partner-user-9' }),
      subject_token_type: JWT,
      resource: API,
    });
    assert.equal((await verify(foreign.body.access_token)).payload.sub, 'partner-user-9');
    // Our own access token may also be sent as type jwt.
    const own = await exchange('impersonator', { subject_token: await aliceToken(), subject_token_type: JWT, resource: API });
    assert.equal(own.status, 200, JSON.stringify(own.body));
  });

  describe('with tokens from the authorization code flow', () => {
    let idToken: string;
    let accessToken: string;

    before(async () => {
      const web = await configFor('web');
      const { url, verifier, nonce, state } = await pkceAuthorizationUrl(web, CB, { scope: 'openid profile api:read', resource: API });
      const ua = new UserAgent();
      const page = await ua.follow(await ua.get(url.toString()), server.url);
      const html = await page.text();
      const done = await ua.follow(
        await ua.post(formAction(html, server.url), { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') }),
        server.url,
      );
      const tokens = await oidc.authorizationCodeGrant(web, new URL(done.headers.get('location')!), {
        pkceCodeVerifier: verifier,
        expectedNonce: nonce,
        expectedState: state,
      });
      idToken = tokens.id_token!;
      accessToken = tokens.access_token;
    });

    it('a client exchanges its own ID token, for a token with no scope; another client may not', async () => {
      const tokens = await oidc.genericGrantRequest(await configFor('web'), TOKEN_EXCHANGE, {
        subject_token: idToken,
        subject_token_type: ID,
        resource: API,
      });
      const { payload } = await verify(tokens.access_token);
      assert.equal(payload.sub, aliceId);
      assert.equal(payload.client_id, 'web');
      assert.equal(payload.scope, undefined, 'an ID token grants no scope');
      assert.equal(tokens.scope, undefined);
      assert.equal(payload.gid, decodeJwt(idToken).gid, "the ID token's grant");
      assert.ok(payload.exp! <= decodeJwt(idToken).exp!);
      expectError(
        await exchange('impersonator', { subject_token: idToken, subject_token_type: ID, resource: API }),
        'invalid_request',
        /subject_token was not issued to client "impersonator"/,
      );
      expectError(
        await exchange('web', { subject_token: idToken, subject_token_type: AT, resource: API }),
        'invalid_request',
        /not a valid access token/,
      );
      expectError(
        await exchange('web', { subject_token: idToken, subject_token_type: JWT, resource: API }),
        'invalid_request',
        /exchanged with subject_token_type urn:ietf:params:oauth:token-type:id_token/,
      );
      expectError(
        await exchange('web', { subject_token: accessToken, subject_token_type: ID, resource: API }),
        'invalid_request',
        /not a valid ID token/,
      );
    });

    it('an ID token grants no API scope: a scope-bearing exchange of one is refused (OIDC Core §2, RFC 8693 §5)', async () => {
      // Alice consented to "openid profile api:read" for web; her ID token still authorizes nothing.
      for (const extra of [{}, { requested_token_type: JWT }]) {
        expectError(
          await exchange('web', { subject_token: idToken, subject_token_type: ID, resource: API, scope: 'api:read', ...extra }),
          'invalid_scope',
          /an ID token grants no scope/,
        );
      }
      expectError(
        await exchange('web', { subject_token: idToken, subject_token_type: ID, scope: 'openid' }),
        'invalid_scope',
        /an ID token grants no scope/,
      );
    });

    it('an ID token is no actor', async () => {
      expectError(
        await exchange('web', {
          subject_token: accessToken,
          subject_token_type: AT,
          actor_token: idToken,
          actor_token_type: ID,
          resource: API,
        }),
        'invalid_request',
        /actor_token_type urn:ietf:params:oauth:token-type:id_token is not accepted/,
      );
    });

    it('the exchanged token carries the grant id: revoking the grant revokes it too', async () => {
      const res = await exchange('gateway', {
        subject_token: accessToken,
        subject_token_type: AT,
        actor_token: await serviceToken('actor-svc'),
        actor_token_type: AT,
        resource: API,
        scope: 'api:read',
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const exchanged = res.body.access_token as string;
      const gid = decodeJwt(accessToken).gid as string;
      assert.ok(gid);
      assert.equal(decodeJwt(exchanged).gid, gid);
      const gateway = await configFor('gateway');
      assert.equal((await oidc.tokenIntrospection(gateway, exchanged)).active, true);
      const fromIdToken = await exchange('web', { subject_token: idToken, subject_token_type: ID, resource: API });
      assert.equal(fromIdToken.status, 200, JSON.stringify(fromIdToken.body));
      assert.equal(decodeJwt(fromIdToken.body.access_token).gid, gid);
      await server.ctx.repos.grants.revoke(gid, new Date());
      assert.deepEqual(await oidc.tokenIntrospection(gateway, exchanged), { active: false });
      assert.deepEqual(await oidc.tokenIntrospection(await configFor('web'), fromIdToken.body.access_token), { active: false });
      expectError(
        await exchange('web', { subject_token: idToken, subject_token_type: ID, resource: API }),
        'invalid_request',
        /subject_token has been revoked: the grant it was issued under/,
      );
      expectError(
        await exchange('gateway', {
          subject_token: accessToken,
          subject_token_type: AT,
          actor_token: await serviceToken('actor-svc'),
          actor_token_type: AT,
          resource: API,
        }),
        'invalid_request',
        /subject_token has been revoked/,
      );
    });
  });
});
