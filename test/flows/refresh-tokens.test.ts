import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { ManualClock } from '../../src/clock.js';
import { collectSecurityEvents } from '../../src/observability/security-events.js';
import { hashToken } from '../../src/tokens/opaque.js';
import { waitUntil } from '../helpers/wait.js';
import { rotateSigningKeys } from '../../src/keys/keystore.js';
import { purgeExpired } from '../../src/store/cleanup.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { postForm, startServer, type TestServer } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';
import { UserAgent } from '../support/user-agent.js';
import { formAction, hiddenField } from '../support/html-form.js';

const API = 'https://api.example.com';
const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'web-secret-web-secret-web-secret-0123';
const PASSWORD = 'correct horse battery staple';
const insecure = { execute: [oidc.allowInsecureRequests] };

const bootstrap = {
  resources: [{ identifier: API, scopes: ['api:read', 'api:write'] }],
  clients: [
    {
      client_id: 'web',
      client_secret: SECRET,
      client_name: 'Web',
      redirect_uris: [CB],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid profile offline_access api:read api:write',
      audiences: [API],
      skip_consent: true,
    },
    {
      client_id: 'other',
      client_secret: SECRET,
      redirect_uris: [CB],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid offline_access',
      skip_consent: true,
    },
    {
      client_id: 'spa',
      token_endpoint_auth_method: 'none',
      redirect_uris: [CB],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid offline_access',
      skip_consent: true,
    },
  ],
  users: [
    { username: 'alice', password: PASSWORD, claims: { name: 'Alice' } },
    { username: 'bob', password: PASSWORD },
  ],
};

/** Signs alice in; returns the callback URL carrying the code, and what its exchange needs. */
async function codeFor(
  server: TestServer,
  config: oidc.Configuration,
  scope: string,
  extra: Record<string, string> = {},
  username = 'alice',
) {
  const { url, verifier, nonce, state } = await pkceAuthorizationUrl(config, CB, { scope, ...extra });
  const ua = new UserAgent();
  let r = await ua.follow(await ua.get(url.toString()), server.url);
  const html = await r.text();
  r = await ua.post(formAction(html, server.url), { username, password: PASSWORD, csrf: hiddenField(html, 'csrf') });
  assert.equal(r.status, 303);
  const callback = new URL(r.headers.get('location')!);
  return { callback, code: callback.searchParams.get('code')!, verifier, nonce, state };
}

/** Signs alice in and returns the token response. */
async function tokensFor(
  server: TestServer,
  config: oidc.Configuration,
  scope = 'openid offline_access api:read api:write',
  extra: Record<string, string> = {},
  username = 'alice',
) {
  const { callback, verifier, nonce, state } = await codeFor(server, config, scope, extra, username);
  return oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state });
}

/** How many refresh tokens the grant of this code has in the store. */
async function refreshTokensOfCode(server: TestServer, code: string): Promise<number> {
  const r = await server.ctx.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM refresh_tokens t JOIN authorization_codes c ON c.grant_id = t.grant_id WHERE c.code_hash = $1',
    [hashToken(code)],
  );
  return r.rows[0]!.n;
}

const refresh = (server: TestServer, token: string, extra: Record<string, string | string[]> = {}, client = 'web') =>
  postForm(
    `${server.url}/token`,
    { grant_type: 'refresh_token', refresh_token: token, ...extra },
    { authorization: basicAuth(client, SECRET) },
  );

/**
 * Makes `n` refreshes of one token truly concurrent: the token's row is held (FOR UPDATE, as a
 * rotation in flight holds it) until all `n` requests have reached the server, then let go. On
 * PGlite the held transaction makes every statement wait; on PostgreSQL the rotating statements
 * wait for the row.
 */
async function concurrently<T>(server: TestServer, refreshToken: string, n: number, send: (i: number) => Promise<T>): Promise<T[]> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const held = server.ctx.db.transaction(async (tx) => {
    await tx.query('SELECT 1 FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE', [hashToken(refreshToken)]);
    locked();
    await released;
  });
  await isLocked;
  let arrived = 0;
  const onRequest = () => arrived++;
  server.app.server.on('request', onRequest);
  try {
    const results = Promise.all(Array.from({ length: n }, (_, i) => send(i)));
    await waitUntil(`${n} requests reached the server`, () => arrived >= n);
    release();
    await held;
    return await results;
  } finally {
    release();
    server.app.server.off('request', onRequest);
  }
}

describe('refresh tokens', () => {
  const clock = new ManualClock();
  const events = collectSecurityEvents();
  let server: TestServer;
  let web: oidc.Configuration;

  before(async () => {
    server = await startServer({
      clock,
      events,
      bootstrap,
      env: { REFRESH_TOKEN_IDLE_TTL: '3600', REFRESH_TOKEN_ABSOLUTE_TTL: '7200' },
    });
    web = await oidc.discovery(new URL(server.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), insecure);
  });
  after(() => server.close());

  it('is issued with offline_access, opaque with 256 bits, and rotates on every use (openid-client)', async () => {
    const t = await tokensFor(server, web);
    assert.ok(t.refresh_token);
    assert.equal(Buffer.from(t.refresh_token, 'base64url').length, 32);
    const t2 = await oidc.refreshTokenGrant(web, t.refresh_token);
    assert.ok(t2.refresh_token && t2.refresh_token !== t.refresh_token);
    assert.ok(t2.id_token, 'an OpenID refresh returns an ID token');
    assert.equal(t2.claims()!.sub, t.claims()!.sub);
    const t3 = await oidc.refreshTokenGrant(web, t2.refresh_token);
    assert.ok(t3.access_token);
  });

  it('is not issued to an OpenID request without offline_access, nor stored (OIDC Core §11)', async () => {
    const c = await codeFor(server, web, 'openid api:read');
    const t = await oidc.authorizationCodeGrant(web, c.callback, {
      pkceCodeVerifier: c.verifier,
      expectedNonce: c.nonce,
      expectedState: c.state,
    });
    assert.equal(t.refresh_token, undefined);
    assert.ok(t.id_token);
    assert.equal(await refreshTokensOfCode(server, c.code), 0);
  });

  it('an ID token on refresh only when the grant is OpenID: same sub, original auth_time, no nonce (OIDC Core §12.2)', async () => {
    const c = await codeFor(server, web, 'offline_access api:read');
    const plain = await postForm(
      `${server.url}/token`,
      { grant_type: 'authorization_code', code: c.code, redirect_uri: CB, code_verifier: c.verifier },
      { authorization: basicAuth('web', SECRET) },
    );
    assert.equal(plain.status, 200, JSON.stringify(plain.body));
    assert.equal(plain.body.id_token, undefined);
    const r = await refresh(server, plain.body.refresh_token);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.id_token, undefined, 'a grant without openid gets no ID token on refresh');

    const openid = await tokensFor(server, web, 'openid offline_access');
    clock.advance(30);
    const again = await refresh(server, openid.refresh_token!);
    const first = openid.claims()!;
    const refreshed = decodeJwt(again.body.id_token);
    assert.equal(refreshed.sub, first.sub);
    assert.equal(refreshed.auth_time, first.auth_time, 'the time of the sign-in, not of the refresh');
    assert.equal(refreshed.iat, first.iat + 30);
    assert.ok(first.nonce, 'the first ID token carried the nonce');
    assert.equal(refreshed.nonce, undefined);
  });

  it('a code exchange refused after its code was consumed leaves no refresh token behind', async () => {
    const c = await codeFor(server, web, 'openid offline_access');
    const refused = await postForm(
      `${server.url}/token`,
      { grant_type: 'authorization_code', code: c.code, redirect_uri: CB, code_verifier: 'x'.repeat(43) },
      { authorization: basicAuth('web', SECRET) },
    );
    assert.equal(refused.body.error, 'invalid_grant');
    assert.match(refused.body.error_description, /code_verifier does not match/);
    assert.equal(await refreshTokensOfCode(server, c.code), 0);
  });

  it('consent withdrawn between the code and its exchange: invalid_grant, nothing issued', async () => {
    const c = await codeFor(server, web, 'openid offline_access');
    const alice = await server.ctx.repos.users.findByUsername('alice');
    // skip_consent: no consent row to delete, but the user's grants to the client are revoked.
    await server.ctx.repos.consents.revoke(alice!.id, 'web');
    const r = await postForm(
      `${server.url}/token`,
      { grant_type: 'authorization_code', code: c.code, redirect_uri: CB, code_verifier: c.verifier },
      { authorization: basicAuth('web', SECRET) },
    );
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_grant');
    assert.match(r.body.error_description, /withdrawn/);
    assert.equal(await refreshTokensOfCode(server, c.code), 0);
  });

  it('reuse of a rotated token revokes the whole family', async () => {
    const t = await tokensFor(server, web);
    const t2 = await oidc.refreshTokenGrant(web, t.refresh_token!);
    clock.advance(5);
    const reuse = await refresh(server, t.refresh_token!);
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body.error, 'invalid_grant');
    assert.match(reuse.body.error_description, /already used.*revoked/);
    // The successor, and every access token of the grant, are dead too.
    assert.equal((await refresh(server, t2.refresh_token!)).body.error, 'invalid_grant');
    assert.equal((await oidc.tokenIntrospection(web, t2.access_token)).active, false);
    assert.equal((await oidc.tokenIntrospection(web, t.access_token)).active, false);
  });

  it('20 refreshes of one token that all arrive before the rotation commits: one successor, the rest refused, nothing revoked', async () => {
    const t = await tokensFor(server, web);
    const results = await concurrently(server, t.refresh_token!, 20, () => refresh(server, t.refresh_token!));
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, JSON.stringify(results.map((r) => r.body.error_description ?? 'ok')));
    for (const r of results.filter((x) => x.status !== 200)) {
      assert.equal(r.body.error, 'invalid_grant');
      assert.match(r.body.error_description, /concurrent request/);
    }
    const grantId = decodeJwt(ok[0]!.body.access_token).gid;
    assert.equal(events.events.filter((e) => e.details?.grant_id === grantId).length, 0, 'no reuse was reported');
    assert.equal((await refresh(server, ok[0]!.body.refresh_token)).status, 200, 'the family is healthy');
  });

  it('a replay 100 ms after the rotation committed is reuse: the family is revoked, with no time tolerance (issue 11 item 6)', async () => {
    const t = await tokensFor(server, web);
    const rotated = await refresh(server, t.refresh_token!);
    assert.equal(rotated.status, 200);
    clock.advance(0.1);
    const replay = await refresh(server, t.refresh_token!);
    assert.equal(replay.body.error, 'invalid_grant');
    assert.match(replay.body.error_description, /already used.*every token of this grant is now revoked/);
    assert.equal((await refresh(server, rotated.body.refresh_token)).body.error, 'invalid_grant', 'the successor died with the family');
    assert.equal((await oidc.tokenIntrospection(web, rotated.body.access_token)).active, false);
    // Item 34: one security event, identifiers only.
    const grantId = decodeJwt(rotated.body.access_token).gid;
    const reuse = events.events.filter((e) => e.type === 'refresh_token.reuse' && e.details?.grant_id === grantId);
    assert.equal(reuse.length, 1);
    assert.equal(reuse[0]!.clientId, 'web');
    assert.equal(reuse[0]!.userId, t.claims()!.sub);
    assert.doesNotMatch(JSON.stringify(reuse[0]), new RegExp(`${t.refresh_token!}|${rotated.body.refresh_token}`), 'never a token');
  });

  it('the same replay sent without waiting, right after the response, is reuse too', async () => {
    const t = await tokensFor(server, web);
    const rotated = await refresh(server, t.refresh_token!);
    assert.equal(rotated.status, 200);
    const replay = await refresh(server, t.refresh_token!);
    assert.match(replay.body.error_description, /already used/);
    assert.equal((await refresh(server, rotated.body.refresh_token)).body.error, 'invalid_grant');
  });

  it('scope and resource may only narrow', async () => {
    const t = await tokensFor(server, web);
    const narrow = await refresh(server, t.refresh_token!, { scope: 'api:read', resource: API });
    assert.equal(narrow.status, 200, JSON.stringify(narrow.body));
    assert.equal(narrow.body.scope, 'api:read');
    assert.equal(decodeJwt(narrow.body.access_token).aud, API);
    assert.equal(narrow.body.id_token, undefined, 'no openid, no ID token');
    // The next refresh token still carries the whole grant.
    const full = await refresh(server, narrow.body.refresh_token);
    assert.equal(full.body.scope, 'openid offline_access api:read api:write');
    const wider = await refresh(server, full.body.refresh_token, { scope: 'openid profile' });
    assert.equal(wider.body.error, 'invalid_scope');
    const elsewhere = await refresh(server, full.body.refresh_token, { resource: 'https://other.example' });
    assert.equal(elsewhere.body.error, 'invalid_target');
  });

  it('another client cannot use it', async () => {
    const t = await tokensFor(server, web);
    const r = await refresh(server, t.refresh_token!, {}, 'other');
    assert.equal(r.body.error, 'invalid_grant');
    assert.match(r.body.error_description, /another client/);
    assert.equal((await refresh(server, t.refresh_token!)).status, 200, 'and the rightful client still can');
  });

  it('idle and absolute lifetimes', async () => {
    const idle = await tokensFor(server, web);
    clock.advance(3601);
    assert.match((await refresh(server, idle.refresh_token!)).body.error_description, /expired/);

    let rt = (await tokensFor(server, web)).refresh_token!;
    for (let i = 0; i < 3; i++) {
      clock.advance(3000); // each use is within the idle window …
      const r = await refresh(server, rt);
      if (i < 2) {
        assert.equal(r.status, 200, JSON.stringify(r.body));
        rt = r.body.refresh_token;
      } else {
        assert.match(r.body.error_description, /expired/, '… but the grant ends after its absolute lifetime');
      }
    }
  });

  it('revoking a refresh token (RFC 7009) revokes its family', async () => {
    const t = await tokensFor(server, web);
    await oidc.tokenRevocation(web, t.refresh_token!);
    assert.equal((await oidc.tokenIntrospection(web, t.access_token)).active, false);
    assert.equal((await refresh(server, t.refresh_token!)).body.error, 'invalid_grant');
  });

  it('introspection reports refresh tokens to their client only', async () => {
    const t = await tokensFor(server, web);
    const info = await oidc.tokenIntrospection(web, t.refresh_token!);
    assert.equal(info.active, true);
    assert.equal(info.token_type, 'refresh_token');
    assert.equal(info.client_id, 'web');
    const other = await postForm(`${server.url}/introspect`, { token: t.refresh_token! }, { authorization: basicAuth('other', SECRET) });
    assert.deepEqual(other.body, { active: false });
  });

  it('refreshed tokens are signed with the current key', async () => {
    const t = await tokensFor(server, web);
    const before = decodeProtectedHeader(t.access_token).kid;
    const { ctx } = server;
    await rotateSigningKeys(ctx.repos.keys, ctx.secrets.keyEncryptionKey, ctx.clock, { delaySeconds: 0, maxTokenLifetime: 600 });
    await ctx.keystore.reload();
    const r = await refresh(server, t.refresh_token!);
    assert.notEqual(decodeProtectedHeader(r.body.access_token).kid, before);
    assert.notEqual(decodeProtectedHeader(r.body.id_token).kid, decodeProtectedHeader(t.id_token!).kid);
  });

  it('withdrawing consent or deleting the client revokes its refresh tokens', async () => {
    const t = await tokensFor(server, web);
    const sub = t.claims()!.sub;
    await server.ctx.repos.consents.grant(sub, 'web', new Map([['', ['openid']]]));
    await server.ctx.repos.consents.revoke(sub, 'web');
    assert.equal((await refresh(server, t.refresh_token!)).body.error, 'invalid_grant');

    const otherCfg = await oidc.discovery(new URL(server.issuer), 'other', undefined, oidc.ClientSecretBasic(SECRET), insecure);
    const o = await tokensFor(server, otherCfg, 'openid offline_access');
    await server.ctx.repos.clients.delete('other');
    server.ctx.registry.invalidate();
    // Its grants go with it (migration 011), and their refresh tokens with them.
    const r = await server.ctx.repos.refreshTokens.find((await import('../../src/tokens/opaque.js')).hashToken(o.refresh_token!));
    assert.equal(r, undefined);
  });

  it('deleting a user deletes their refresh tokens and unused codes (through their grants)', async () => {
    const t = await tokensFor(server, web, undefined, {}, 'bob');
    const bob = (await server.ctx.repos.users.findByUsername('bob'))!;
    const count = async (table: string) =>
      Number((await server.ctx.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE user_id = $1`, [bob.id])).rows[0]!.n);
    assert.ok((await count('refresh_tokens')) > 0);
    assert.ok(await server.ctx.repos.users.delete(bob.id));
    assert.equal(await count('refresh_tokens'), 0);
    assert.equal(await count('authorization_codes'), 0);
    assert.equal(await count('grants'), 0);
    const r = await refresh(server, t.refresh_token!);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_grant');
  });

  it('a public client always rotates', async () => {
    const spa = await oidc.discovery(new URL(server.issuer), 'spa', undefined, oidc.None(), insecure);
    const t = await tokensFor(server, spa, 'openid offline_access');
    const t2 = await oidc.refreshTokenGrant(spa, t.refresh_token!);
    assert.ok(t2.refresh_token && t2.refresh_token !== t.refresh_token);
  });

  it('the cleanup job deletes only what has expired', async () => {
    const t = await tokensFor(server, web);
    clock.advance(10 * 86400);
    const live = await tokensFor(server, web);
    const counts = await purgeExpired(server.ctx.db, new Date(clock.now()));
    assert.ok(counts, 'this process held the cleanup lock');
    assert.ok(counts.refresh_tokens! > 0 && counts.grants! > 0 && counts.authorization_codes! > 0);
    assert.equal((await refresh(server, t.refresh_token!)).body.error, 'invalid_grant');
    assert.equal((await refresh(server, live.refresh_token!)).status, 200, 'live tokens survive');
    assert.deepEqual(
      Object.values((await purgeExpired(server.ctx.db, new Date(clock.now())))!).filter((n) => n > 0),
      [],
    );
  });
});

describe('refresh tokens: confidential clients without rotation, and the grace window', () => {
  const clock = new ManualClock();
  const events = collectSecurityEvents();
  let noRotation: TestServer;
  let grace: TestServer;
  let webNo: oidc.Configuration;
  let webGrace: oidc.Configuration;

  before(async () => {
    noRotation = await startServer({ clock, bootstrap, env: { REFRESH_TOKEN_ROTATION: 'false' } });
    grace = await startServer({ clock, events, bootstrap, env: { REFRESH_TOKEN_GRACE: '30' } });
    webNo = await oidc.discovery(new URL(noRotation.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), insecure);
    webGrace = await oidc.discovery(new URL(grace.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), insecure);
  });
  after(async () => {
    await noRotation.close();
    await grace.close();
  });

  it("REFRESH_TOKEN_ROTATION=false keeps a confidential client's token", async () => {
    const t = await tokensFor(noRotation, webNo);
    const r1 = await refresh(noRotation, t.refresh_token!);
    assert.equal(r1.status, 200);
    assert.equal(r1.body.refresh_token, undefined);
    assert.equal((await refresh(noRotation, t.refresh_token!)).status, 200);
  });

  it('grace on: a retry within the window succeeds and leaves exactly one live token; after it, reuse revokes', async () => {
    const t = await tokensFor(grace, webGrace);
    const lost = await refresh(grace, t.refresh_token!); // the client never saw this response
    clock.advance(5);
    const retry = await refresh(grace, t.refresh_token!);
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    assert.equal((await oidc.tokenIntrospection(webGrace, lost.body.refresh_token)).active, false, 'the lost successor was replaced');
    const next = await refresh(grace, retry.body.refresh_token);
    assert.equal(next.status, 200, JSON.stringify(next.body));
    clock.advance(60);
    const late = await refresh(grace, t.refresh_token!);
    assert.match(late.body.error_description, /already used/);
    assert.equal((await refresh(grace, next.body.refresh_token)).body.error, 'invalid_grant', 'family revoked');
  });

  it('grace on: a retry after the successor was used is reuse, even inside the window', async () => {
    const t = await tokensFor(grace, webGrace);
    const t2 = await refresh(grace, t.refresh_token!);
    const t3 = await refresh(grace, t2.body.refresh_token);
    assert.equal(t3.status, 200);
    clock.advance(1);
    assert.match((await refresh(grace, t.refresh_token!)).body.error_description, /already used/);
    assert.equal((await refresh(grace, t3.body.refresh_token)).body.error, 'invalid_grant', 'family revoked');
  });

  it('grace does not hand the family over: the victim presenting its replaced successor revokes the whole grant (issue 11 item 7)', async () => {
    const stolen = await tokensFor(grace, webGrace);
    // The victim refreshes and keeps its successor.
    const victim = await refresh(grace, stolen.refresh_token!);
    assert.equal(victim.status, 200);
    // The attacker replays the stolen token inside the window: the unused successor is re-issued to it.
    clock.advance(5);
    const attacker = await refresh(grace, stolen.refresh_token!);
    assert.equal(attacker.status, 200, JSON.stringify(attacker.body));
    // The victim then uses its copy: the family moved away from it, so the whole grant dies.
    clock.advance(5);
    const victimNext = await refresh(grace, victim.body.refresh_token);
    assert.equal(victimNext.body.error, 'invalid_grant');
    assert.match(victimNext.body.error_description, /already used.*every token of this grant is now revoked/);
    const dead = await refresh(grace, attacker.body.refresh_token);
    assert.equal(dead.body.error, 'invalid_grant', "the attacker's token is dead");
    assert.match(dead.body.error_description, /revoked/);
    assert.equal((await oidc.tokenIntrospection(webGrace, attacker.body.access_token)).active, false);
    const grantId = decodeJwt(attacker.body.access_token).gid;
    const reuse = events.events.find((e) => e.type === 'refresh_token.reuse' && e.details?.grant_id === grantId);
    assert.equal(reuse?.details?.token, 'replaced');
  });

  it('grace on: retries that arrive before the re-issue commits get one new successor between them', async () => {
    const t = await tokensFor(grace, webGrace);
    await refresh(grace, t.refresh_token!); // lost
    clock.advance(2);
    const results = await concurrently(grace, t.refresh_token!, 6, () => refresh(grace, t.refresh_token!));
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, JSON.stringify(results.map((r) => r.body.error_description ?? 'ok')));
    for (const r of results.filter((x) => x.status !== 200)) assert.match(r.body.error_description, /concurrent request/);
    assert.equal((await refresh(grace, ok[0]!.body.refresh_token)).status, 200, 'the family is healthy');
  });
});

describe(
  'refresh tokens across two processes on one PostgreSQL',
  { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL: the embedded database serves one process' },
  () => {
    let a: TestServer;
    let b: TestServer;
    before(async () => {
      a = await startServer({ bootstrap });
      b = await startServer({ shareDatabaseWith: a });
    });
    after(async () => {
      await b.close();
      await a.close();
    });

    it('20 concurrent refreshes spread over both mint exactly one successor', async () => {
      const web = await oidc.discovery(new URL(a.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), insecure);
      const t = await tokensFor(a, web);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => refresh(i % 2 ? a : b, t.refresh_token!)));
      assert.equal(results.filter((r) => r.status === 200).length, 1);
    });

    // The hot statements run as prepared statements (src/store/db.ts); one that selected `*` would
    // fail with "cached plan must not change result type" in every running server once a rolling
    // upgrade's migration adds a column.
    it('servers keep working when a migration adds columns under them (prepared statements)', async () => {
      const web = await oidc.discovery(new URL(a.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), insecure);
      // Prepare the statements on every pooled connection of both servers.
      let t = await tokensFor(a, web);
      for (let i = 0; i < 12; i++) {
        const r = await refresh(i % 2 ? a : b, t.refresh_token!);
        assert.equal(r.status, 200);
        t = { ...t, refresh_token: (r.body as { refresh_token: string }).refresh_token } as typeof t;
      }
      const tables = ['refresh_tokens', 'authorization_codes', 'grants', 'users', 'sessions'];
      await a.ctx.db.exec(tables.map((t) => `ALTER TABLE ${t} ADD COLUMN upgrade_probe text;`).join(' '));
      try {
        for (const server of [a, b]) {
          const config = await oidc.discovery(new URL(server.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), insecure);
          let fresh = await tokensFor(server, config);
          for (let i = 0; i < 12; i++) {
            const r = await refresh(server, fresh.refresh_token!);
            assert.equal(r.status, 200, JSON.stringify(r.body));
            fresh = { ...fresh, refresh_token: (r.body as { refresh_token: string }).refresh_token } as typeof fresh;
          }
        }
      } finally {
        await a.ctx.db.exec(tables.map((t) => `ALTER TABLE ${t} DROP COLUMN upgrade_probe;`).join(' '));
      }
    });
  },
);

describe(
  'refresh tokens with a grace window across two processes on one PostgreSQL',
  { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL: the embedded database serves one process' },
  () => {
    const clock = new ManualClock();
    let a: TestServer;
    let b: TestServer;
    before(async () => {
      a = await startServer({ clock, bootstrap, env: { REFRESH_TOKEN_GRACE: '30' } });
      b = await startServer({ clock, shareDatabaseWith: a, env: { REFRESH_TOKEN_GRACE: '30' } });
    });
    after(async () => {
      await b.close();
      await a.close();
    });

    it("an attacker's replay in the window at one process, then the victim's successor at the other: the whole grant is revoked", async () => {
      const web = await oidc.discovery(new URL(a.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), insecure);
      const stolen = await tokensFor(a, web);
      const victim = await refresh(a, stolen.refresh_token!);
      assert.equal(victim.status, 200);
      clock.advance(5);
      const attacker = await refresh(b, stolen.refresh_token!);
      assert.equal(attacker.status, 200, JSON.stringify(attacker.body));
      clock.advance(5);
      const victimNext = await refresh(a, victim.body.refresh_token);
      assert.match(victimNext.body.error_description, /already used.*every token of this grant is now revoked/);
      assert.equal((await refresh(b, attacker.body.refresh_token)).body.error, 'invalid_grant', "the attacker's token is dead");
    });

    it('retries in the window that all reach the row before the re-issue commits, spread over both: one new successor', async () => {
      const web = await oidc.discovery(new URL(a.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), insecure);
      const t = await tokensFor(a, web);
      await refresh(a, t.refresh_token!); // lost
      clock.advance(2);
      // Hold the old token's row until each of the six retries has either been answered (a retry
      // that finds another retry's re-issue in flight in its own process is refused at once) or
      // is waiting for the row (seen from another session).
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const held = a.ctx.db.transaction(async (tx) => {
        await tx.query('SELECT 1 FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE', [hashToken(t.refresh_token!)]);
        locked();
        await released;
      });
      await isLocked;
      let answered = 0;
      const sent = Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          refresh(i % 2 ? a : b, t.refresh_token!).then((r) => {
            answered++;
            return r;
          }),
        ),
      );
      try {
        await waitUntil('every retry answered or waiting for the row', async () => {
          const r = await b.ctx.db.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%refresh_tokens%'",
          );
          const waiting = Number(r.rows[0]!.n);
          return waiting > 0 && waiting + answered >= 6;
        });
      } finally {
        release();
        await held;
      }
      const all = await sent;
      const ok = all.filter((r) => r.status === 200);
      assert.equal(ok.length, 1, JSON.stringify(all.map((r) => r.body.error_description ?? 'ok')));
      for (const r of all.filter((x) => x.status !== 200)) assert.match(r.body.error_description, /concurrent request/);
      assert.equal((await refresh(b, ok[0]!.body.refresh_token)).status, 200, 'the family is healthy');
    });
  },
);
