import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { jsonLogLines, runMain } from '../helpers/cli.js';
import { runServer, type RunningServer } from '../helpers/restartable-server.js';
import { freePort, freshDatabaseEnv } from '../helpers/server.js';
import { signInWithCodeFlow } from '../helpers/sign-in.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';

const API = 'https://api.example.com';
const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'web-secret-web-secret-web-secret-0123';
const OLD_PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a brand new passphrase';
const insecure = { execute: [oidc.allowInsecureRequests] };

const bootstrap = {
  resources: [{ identifier: API, scopes: ['api:read'] }],
  clients: [
    {
      client_id: 'web',
      client_secret: SECRET,
      redirect_uris: [CB],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid offline_access api:read',
      audiences: [API],
      skip_consent: true,
    },
  ],
  users: [{ username: 'alice', password: OLD_PASSWORD, claims: {} }],
};

describe('latchkey users set-password takes back what the old password gave', () => {
  let db: Awaited<ReturnType<typeof freshDatabaseEnv>>;
  let port: number;
  let server: RunningServer | undefined;

  before(async () => {
    db = await freshDatabaseEnv();
    port = await freePort();
  });
  after(async () => {
    await server?.stop();
    await db.drop();
  });

  it('the refresh token gets invalid_grant, the access token introspects inactive, the session ends', async () => {
    server = await runServer({ port, dbEnv: db.env, bootstrap });
    const config = await oidc.discovery(new URL(server.issuer), 'web', undefined, oidc.ClientSecretBasic(SECRET), insecure);
    const { tokens, ua } = await signInWithCodeFlow({
      config,
      baseUrl: server.url,
      redirectUri: CB,
      username: 'alice',
      password: OLD_PASSWORD,
      scope: 'openid offline_access api:read',
    });
    assert.ok(tokens.refresh_token, 'a refresh token was issued');
    assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, true);
    // The embedded database has one opener at a time: the CLI runs while the server is stopped.
    await server.stop();
    server = undefined;

    const cli = await runMain(['users', 'set-password', 'alice', '--password-stdin', '--json'], {
      env: { ...db.env, ISSUER: `http://127.0.0.1:${port}`, LOG_LEVEL: 'info' },
      input: `${NEW_PASSWORD}\n`,
    });
    assert.equal(cli.code, 0, cli.stderr);
    const out = JSON.parse(cli.stdout) as { grants_revoked: number; sessions_ended: number };
    assert.equal(out.grants_revoked, 1);
    assert.equal(out.sessions_ended, 1);
    // One security event line, with identifiers only.
    const events = jsonLogLines(cli.stderr).filter((l) => l.event === 'user.password_changed');
    assert.equal(events.length, 1, cli.stderr);
    assert.equal(events[0]!.grants_revoked, 1);
    assert.ok(!cli.stderr.includes(NEW_PASSWORD), 'the password is not logged');

    server = await runServer({ port, dbEnv: db.env });
    await assert.rejects(
      oidc.refreshTokenGrant(config, tokens.refresh_token),
      (err: unknown) => err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant',
    );
    assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, false);
    // The browser that signed in with the old password is signed out.
    const silent = await pkceAuthorizationUrl(config, CB, { prompt: 'none', scope: 'openid' });
    const r = await ua.get(silent.url.toString());
    assert.equal(new URL(r.headers.get('location')!).searchParams.get('error'), 'login_required');
  });
});
