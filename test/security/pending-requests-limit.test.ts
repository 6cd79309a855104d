import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postForm, startServer, type TestServer } from '../helpers/server.js';

const CB = 'https://app.example.com/cb';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * Anonymous requests must not make the server store rows without limit:
 * sign-in interactions made at /authorize and device codes made at /device_authorization are
 * bounded per address and per client. Behind TRUST_PROXY=1 the test picks each request's address.
 */
describe('pending-request rows are bounded per address and per client', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({
      env: { TRUST_PROXY: '1', AUTHORIZATION_REQUEST_LIMIT_IP: '5', AUTHORIZATION_REQUEST_LIMIT_CLIENT: '8' },
      bootstrap: {
        clients: [
          {
            client_id: 'spa',
            token_endpoint_auth_method: 'none',
            redirect_uris: [CB],
            grant_types: ['authorization_code'],
            scope: 'openid',
          },
          { client_id: 'tv', token_endpoint_auth_method: 'none', grant_types: [DEVICE_GRANT], scope: 'openid' },
        ],
      },
    });
  });
  after(() => server.close());

  const rows = async (table: 'interactions' | 'device_codes') =>
    (await server.ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;

  const authorize = async (address: string, redirectUri = CB) => {
    const q = new URLSearchParams({
      client_id: 'spa',
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'openid',
      state: 'st-1',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGcSMM8-cQ',
      code_challenge_method: 'S256',
    });
    const r = await fetch(`${server.url}/authorize?${q.toString()}`, { redirect: 'manual', headers: { 'x-forwarded-for': address } });
    await r.text();
    return { status: r.status, location: r.headers.get('location') ?? '' };
  };

  it('/authorize: the request past the address limit is refused at the redirect URI and stores nothing', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await authorize('198.51.100.1');
      assert.equal(r.status, 303);
      assert.match(r.location, /\/interaction\//);
    }
    const refused = await authorize('198.51.100.1');
    assert.equal(refused.status, 303);
    const back = new URL(refused.location);
    assert.equal(
      `${back.origin}${back.pathname}`,
      CB,
      'client_id and redirect_uri are valid: the error goes to the client (RFC 6749 §4.1.2.1)',
    );
    assert.equal(back.searchParams.get('error'), 'temporarily_unavailable');
    assert.equal(back.searchParams.get('state'), 'st-1');
    assert.equal(await rows('interactions'), 5);
    // A request whose redirect_uri is wrong gets a page and counts for nothing.
    assert.equal((await authorize('198.51.100.2', 'https://evil.example.com/cb')).status, 400);
  });

  it('/authorize: the client limit holds across addresses', async () => {
    for (let i = 0; i < 3; i++) assert.match((await authorize(`203.0.113.${i + 1}`)).location, /\/interaction\//);
    const refused = new URL((await authorize('203.0.113.99')).location);
    assert.equal(refused.searchParams.get('error'), 'temporarily_unavailable');
    assert.equal(await rows('interactions'), 8, 'rows bounded by the client limit');
  });

  it('/device_authorization: past the address limit, 429 slow_down with Retry-After, and no row', async () => {
    const start = (address: string) =>
      postForm(`${server.url}/device_authorization`, { client_id: 'tv', scope: 'openid' }, { 'x-forwarded-for': address });
    for (let i = 0; i < 5; i++) assert.equal((await start('192.0.2.10')).status, 200);
    const refused = await start('192.0.2.10');
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error, 'slow_down');
    assert.match(refused.headers.get('retry-after') ?? '', /^\d+$/);
    assert.equal(await rows('device_codes'), 5);
    // Other addresses (here one IPv6 /64) count toward the client limit of 8.
    for (let i = 1; i <= 3; i++) assert.equal((await start(`2001:db8:5:6::${i}`)).status, 200);
    assert.equal((await start('2001:db8:5:6::ffff')).status, 429, 'the client limit of 8');
    assert.equal(await rows('device_codes'), 8);
  });
});
