import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { SignJWT, decodeJwt } from 'jose';
import { randomUUID } from 'node:crypto';
import { clientKeyPair, type ClientKeys } from '../helpers/fixtures.js';
import { bootstrapSchema } from '../../src/bootstrap.js';
import { describeIssues } from '../../src/oauth/issues.js';
import { startAdminServer, type AdminTestServer } from '../helpers/admin.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { basic, postForm } from '../helpers/server.js';
import { signInWithCodeFlow } from '../helpers/sign-in.js';
import { UserAgent, formAction, hiddenField } from '../helpers/user-agent.js';

/**
 * Custom claims and which claims go into which token (issue 14 item 5), with real clients: the
 * access token carries what its resource lists in access_token_claims; the ID token the claims of
 * the granted scopes, plus the client's id_token_claims, or none for an id_token_minimal client;
 * /userinfo the scopes' claims and id_token_claims.
 */

const API = 'https://api.example.com';
const OTHER = 'https://other.example.com';
const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'claims-secret-claims-secret-claims-0123';
const PASSWORD = 'correct horse battery staple';
const TIER = 'https://example.com/claims/tier';
const insecure = { execute: [oidc.allowInsecureRequests] };
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const PARTNER = 'https://idp.partner.example';

const client = (client_id: string, extra: Record<string, unknown> = {}) => ({
  client_id,
  client_secret: SECRET,
  redirect_uris: [CB],
  grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
  response_types: ['code', 'code id_token'],
  scope: 'openid profile email offline_access api:read other:read',
  audiences: [API, OTHER],
  skip_consent: true,
  ...extra,
});

describe('claims: custom claims, access_token_claims, id_token_claims, id_token_minimal', () => {
  let s: AdminTestServer;
  let aliceId = '';
  const configs: Record<string, oidc.Configuration> = {};

  before(async () => {
    s = await startAdminServer({
      resources: [
        { identifier: API, scopes: ['api:read'], access_token_claims: ['roles', 'department', 'email'] },
        { identifier: OTHER, scopes: ['other:read'] },
      ],
      clients: [
        client('web'),
        client('rich', { id_token_claims: ['roles', 'department', TIER] }),
        client('minimal', { id_token_minimal: true, id_token_claims: ['roles'] }),
        {
          client_id: 'gateway',
          client_secret: SECRET,
          grant_types: [JWT_BEARER, TOKEN_EXCHANGE, 'client_credentials'],
          scope: 'api:read',
          audiences: [API],
          token_exchange_impersonation: true,
        },
      ],
      users: [
        {
          username: 'alice',
          password: PASSWORD,
          roles: ['support', 'billing'],
          claims: {
            name: 'Alice Example',
            email: 'alice@example.com',
            email_verified: true,
            department: 'sales',
            [TIER]: 'gold',
            teams: [{ id: 'eu', lead: true }],
          },
        },
      ],
    });
    for (const id of ['web', 'rich', 'minimal']) {
      configs[id] = await oidc.discovery(new URL(s.issuer), id, undefined, oidc.ClientSecretBasic(SECRET), insecure);
    }
    const found = await s.api('GET', '/users?username=alice');
    aliceId = found.body.items[0].id;
    partner = await clientKeyPair('ES256', 'partner-1');
    const trusted = await s.api('POST', '/trusted-issuers', {
      body: { issuer: PARTNER, jwks: { keys: [partner.publicJwk] }, allow_any_subject: true, scope: 'api:read', client_ids: ['gateway'] },
    });
    assert.equal(trusted.status, 201, JSON.stringify(trusted.body));
  });
  let partner: ClientKeys;
  after(() => s.close());

  const signIn = (id: string, scope: string) =>
    signInWithCodeFlow({ config: configs[id]!, baseUrl: s.url, redirectUri: CB, username: 'alice', password: PASSWORD, scope });

  it('bootstrap stores custom claims beside the standard ones; the admin API shows them', async () => {
    const r = await s.api('GET', `/users/${aliceId}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.claims, {
      name: 'Alice Example',
      email: 'alice@example.com',
      email_verified: true,
      department: 'sales',
      [TIER]: 'gold',
      teams: [{ id: 'eu', lead: true }],
    });
  });

  it('by default the ID token carries the granted scopes’ standard claims; the access token what its resource asks for', async () => {
    const { tokens } = await signIn('web', 'openid profile email api:read');
    const id = tokens.claims()!;
    assert.equal(id.name, 'Alice Example');
    assert.equal(id.email, 'alice@example.com');
    assert.equal(id.email_verified, true);
    for (const absent of ['department', 'roles', TIER, 'teams']) assert.equal(id[absent], undefined, `${absent} not asked for by web`);
    assert.equal(id.sub, aliceId);
    assert.equal(id.aud, 'web', 'protocol claims unchanged');

    const at = decodeJwt(tokens.access_token);
    assert.deepEqual(at.aud, [API, `${s.issuer}/userinfo`]);
    assert.deepEqual(at.roles, ['billing', 'support'], 'RFC 9068 §2.2.3.1 roles, because the resource lists them');
    assert.equal(at.department, 'sales');
    assert.equal(at.email, 'alice@example.com');
    assert.equal(at.name, undefined, 'only the listed claims');
    assert.equal(at[TIER], undefined);

    const info = await oidc.fetchUserInfo(configs.web!, tokens.access_token, aliceId);
    assert.deepEqual(info, { sub: aliceId, name: 'Alice Example', email: 'alice@example.com', email_verified: true });
  });

  it('a resource that lists no claims gets none; neither does a token without a user (client_credentials)', async () => {
    const { tokens } = await signIn('web', 'openid other:read');
    const at = decodeJwt(tokens.access_token);
    assert.deepEqual(at.aud, [OTHER, `${s.issuer}/userinfo`]);
    for (const absent of ['roles', 'department', 'email', 'name']) assert.equal(at[absent], undefined, absent);
    const id = tokens.claims()!;
    assert.equal(id.email, undefined, 'no email scope, no email claim');
    assert.equal(id.name, undefined, 'no profile scope, no profile claims');

    const cc = await oidc.clientCredentialsGrant(configs.web!, { scope: 'api:read', resource: API });
    const ccAt = decodeJwt(cc.access_token);
    assert.equal(ccAt.aud, API);
    assert.equal(ccAt.sub, 'web');
    for (const absent of ['roles', 'department', 'email']) assert.equal(ccAt[absent], undefined, absent);
  });

  it('id_token_claims adds roles and custom claims to ID tokens and userinfo; a refresh carries the current ones', async () => {
    const { tokens } = await signIn('rich', 'openid email offline_access');
    const id = tokens.claims()!;
    assert.deepEqual(id.roles, ['billing', 'support']);
    assert.equal(id.department, 'sales');
    assert.equal(id[TIER], 'gold');
    assert.equal(id.email, 'alice@example.com');
    assert.equal(id.name, undefined, 'no profile scope');
    const info = await oidc.fetchUserInfo(configs.rich!, tokens.access_token, aliceId);
    assert.deepEqual(info, {
      sub: aliceId,
      email: 'alice@example.com',
      email_verified: true,
      roles: ['billing', 'support'],
      department: 'sales',
      [TIER]: 'gold',
    });

    // Merge patch: null removes a claim, other members set theirs, the rest stay.
    const patched = await s.api('PATCH', `/users/${aliceId}`, {
      body: { claims: { department: 'marketing', [TIER]: null }, roles: ['support'] },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.claims.department, 'marketing');
    assert.ok(!(TIER in patched.body.claims), 'null removed the claim');
    assert.equal(patched.body.claims.name, 'Alice Example', 'untouched claims stay');

    const refreshed = await oidc.refreshTokenGrant(configs.rich!, tokens.refresh_token!);
    const again = refreshed.claims()!;
    assert.equal(again.department, 'marketing');
    assert.deepEqual(again.roles, ['support']);
    assert.equal(again[TIER], undefined);

    // Put Alice back for the other tests.
    const restored = await s.api('PATCH', `/users/${aliceId}`, {
      body: { claims: { department: 'sales', [TIER]: 'gold' }, roles: ['billing', 'support'] },
    });
    assert.equal(restored.status, 200, JSON.stringify(restored.body));
  });

  it('id_token_minimal: the ID token carries no claims of the user; /userinfo still answers them', async () => {
    const { tokens } = await signIn('minimal', 'openid profile email');
    const id = tokens.claims()!;
    for (const absent of ['name', 'email', 'email_verified', 'roles']) assert.equal(id[absent], undefined, absent);
    assert.equal(id.sub, aliceId);
    const info = await oidc.fetchUserInfo(configs.minimal!, tokens.access_token, aliceId);
    assert.deepEqual(info, {
      sub: aliceId,
      name: 'Alice Example',
      email: 'alice@example.com',
      email_verified: true,
      roles: ['billing', 'support'],
    });
  });

  it('the hybrid response (code id_token) carries the same claims in its front-channel ID token', async () => {
    const ua = new UserAgent();
    const a = await pkceAuthorizationUrl(configs.rich!, CB, { scope: 'openid email', response_type: 'code id_token' });
    let r = await ua.follow(await ua.get(a.url.toString()), s.url);
    const html = await r.text();
    r = await ua.post(formAction(html, s.url), { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') });
    r = await ua.follow(r, s.url);
    const location = r.headers.get('location');
    assert.ok(location?.startsWith(CB), `redirected to the client, not ${location ?? r.status}`);
    const fragment = new URLSearchParams(new URL(location!).hash.slice(1));
    const id = decodeJwt(fragment.get('id_token')!);
    assert.equal(id.nonce, a.nonce);
    assert.ok(id.c_hash);
    assert.equal(id.email, 'alice@example.com');
    assert.deepEqual(id.roles, ['billing', 'support']);
    assert.equal(id.department, 'sales');
  });

  describe('bad input is refused, naming the claim', () => {
    const problem = async (method: string, path: string, body: unknown, pointer: string, detail: RegExp) => {
      const r = await s.api(method, path, { body });
      assert.equal(r.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
      assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(r.body.code, 'invalid');
      const e = r.body.errors.find((x: { pointer?: string }) => x.pointer === pointer);
      assert.ok(e, `an error at ${pointer}: ${JSON.stringify(r.body.errors)}`);
      assert.match(e.detail, detail);
      assert.match(r.body.detail, detail);
    };

    it('admin API users: reserved names, bad names, null on create, too deep, too large', async () => {
      await problem(
        'POST',
        '/users',
        { username: 'mallory', claims: { iss: 'https://evil.example' } },
        '/claims/iss',
        /claim "iss" is reserved/,
      );
      await problem(
        'POST',
        '/users',
        { username: 'mallory', claims: { roles: ['admin'] } },
        '/claims/roles',
        /set roles with the user's roles/,
      );
      await problem('POST', '/users', { username: 'mallory', claims: { '1st': 1 } }, '/claims/1st', /claim "1st" has an invalid name/);
      await problem('POST', '/users', { username: 'mallory', claims: { team: null } }, '/claims/team', /leave it out/);
      await problem('POST', '/users', { username: 'mallory', claims: { deep: [[[[[[1]]]]]] } }, '/claims/deep', /nests deeper than 5/);
      await problem(
        'POST',
        '/users',
        { username: 'mallory', claims: { bio: 'x'.repeat(9000) } },
        '/claims/bio',
        /more than 8192; the largest is "bio"/,
      );
      assert.equal((await s.api('GET', '/users?username=mallory')).body.items.length, 0, 'nothing created');

      await problem('PATCH', `/users/${aliceId}`, { claims: { exp: 9999999999 } }, '/claims/exp', /claim "exp" is reserved/);
      await problem('PATCH', `/users/${aliceId}`, { claims: { bio: 'x'.repeat(9000) } }, '/claims/bio', /more than 8192/);
      assert.equal((await s.api('GET', `/users/${aliceId}`)).body.claims.bio, undefined, 'nothing changed');
    });

    it('admin API resources and clients: access_token_claims and id_token_claims name only claims a user can have', async () => {
      await problem(
        'POST',
        '/resources',
        { identifier: 'https://third.example.com', access_token_claims: ['roles', 'sub'] },
        '/access_token_claims/1',
        /access_token_claims: claim "sub" is reserved/,
      );
      await problem(
        'PATCH',
        `/clients/web`,
        { id_token_claims: ['aud'] },
        '/id_token_claims/0',
        /id_token_claims: claim "aud" is reserved/,
      );
      await problem('PATCH', `/clients/web`, { id_token_minimal: 'yes' }, '/id_token_minimal', /id_token_minimal must be true or false/);
      const ok = await s.api('POST', '/resources', {
        body: { identifier: 'https://third.example.com', access_token_claims: ['roles', TIER] },
      });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      assert.deepEqual(ok.body.access_token_claims, ['roles', TIER]);
    });

    it('the bootstrap file: the same rules, the error naming the user and the claim', () => {
      const r = bootstrapSchema.safeParse({ users: [{ username: 'eve', password: PASSWORD, claims: { aud: 'x', ok: 1 } }] });
      assert.ok(!r.success);
      assert.match(describeIssues(r.error), /^users\[0\]\.claims\.aud: claim "aud" is reserved/);
      const res = bootstrapSchema.safeParse({ resources: [{ identifier: API, access_token_claims: ['x y'] }] });
      assert.ok(!res.success);
      assert.match(
        describeIssues(res.error),
        /resources\[0\]\.access_token_claims\[0\]: access_token_claims: claim "x y" has an invalid name/,
      );
    });
  });

  describe('JWT-bearer and token exchange: the resource claims only when the subject is a Latchkey user', () => {
    const partnerJwt = (sub: string) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: PARTNER, sub, aud: s.issuer, jti: randomUUID(), iat: now, exp: now + 120 })
        .setProtectedHeader({ alg: 'ES256', kid: 'partner-1' })
        .sign(partner.privateKey);
    };
    const token = async (form: Record<string, string>) => {
      const r = await postForm(`${s.url}/token`, form, { authorization: basic('gateway', SECRET) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return decodeJwt(r.body.access_token as string);
    };

    it('JWT-bearer: an assertion naming alice carries her roles; a foreign subject carries none', async () => {
      const alice = await token({ grant_type: JWT_BEARER, assertion: await partnerJwt('alice'), resource: API });
      assert.equal(alice.sub, aliceId);
      assert.deepEqual(alice.roles, ['billing', 'support']);
      assert.equal(alice.department, 'sales');
      const stranger = await token({ grant_type: JWT_BEARER, assertion: await partnerJwt('someone-else'), resource: API });
      assert.equal(stranger.sub, 'someone-else');
      for (const absent of ['roles', 'department', 'email']) assert.equal(stranger[absent], undefined, absent);
    });

    it("token exchange: alice's access token gives her claims; a client's own token none, even under a user's id", async () => {
      const { tokens } = await signIn('web', 'openid api:read');
      const exchanged = await token({
        grant_type: TOKEN_EXCHANGE,
        subject_token: tokens.access_token,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        resource: API,
      });
      assert.equal(exchanged.sub, aliceId);
      assert.deepEqual(exchanged.roles, ['billing', 'support']);

      const own = await oidc.clientCredentialsGrant(
        await oidc.discovery(new URL(s.issuer), 'gateway', undefined, oidc.ClientSecretBasic(SECRET), insecure),
        { resource: API },
      );
      const fromClient = await token({
        grant_type: TOKEN_EXCHANGE,
        subject_token: own.access_token,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        resource: API,
      });
      assert.equal(fromClient.sub, 'gateway');
      assert.equal(fromClient.roles, undefined);

      // A client whose client_id is alice's sub: its own token is still a client's, and carries no claims of hers.
      const twin = await s.api('POST', '/clients', {
        body: {
          client_id: aliceId,
          client_secret: SECRET,
          grant_types: ['client_credentials', TOKEN_EXCHANGE],
          scope: 'api:read',
          audiences: [API],
          token_exchange_impersonation: true,
        },
      });
      assert.equal(twin.status, 201, JSON.stringify(twin.body));
      const twinToken = await postForm(
        `${s.url}/token`,
        { grant_type: 'client_credentials', resource: API },
        { authorization: basic(aliceId, SECRET) },
      );
      assert.equal(twinToken.status, 200, JSON.stringify(twinToken.body));
      const twinExchange = await postForm(
        `${s.url}/token`,
        {
          grant_type: TOKEN_EXCHANGE,
          subject_token: twinToken.body.access_token as string,
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          resource: API,
        },
        { authorization: basic(aliceId, SECRET) },
      );
      assert.equal(twinExchange.status, 200, JSON.stringify(twinExchange.body));
      const twinClaims = decodeJwt(twinExchange.body.access_token as string);
      assert.equal(twinClaims.sub, aliceId);
      for (const absent of ['roles', 'department', 'email']) assert.equal(twinClaims[absent], undefined, absent);
    });
  });

  it('userinfo for an id_token_claims client, through the token endpoint directly (form POST, no library)', async () => {
    // The same release without openid-client's help: a raw token response and a POST to /userinfo.
    const { tokens } = await signIn('rich', 'openid offline_access');
    const r = await postForm(
      `${s.url}/token`,
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! },
      { authorization: basic('rich', SECRET) },
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const info = await postForm(`${s.url}/userinfo`, { access_token: r.body.access_token });
    assert.equal(info.status, 200);
    assert.deepEqual(info.body, { sub: aliceId, roles: ['billing', 'support'], department: 'sales', [TIER]: 'gold' });
  });
});
