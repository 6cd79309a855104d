import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export const API = 'https://api.example.com';
export const OTHER_API = 'https://other.example.com';
export const SECRET = 'at-least-32-characters-of-secret-value';

export interface ClientKeys {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function clientKeyPair(alg: 'ES256' | 'RS256' = 'ES256', kid = 'client-key-1'): Promise<ClientKeys> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** The bootstrap most flow tests use: a basic, a post, a JWT and a public client, two resources. */
export function standardBootstrap(jwtKey: JWK) {
  return {
    resources: [
      { identifier: API, scopes: ['api:read', 'api:write'], access_token_ttl: 600 },
      { identifier: OTHER_API, scopes: ['other:read'] },
    ],
    clients: [
      {
        client_id: 'svc-basic',
        client_secret: SECRET,
        client_name: 'Service (basic)',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'api:read api:write other:read',
        audiences: [API, OTHER_API],
      },
      {
        client_id: 'svc-post',
        client_secret: SECRET,
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_post',
        scope: 'api:read',
        audiences: [API],
      },
      {
        client_id: 'svc-jwt',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwtKey] },
        scope: 'api:read',
        audiences: [API],
      },
      {
        client_id: 'public-app',
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'none',
        redirect_uris: ['http://127.0.0.1:8080/callback'],
        scope: 'openid api:read',
        audiences: [API],
      },
    ],
  };
}
