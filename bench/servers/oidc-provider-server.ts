/**
 * node-oidc-provider (v9; in-memory storage, see memory-adapter.ts, or with BENCH_STORAGE=postgres
 * PostgreSQL at DATABASE_URL, see postgres-adapter.ts) configured like Latchkey's
 * bench fixture: the same clients, client_credentials enabled, resource indicators with a default
 * resource, and JWT access tokens signed ES256. Run as a child process by bench/targets.ts:
 *
 *   PORT=… BENCH_FIXTURES=/path/fixtures.json [BENCH_STORAGE=postgres DATABASE_URL=…] \
 *     node --import tsx bench/servers/oidc-provider-server.ts
 *
 * For the code and refresh scenarios it also runs its authorization endpoint with the built-in
 * development interactions (devInteractions: a login form that accepts any username, and a
 * consent form), which the bench drives once to sign a user in and consent; codes are then
 * minted with prompt=none, as for Latchkey. Differences from the defaults, to match Latchkey's
 * behaviour in the bench: authorization codes live 600 s (like AUTHORIZATION_CODE_TTL=600 there),
 * refresh tokens rotate on every use, and clients allowed the refresh_token grant get refresh
 * tokens that do not end with the browser session — what offline_access gives on Latchkey.
 * (oidc-provider drops offline_access from a request without prompt=consent, so a client
 * cannot mint offline tokens silently; issueRefreshToken and expiresWithSession say it instead.)
 *
 * Ready when GET /.well-known/openid-configuration answers 200.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Fixtures } from '../fixtures.js';
import pg from 'pg';
import { BenchMemoryAdapter } from './memory-adapter.js';
import { postgresAdapter, SCHEMA } from './postgres-adapter.js';

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

const storage = process.env.BENCH_STORAGE || 'memory';
if (storage !== 'memory' && storage !== 'postgres') throw new Error(`BENCH_STORAGE must be memory or postgres, not ${storage}`);
let pool: pg.Pool | undefined;
if (storage === 'postgres') {
  if (!process.env.DATABASE_URL) throw new Error('BENCH_STORAGE=postgres needs DATABASE_URL');
  pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.BENCH_PG_POOL) || 10 });
  await pool.query(SCHEMA);
}

async function signingKey(alg: 'ES256' | 'RS256'): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg, use: 'sig', kid: await calculateJwkThumbprint(jwk) };
}

const resources = new Map(fixtures.resources.map((r) => [r.identifier, r]));
const audiences = new Map(fixtures.clients.map((c) => [c.client_id, c.audiences]));
const ACCESS_TOKEN_TTL = 600;

/** Grants oidc-provider knows; clients with others (e.g. the JWT-bearer one) are Latchkey-only. */
const SUPPORTED_GRANTS = new Set(['authorization_code', 'refresh_token', 'client_credentials']);
const clients = fixtures.clients.filter((c) => c.grant_types.every((g) => SUPPORTED_GRANTS.has(g)));

type Client = { clientId: string; grantTypeAllowed(grant: string): boolean };
type CodeLike = { scopes: Set<string> };

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    grant_types: c.grant_types,
    redirect_uris: c.redirect_uris ?? [],
    response_types: c.grant_types.includes('authorization_code') ? ['code'] : [],
    scope: c.scope,
    token_endpoint_auth_method: c.token_endpoint_auth_method,
  })),
  adapter: pool ? postgresAdapter(pool) : BenchMemoryAdapter,
  // RS256 first: OpenID Connect requires it for ID tokens; ES256 signs the access tokens.
  jwks: { keys: [await signingKey('RS256'), await signingKey('ES256')] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', ...new Set(fixtures.resources.flatMap((r) => r.scopes))],
  ttl: { AccessToken: ACCESS_TOKEN_TTL, ClientCredentials: ACCESS_TOKEN_TTL, AuthorizationCode: 600 },
  rotateRefreshToken: true,
  issueRefreshToken: (_ctx: unknown, client: Client) => Promise.resolve(client.grantTypeAllowed('refresh_token')),
  expiresWithSession: (ctx: { oidc: { client: Client } }, code: CodeLike) =>
    Promise.resolve(!code.scopes.has('offline_access') && !ctx.oidc.client.grantTypeAllowed('refresh_token')),
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (_ctx: unknown, client: { clientId: string }, oneOf?: string[]) => oneOf ?? audiences.get(client.clientId)?.[0],
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
  process.stderr.write(`oidc-provider server_error: ${err instanceof Error && err.stack !== undefined ? err.stack : String(err)}\n`);
});

const server = provider.listen(port, '127.0.0.1');
const stop = () => server.close(() => void (pool?.end() ?? Promise.resolve()).finally(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
