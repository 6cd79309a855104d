/**
 * node-oidc-provider (v9, in-memory adapter) configured like Latchkey's bench fixture: the same
 * clients, client_credentials enabled, resource indicators with a default resource, and JWT
 * access tokens signed ES256. Run as a child process by bench/targets.ts:
 *
 *   PORT=… BENCH_FIXTURES=/path/fixtures.json node --import tsx bench/servers/oidc-provider-server.ts
 *
 * Ready when GET /.well-known/openid-configuration answers 200.
 */
import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Fixtures } from '../fixtures.js';

// oidc-provider prints configuration advice (and an "unsupported runtime" notice on Node 20)
// through console.info/console.warn at import and first use; the bench wants quiet children.
// Real failures still reach stderr through the 'server_error' listener below.
console.info = () => {};
console.warn = () => {};
const { default: Provider, errors } = await import('oidc-provider');

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error('PORT must be set');
const fixturesPath = process.env.BENCH_FIXTURES;
if (!fixturesPath) throw new Error('BENCH_FIXTURES must be set');
const fixtures = JSON.parse(readFileSync(fixturesPath, 'utf8')) as Fixtures;

async function signingKey(alg: 'ES256' | 'RS256'): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg, use: 'sig', kid: await calculateJwkThumbprint(jwk) };
}

const resources = new Map(fixtures.resources.map((r) => [r.identifier, r]));
const audiences = new Map(fixtures.clients.map((c) => [c.client_id, c.audiences]));
const ACCESS_TOKEN_TTL = 600;

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: fixtures.clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    grant_types: c.grant_types,
    redirect_uris: [],
    response_types: [],
    scope: c.scope,
    token_endpoint_auth_method: c.token_endpoint_auth_method,
  })),
  // RS256 first: OpenID Connect requires it for ID tokens; ES256 signs the access tokens.
  jwks: { keys: [await signingKey('RS256'), await signingKey('ES256')] },
  scopes: [...new Set(fixtures.resources.flatMap((r) => r.scopes))],
  ttl: { AccessToken: ACCESS_TOKEN_TTL, ClientCredentials: ACCESS_TOKEN_TTL },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (_ctx: unknown, client: { clientId: string }, oneOf?: string[]) =>
        oneOf ?? audiences.get(client.clientId)?.[0],
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx: unknown, indicator: string, client: { clientId: string }) => {
        const resource = resources.get(indicator);
        if (!resource || !audiences.get(client.clientId)?.includes(indicator)) throw new errors.InvalidTarget();
        return {
          scope: resource.scopes.join(' '),
          accessTokenTTL: ACCESS_TOKEN_TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
});

provider.silent = true; // Koa: don't print every error
provider.on('server_error', (_ctx, err) => {
  process.stderr.write(`oidc-provider server_error: ${(err as Error)?.stack ?? String(err)}\n`);
});

const server = provider.listen(port, '127.0.0.1');
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
