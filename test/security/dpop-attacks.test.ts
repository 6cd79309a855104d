import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { CB, SECRET, dpopBootstrap, dpopKey, insecure, makeProof, signIn, type DpopKey } from '../helpers/dpop.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';

/**
 * Attacks on DPoP (RFC 9449 §11): proofs that must be refused at the token endpoint and at
 * /userinfo, each changing one thing of a proof that is otherwise accepted (the first test of
 * each group shows the unchanged proof passes), and stolen bound tokens, refresh tokens and codes
 * presented with another key. With DATABASE_URL, a proof replayed to a second server process on
 * the same PostgreSQL database is refused too.
 */

interface Answer {
  status: number;
  headers: Headers;
  body: { error?: string; error_description?: string; access_token?: string; token_type?: string; sub?: string };
}

async function send(
  url: string,
  init: { method?: string; headers?: Headers | Record<string, string>; form?: Record<string, string> },
): Promise<Answer> {
  const headers = new Headers(init.headers);
  let body: string | undefined;
  if (init.form) {
    headers.set('content-type', 'application/x-www-form-urlencoded');
    body = new URLSearchParams(init.form).toString();
  }
  const r = await fetch(url, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, ...(body !== undefined ? { body } : {}) });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? (JSON.parse(text) as Answer['body']) : {} };
}

describe('DPoP attacks', () => {
  let server: TestServer;
  let key: DpopKey;
  let tokenUrl: string;
  let userinfoUrl: string;
  /** A DPoP-bound access token for /userinfo (alice, openid), bound to `key`. */
  let bound: string;
  /** The spa's refresh token, bound to `key`. */
  let spaRefresh: string;

  before(async () => {
    server = await startServer({ bootstrap: dpopBootstrap });
    key = await dpopKey();
    tokenUrl = `${server.issuer}/token`;
    userinfoUrl = `${server.issuer}/userinfo`;
    const config = await oidc.discovery(new URL(server.issuer), 'spa', undefined, oidc.None(), insecure);
    const DPoP = oidc.getDPoPHandle(config, { privateKey: key.privateKey, publicKey: key.publicKey });
    const { callback, verifier, nonce, state } = await signIn(server, config, 'openid profile offline_access');
    const tokens = await oidc.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state },
      undefined,
      { DPoP },
    );
    bound = tokens.access_token;
    spaRefresh = tokens.refresh_token!;
    assert.deepEqual(decodeJwt(bound).cnf, { jkt: key.jkt });
  });
  after(() => server.close());

  /** A client_credentials request of "svc" with these DPoP header values. */
  const tokenRequest = (...proofs: string[]) => {
    const headers = new Headers({ authorization: basicAuth('svc', SECRET) });
    for (const p of proofs) headers.append('dpop', p);
    return send(tokenUrl, { headers, form: { grant_type: 'client_credentials' } });
  };

  const refused = (a: Answer, pattern: RegExp, error = 'invalid_dpop_proof') => {
    assert.equal(a.status, 400, JSON.stringify(a.body));
    assert.equal(a.body.error, error);
    assert.match(a.body.error_description!, pattern);
  };

  describe('at the token endpoint', () => {
    it('an honest proof is accepted and binds the token', async () => {
      const a = await tokenRequest(await makeProof(key, 'POST', tokenUrl));
      assert.equal(a.status, 200);
      assert.equal(a.body.token_type, 'DPoP');
      assert.deepEqual(decodeJwt(a.body.access_token!).cnf, { jkt: key.jkt });
    });

    it('a replayed proof (same jti) is refused', async () => {
      const proof = await makeProof(key, 'POST', tokenUrl);
      assert.equal((await tokenRequest(proof)).status, 200);
      refused(await tokenRequest(proof), /already used/);
      // The same jti in a new proof is the same replay (the jti is what is recorded).
      refused(await tokenRequest(await makeProof(key, 'POST', tokenUrl, { claims: { jti: decodeJwt(proof).jti } })), /already used/);
    });

    it('a proof for another method or URL is refused', async () => {
      refused(await tokenRequest(await makeProof(key, 'GET', tokenUrl)), /"htm"|'htm'/);
      refused(await tokenRequest(await makeProof(key, 'POST', `${server.issuer}/userinfo`)), /htu/);
      refused(await tokenRequest(await makeProof(key, 'POST', 'https://elsewhere.example/token')), /htu/);
    });

    it('htu is compared after RFC 3986 normalisation and without query or fragment', async () => {
      const u = new URL(tokenUrl);
      const spelled = `HTTP://${u.host.toUpperCase()}${u.pathname}?x=1#f`;
      assert.equal((await tokenRequest(await makeProof(key, 'POST', spelled))).status, 200);
    });

    it('a stale or future iat is refused', async () => {
      const now = Math.floor(Date.now() / 1000);
      refused(await tokenRequest(await makeProof(key, 'POST', tokenUrl, { claims: { iat: now - 600 } })), /too old/);
      refused(await tokenRequest(await makeProof(key, 'POST', tokenUrl, { claims: { iat: now + 600 } })), /future/);
      refused(await tokenRequest(await makeProof(key, 'POST', tokenUrl, { claims: { iat: undefined } })), /iat/);
    });

    it('a proof signed by another key than its jwk is refused', async () => {
      const other = await dpopKey();
      refused(await tokenRequest(await makeProof(key, 'POST', tokenUrl, { signWith: other.privateKey })), /signature/);
    });

    it('a jwk carrying the private key, a symmetric alg, a wrong typ, no jti, two headers: each refused', async () => {
      const { exportJWK } = await import('jose');
      const priv = await exportJWK(key.privateKey);
      refused(await tokenRequest(await makeProof(key, 'POST', tokenUrl, { header: { jwk: priv } })), /private/);
      const { createSecretKey } = await import('node:crypto');
      const hmac = createSecretKey(Buffer.alloc(32, 1));
      refused(await tokenRequest(await makeProof(key, 'POST', tokenUrl, { alg: 'HS256', signWith: hmac })), /alg/);
      refused(await tokenRequest(await makeProof(key, 'POST', tokenUrl, { header: { typ: 'JWT' } })), /typ/);
      refused(await tokenRequest(await makeProof(key, 'POST', tokenUrl, { claims: { jti: undefined } })), /jti/);
      refused(await tokenRequest(await makeProof(key, 'POST', tokenUrl), await makeProof(key, 'POST', tokenUrl)), /exactly one/);
      refused(await tokenRequest('not-a-jwt'), /compact/);
    });

    it('a nonce this server did not issue gets use_dpop_nonce and a fresh DPoP-Nonce', async () => {
      const a = await tokenRequest(await makeProof(key, 'POST', tokenUrl, { claims: { nonce: 'made-up' } }));
      refused(a, /nonce/, 'use_dpop_nonce');
      const fresh = a.headers.get('dpop-nonce');
      assert.ok(fresh);
      assert.equal((await tokenRequest(await makeProof(key, 'POST', tokenUrl, { claims: { nonce: fresh } }))).status, 200);
    });
  });

  describe('at /userinfo', () => {
    const userinfo = async (authorization: string, ...proofs: string[]) => {
      const headers = new Headers({ authorization });
      for (const p of proofs) headers.append('dpop', p);
      return send(userinfoUrl, { headers });
    };
    const challenged = (a: Answer, error: string, pattern: RegExp) => {
      assert.equal(a.status, 401, JSON.stringify(a.body));
      assert.equal(a.body.error, error);
      assert.match(a.body.error_description!, pattern);
      const challenge = a.headers.get('www-authenticate')!;
      assert.match(challenge, new RegExp(`^DPoP error="${error}"`));
      assert.match(challenge, /algs="[A-Za-z0-9 ]*ES256/);
    };

    it('the bound token with a proof of its key and ath is accepted', async () => {
      const a = await userinfo(`DPoP ${bound}`, await makeProof(key, 'GET', userinfoUrl, { accessToken: bound }));
      assert.equal(a.status, 200);
      assert.ok(a.body.sub);
    });

    it('a proof without ath, or with the hash of another token, is refused', async () => {
      challenged(await userinfo(`DPoP ${bound}`, await makeProof(key, 'GET', userinfoUrl)), 'invalid_dpop_proof', /ath/);
      challenged(
        await userinfo(`DPoP ${bound}`, await makeProof(key, 'GET', userinfoUrl, { accessToken: `${bound}x` })),
        'invalid_dpop_proof',
        /ath/,
      );
    });

    it('the token presented with another key’s proof is refused', async () => {
      const thief = await dpopKey();
      challenged(
        await userinfo(`DPoP ${bound}`, await makeProof(thief, 'GET', userinfoUrl, { accessToken: bound })),
        'invalid_token',
        /another key/,
      );
    });

    it('the DPoP-bound token presented as a bearer token is refused', async () => {
      challenged(await userinfo(`Bearer ${bound}`), 'invalid_token', /DPoP-bound/);
      // A proof alongside does not make a Bearer presentation acceptable.
      challenged(
        await userinfo(`Bearer ${bound}`, await makeProof(key, 'GET', userinfoUrl, { accessToken: bound })),
        'invalid_token',
        /DPoP-bound/,
      );
    });

    it('the DPoP scheme without a proof, a replayed proof, and a wrong htm are refused', async () => {
      challenged(await userinfo(`DPoP ${bound}`), 'invalid_dpop_proof', /DPoP proof/);
      const proof = await makeProof(key, 'GET', userinfoUrl, { accessToken: bound });
      assert.equal((await userinfo(`DPoP ${bound}`, proof)).status, 200);
      challenged(await userinfo(`DPoP ${bound}`, proof), 'invalid_dpop_proof', /already used/);
      challenged(
        await userinfo(`DPoP ${bound}`, await makeProof(key, 'POST', userinfoUrl, { accessToken: bound })),
        'invalid_dpop_proof',
        /htm/,
      );
    });

    it('a request without a token is offered both schemes', async () => {
      const a = await send(userinfoUrl, {});
      assert.equal(a.status, 401);
      assert.match(a.headers.get('www-authenticate')!, /^Bearer realm="latchkey", DPoP algs="/);
    });
  });

  describe('stolen bound credentials', () => {
    const refresh = (token: string, proof?: string) =>
      send(tokenUrl, {
        headers: proof ? { dpop: proof } : {},
        form: { grant_type: 'refresh_token', refresh_token: token, client_id: 'spa' },
      });

    it("a public client's refresh token with another key, or with none, is refused and stays good for its key", async () => {
      const thief = await dpopKey();
      refused(await refresh(spaRefresh, await makeProof(thief, 'POST', tokenUrl)), /another DPoP key/, 'invalid_grant');
      refused(await refresh(spaRefresh), /bound to a DPoP key/, 'invalid_grant');
      const a = await refresh(spaRefresh, await makeProof(key, 'POST', tokenUrl));
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.equal(a.body.token_type, 'DPoP');
    });

    it('a code bound with dpop_jkt is refused with another key’s proof', async () => {
      const config = await oidc.discovery(new URL(server.issuer), 'spa', undefined, oidc.None(), insecure);
      const { callback, verifier } = await signIn(server, config, 'openid', { dpop_jkt: key.jkt });
      const thief = await dpopKey();
      const form = {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code')!,
        redirect_uri: CB,
        code_verifier: verifier,
        client_id: 'spa',
      };
      refused(await send(tokenUrl, { headers: { dpop: await makeProof(thief, 'POST', tokenUrl) }, form }), /another key than the dpop_jkt/);
      // The code is used up by that attempt (RFC 6749 §4.1.2: one redemption).
      refused(await send(tokenUrl, { headers: { dpop: await makeProof(key, 'POST', tokenUrl) }, form }), /./, 'invalid_grant');
    });

    it('a code bound with dpop_jkt is refused without a proof', async () => {
      const config = await oidc.discovery(new URL(server.issuer), 'spa', undefined, oidc.None(), insecure);
      const { callback, verifier } = await signIn(server, config, 'openid', { dpop_jkt: key.jkt });
      const form = {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code')!,
        redirect_uri: CB,
        code_verifier: verifier,
        client_id: 'spa',
      };
      refused(await send(tokenUrl, { form }), /dpop_jkt/);
    });
  });

  describe('replay across processes (PostgreSQL)', { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL' }, () => {
    let second: TestServer;
    before(async () => {
      // A second Latchkey process on the same database, behind the same issuer (a load balancer).
      second = await startServer({ shareDatabaseWith: server, env: { ISSUER: server.issuer } });
    });
    after(() => second.close());

    const at = (s: TestServer, proof: string) =>
      send(`${s.url}/token`, {
        headers: { authorization: basicAuth('svc', SECRET), dpop: proof },
        form: { grant_type: 'client_credentials' },
      });

    it('a proof used at one process is refused at the other', async () => {
      const proof = await makeProof(key, 'POST', tokenUrl);
      assert.equal((await at(server, proof)).status, 200);
      refused(await at(second, proof), /already used/);
    });

    it('of one proof sent to both processes at once, exactly one is accepted', async () => {
      for (let i = 0; i < 5; i++) {
        const proof = await makeProof(key, 'POST', tokenUrl);
        const answers = await Promise.all([at(server, proof), at(second, proof), at(server, proof), at(second, proof)]);
        assert.equal(answers.filter((a) => a.status === 200).length, 1, JSON.stringify(answers.map((a) => a.body.error)));
      }
    });
  });
});
