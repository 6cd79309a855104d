import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import * as oidc from 'openid-client';
import { ManualClock } from '../../src/clock.js';
import { jsonLogLines, runMain } from '../helpers/cli.js';
import { runServer, type RunningServer } from '../helpers/restartable-server.js';
import { freePort, freshDatabaseEnv } from '../helpers/server.js';
import { signInWithCodeFlow } from '../helpers/sign-in.js';

const CB = 'http://127.0.0.1:8080/cb';
const BYE = 'http://127.0.0.1:8080/bye';
const SECRET = 'web-secret-web-secret-web-secret-0123';
const PASSWORD = 'correct horse battery staple';
const insecure = { execute: [oidc.allowInsecureRequests] };

const bootstrap = {
  clients: [
    {
      client_id: 'web',
      client_secret: SECRET,
      redirect_uris: [CB],
      post_logout_redirect_uris: [BYE],
      grant_types: ['authorization_code'],
      scope: 'openid',
      skip_consent: true,
    },
  ],
  users: [{ username: 'alice', password: PASSWORD, claims: {} }],
};

const jwksOf = async (server: RunningServer) => (await (await fetch(`${server.url}/jwks`)).json()) as JSONWebKeySet;

describe('key rotation keeps every token it signed verifiable: ID tokens too (ID_TOKEN_TTL 3600 > ACCESS_TOKEN_TTL 600)', () => {
  let db: Awaited<ReturnType<typeof freshDatabaseEnv>>;
  let port: number;
  let server: RunningServer | undefined;
  const clock = new ManualClock();

  before(async () => {
    db = await freshDatabaseEnv();
    port = await freePort();
  });
  after(async () => {
    await server?.stop();
    await db.drop();
  });

  it('an ID token issued before `keys rotate` verifies against /jwks until it expires, and logs out with id_token_hint', async () => {
    server = await runServer({ port, dbEnv: db.env, clock, bootstrap });
    const config = await oidc.discovery(new URL(server.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), insecure);
    const { tokens, ua } = await signInWithCodeFlow({
      config,
      baseUrl: server.url,
      redirectUri: CB,
      username: 'alice',
      password: PASSWORD,
      scope: 'openid',
    });
    const idToken = tokens.id_token!;
    const oldKid = decodeProtectedHeader(idToken).kid;
    await server.stop(); // the embedded database has one opener at a time
    server = undefined;

    const cli = await runMain(['keys', 'rotate', '--delay', '0', '--json'], {
      env: { ...db.env, ISSUER: `http://127.0.0.1:${port}`, LOG_LEVEL: 'info' },
    });
    assert.equal(cli.code, 0, cli.stderr);
    const rotation = JSON.parse(cli.stdout) as { retention_seconds: number; keys: { alg: string; retired: string[] }[] };
    assert.equal(rotation.retention_seconds, 3600 + 30 + 30, 'ID_TOKEN_TTL + CLOCK_SKEW + KEY_RELOAD_INTERVAL');
    assert.ok(rotation.keys.some((k) => k.retired.includes(oldKid!)));
    const events = jsonLogLines(cli.stderr).filter((l) => l.event === 'key.rotated');
    assert.deepEqual(events.map((e) => e.alg).sort(), ['ES256', 'RS256'], 'one key.rotated event per key');

    // Past the longest access-token lifetime (600 s + skew), well within the ID token's hour.
    clock.advance(1000);
    server = await runServer({ port, dbEnv: db.env, clock });
    const jwks = await jwksOf(server);
    assert.ok(
      jwks.keys.some((k) => k.kid === oldKid),
      'the retired key is still published',
    );
    const { payload } = await jwtVerify(idToken, createLocalJWKSet(jwks), {
      issuer: server.issuer,
      audience: 'web',
      currentDate: new Date(clock.now()),
    });
    assert.equal(typeof payload.sub, 'string');

    const logout = new URL(`${server.url}/end_session`);
    logout.searchParams.set('id_token_hint', idToken);
    logout.searchParams.set('post_logout_redirect_uri', BYE);
    logout.searchParams.set('state', 'xyz');
    const r = await ua.get(logout.toString());
    assert.equal(r.status, 303, await r.text());
    assert.equal(r.headers.get('location'), `${BYE}?state=xyz`);

    // Once the ID token has expired (and the margins have passed), the key leaves /jwks.
    clock.advance(3000);
    await server.ctx.keystore.reload();
    assert.ok(!(await jwksOf(server)).keys.some((k) => k.kid === oldKid), 'gone once every token it signed has expired');
  });
});
