import assert from 'node:assert/strict';
import { randomUUID, type KeyObject } from 'node:crypto';
import * as oidc from 'openid-client';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { accessTokenHash } from '../../src/tokens/dpop-proof.js';
import { pkceAuthorizationUrl } from './oidc.js';
import type { TestServer } from './server.js';
import { UserAgent } from '../support/user-agent.js';
import { formAction, hiddenField } from '../support/html-form.js';

/** What the DPoP tests share: clients, a sign-in, and hand-made proofs for the attacks. */
export const API = 'https://api.example.com';
export const CB = 'http://127.0.0.1:8080/cb';
export const SECRET = 'web-secret-web-secret-web-secret-0123';
export const PASSWORD = 'correct horse battery staple';
export const insecure = { execute: [oidc.allowInsecureRequests] };

export const dpopBootstrap = {
  resources: [{ identifier: API, scopes: ['api:read'] }],
  clients: [
    {
      client_id: 'web',
      client_secret: SECRET,
      redirect_uris: [CB],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid profile offline_access api:read',
      audiences: [API],
      skip_consent: true,
    },
    {
      client_id: 'spa',
      token_endpoint_auth_method: 'none',
      redirect_uris: [CB],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid profile offline_access',
      skip_consent: true,
    },
    { client_id: 'svc', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'api:read', audiences: [API] },
    {
      client_id: 'svc-dpop',
      client_secret: SECRET,
      grant_types: ['client_credentials'],
      scope: 'api:read',
      audiences: [API],
      dpop_bound_access_tokens: true,
    },
  ],
  users: [{ username: 'alice', password: PASSWORD, claims: { name: 'Alice' } }],
};

/** Signs alice in through the login page; returns the callback URL and what its exchange needs. */
export async function signIn(server: TestServer, config: oidc.Configuration, scope: string, extra: Record<string, string> = {}) {
  const { url, verifier, nonce, state } = await pkceAuthorizationUrl(config, CB, { scope, ...extra });
  const ua = new UserAgent();
  let r = await ua.follow(await ua.get(url.toString()), server.url);
  const html = await r.text();
  r = await ua.post(formAction(html, server.url), { username: 'alice', password: PASSWORD, csrf: hiddenField(html, 'csrf') });
  assert.equal(r.status, 303);
  const callback = new URL(r.headers.get('location')!);
  assert.ok(callback.searchParams.get('code'), `a code, not ${callback.toString()}`);
  return { callback, verifier, nonce, state };
}

/** A DPoP key pair as a client holds it, with its public JWK and RFC 7638 thumbprint. */
export interface DpopKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
  jkt: string;
  alg: string;
}

export async function dpopKey(alg: 'ES256' | 'PS256' | 'EdDSA' = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, publicKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256'), alg };
}

/**
 * A hand-made DPoP proof (RFC 9449 §4.2): right by default for `htm` `htu`, each part
 * overridable, so an attack changes exactly one thing.
 */
export async function makeProof(
  key: DpopKey,
  htm: string,
  htu: string,
  o: {
    accessToken?: string;
    claims?: Record<string, unknown>;
    header?: Record<string, unknown>;
    /** Sign with this key instead of `key` (whose public JWK the header still carries). */
    signWith?: CryptoKey | KeyObject;
    alg?: string;
  } = {},
): Promise<string> {
  // A claim overridden with undefined is left out.
  const claims = Object.fromEntries(
    Object.entries<unknown>({
      jti: randomUUID(),
      htm,
      htu,
      iat: Math.floor(Date.now() / 1000),
      ...(o.accessToken !== undefined ? { ath: accessTokenHash(o.accessToken) } : {}),
      ...o.claims,
    }).filter(([, v]) => v !== undefined),
  );
  return new SignJWT(claims)
    .setProtectedHeader({ alg: o.alg ?? key.alg, typ: 'dpop+jwt', jwk: key.jwk, ...o.header })
    .sign(o.signWith ?? key.privateKey);
}
