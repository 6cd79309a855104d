import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { runMain } from '../helpers/cli.js';
import { pkceAuthorizationUrl } from '../helpers/oidc.js';
import { runServer, type RunningServer } from '../helpers/restartable-server.js';
import { freePort, freshDatabaseEnv, postForm } from '../helpers/server.js';
import { signInWithCodeFlow } from '../helpers/sign-in.js';
import { waitUntil } from '../helpers/wait.js';
import { basicAuth } from '../support/basic-auth.js';

const API = 'https://api.example.com';
const CB = 'http://127.0.0.1:8080/cb';
const SECRET = 'web-secret-web-secret-web-secret-0123';
const PASSWORD = 'correct horse battery staple';
const SCOPE = 'openid offline_access api:read';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';
const ID = 'urn:ietf:params:oauth:token-type:id_token';
const insecure = { execute: [oidc.allowInsecureRequests] };

const bootstrap = {
  resources: [{ identifier: API, scopes: ['api:read'] }],
  clients: [
    {
      // Asks for consent: the consent rows are part of what must not outlive the client.
      client_id: 'web',
      client_secret: SECRET,
      redirect_uris: [CB],
      grant_types: ['authorization_code', 'refresh_token', TOKEN_EXCHANGE],
      scope: SCOPE,
      audiences: [API],
      token_exchange_impersonation: true,
    },
    { client_id: 'svc', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'api:read', audiences: [API] },
    {
      // The API's own client: introspects tokens for API, exchanges them.
      client_id: 'gateway',
      client_secret: SECRET,
      grant_types: [TOKEN_EXCHANGE],
      scope: 'api:read',
      audiences: [API],
      token_exchange_impersonation: true,
    },
  ],
  users: [{ username: 'alice', password: PASSWORD, claims: { name: 'Alice' } }],
};

describe('revoking consent and deleting a client end every token they gave (tombstones)', () => {
  let db: Awaited<ReturnType<typeof freshDatabaseEnv>>;
  let port: number;
  let server: RunningServer | undefined;

  before(async () => {
    db = await freshDatabaseEnv();
    port = await freePort();
    server = await runServer({ port, dbEnv: db.env, bootstrap });
  });
  after(async () => {
    await server?.stop();
    await db.drop();
  });

  const url = () => server!.url;
  const config = (id: string) => oidc.discovery(new URL(server!.issuer), id, undefined, oidc.ClientSecretBasic(SECRET), insecure);
  const introspect = async (as: string, token: string) =>
    (await postForm(`${url()}/introspect`, { token }, { authorization: basicAuth(as, SECRET) })).body as { active: boolean };
  const exchange = (as: string, params: Record<string, string>) =>
    postForm(`${url()}/token`, { grant_type: TOKEN_EXCHANGE, resource: API, ...params }, { authorization: basicAuth(as, SECRET) });
  const serviceToken = async () => {
    const res = await postForm(`${url()}/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth('svc', SECRET) });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.access_token as string;
  };
  const signIn = async () =>
    signInWithCodeFlow({
      config: await config('web'),
      baseUrl: url(),
      redirectUri: CB,
      username: 'alice',
      password: PASSWORD,
      scope: SCOPE,
    });
  /** The embedded database has one opener at a time: the CLI runs while the server is stopped. */
  const cli = async (args: string[]) => {
    await server!.stop();
    server = undefined;
    const run = await runMain([...args, '--json'], { env: { ...db.env, ISSUER: `http://127.0.0.1:${port}`, LOG_LEVEL: 'silent' } });
    server = await runServer({ port, dbEnv: db.env });
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as Record<string, unknown>;
  };

  it('users revoke-consent: tokens exchanged from the grant (access token or ID token) are inactive and cannot be re-minted', async () => {
    const { tokens } = await signIn();
    const exchanged = await exchange('gateway', { subject_token: tokens.access_token, subject_token_type: AT });
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
    const fromIdToken = await exchange('web', { subject_token: tokens.id_token!, subject_token_type: ID });
    assert.equal(fromIdToken.status, 200, JSON.stringify(fromIdToken.body));
    assert.equal((await introspect('gateway', exchanged.body.access_token)).active, true);
    assert.equal((await introspect('web', fromIdToken.body.access_token)).active, true);

    assert.equal((await cli(['users', 'revoke-consent', 'alice', 'web'])).consent_revoked, true);

    assert.deepEqual(await introspect('gateway', exchanged.body.access_token), { active: false });
    assert.deepEqual(await introspect('web', fromIdToken.body.access_token), { active: false });
    for (const [as, subject, type] of [
      ['gateway', tokens.access_token, AT],
      ['gateway', exchanged.body.access_token as string, AT],
      ['web', tokens.id_token!, ID],
    ] as const) {
      const again = await exchange(as, { subject_token: subject, subject_token_type: type });
      assert.equal(again.status, 400, JSON.stringify(again.body));
      assert.equal(again.body.error, 'invalid_request');
      assert.match(again.body.error_description, /subject_token has been revoked/);
    }
    await assert.rejects(oidc.refreshTokenGrant(await config('web'), tokens.refresh_token!), (err: unknown) => {
      return err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant';
    });
  });

  it('clients delete: earlier access tokens die everywhere; consents, grants and refresh tokens go; re-creating the id brings none back', async () => {
    const { tokens, ua } = await signIn();
    const svcToken = await serviceToken();
    const exchanged = await exchange('gateway', { subject_token: tokens.access_token, subject_token_type: AT });
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
    // The service impersonated by another client: the token is the gateway's, its subject is svc.
    const asService = await exchange('gateway', { subject_token: svcToken, subject_token_type: AT });
    assert.equal(asService.status, 200, JSON.stringify(asService.body));
    const userinfo = () => fetch(`${url()}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal((await userinfo()).status, 200);
    for (const t of [tokens.access_token, svcToken, exchanged.body.access_token as string, asService.body.access_token as string]) {
      assert.equal((await introspect('gateway', t)).active, true);
    }

    assert.deepEqual(await cli(['clients', 'delete', 'web']), { client_id: 'web', deleted: true });
    assert.deepEqual(await cli(['clients', 'delete', 'svc']), { client_id: 'svc', deleted: true });
    const deletedSecond = Math.floor(Date.now() / 1000);

    const dead = async () => {
      // Introspection, by the API's client, which may see every token for API (RFC 7662 §4).
      for (const t of [tokens.access_token, svcToken, exchanged.body.access_token as string, asService.body.access_token as string]) {
        assert.deepEqual(await introspect('gateway', t), { active: false });
      }
      const info = await userinfo();
      assert.equal(info.status, 401);
      assert.match(info.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      const ofService = await exchange('gateway', { subject_token: svcToken, subject_token_type: AT });
      assert.equal(ofService.status, 400, JSON.stringify(ofService.body));
      assert.match(ofService.body.error_description, /subject_token was issued to a client that has since been deleted/);
      const ofUser = await exchange('gateway', { subject_token: tokens.access_token, subject_token_type: AT });
      assert.equal(ofUser.status, 400, JSON.stringify(ofUser.body));
      assert.match(ofUser.body.error_description, /subject_token has been revoked/);
    };
    await dead();

    // Registered again under the same ids, once the second of the deletion is over (tokens carry
    // whole seconds: one issued in that second could be from before the deletion).
    await waitUntil('the second of the deletion is over', () => Math.floor(Date.now() / 1000) > deletedSecond);
    await server!.stop();
    server = await runServer({ port, dbEnv: db.env, bootstrap });
    await dead();
    await assert.rejects(oidc.refreshTokenGrant(await config('web'), tokens.refresh_token!), (err: unknown) => {
      return err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant';
    });
    // Alice's consent did not come back with the id: a silent request must ask for it again.
    const silent = await pkceAuthorizationUrl(await config('web'), CB, { prompt: 'none', scope: SCOPE });
    const r = await ua.get(silent.url.toString());
    assert.equal(new URL(r.headers.get('location')!).searchParams.get('error'), 'consent_required');
    // The new clients' own tokens are live.
    assert.equal((await introspect('gateway', await serviceToken())).active, true);
    const fresh = await signIn();
    assert.equal((await introspect('gateway', fresh.tokens.access_token)).active, true);
  });
});
