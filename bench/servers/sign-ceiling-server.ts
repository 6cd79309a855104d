/**
 * The signing ceiling: a bare Fastify 5 form-POST route that signs one ES256 JWT access token per
 * request with `crypto.sign` over a KeyObject (dsaEncoding 'ieee-p1363', the JWS form of an ECDSA
 * signature, RFC 7518 §3.4) — and does nothing else: no client authentication, no storage, no
 * policy. The physical limit of a Node process that issues one token per request on this machine;
 * a real server can approach it, not pass it.
 *
 * The token has what RFC 9068 (JWT profile for OAuth 2.0 access tokens) requires and what
 * Latchkey's client_credentials tokens carry: header typ "at+jwt", alg ES256, kid; claims iss,
 * sub, aud, client_id, scope, iat, exp, jti (a fresh UUID). The client id is read from the Basic
 * header without checking the secret; `scope` comes from the form body.
 *
 *   PORT=… node --import tsx bench/servers/sign-ceiling-server.ts
 *
 * Ready when GET /readyz answers 200.
 */
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import formbody from '@fastify/formbody';
import Fastify from 'fastify';

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error('PORT must be set');

const issuer = `http://127.0.0.1:${port}`;
const audience = process.env.BENCH_AUDIENCE || 'https://api.example.com';
const ACCESS_TOKEN_TTL = 600;

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const kid = randomUUID();
// The header never changes: serialised once.
const encodedHeader = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid })).toString('base64url');

function clientIdFrom(authorization: string | undefined): string {
  if (!authorization?.startsWith('Basic ')) return 'anonymous';
  const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return decodeURIComponent(colon < 0 ? decoded : decoded.slice(0, colon));
}

const app = Fastify({ logger: false });
await app.register(formbody);

app.get('/readyz', () => ({ status: 'ok' }));

app.post('/token', async (req, reply) => {
  const body = req.body as Record<string, string> | undefined;
  const clientId = clientIdFrom(req.headers.authorization);
  const scope = body?.scope;
  const iat = Math.floor(Date.now() / 1000);
  const payload = {
    iss: issuer,
    sub: clientId,
    aud: audience,
    client_id: clientId,
    ...(scope ? { scope } : {}),
    iat,
    exp: iat + ACCESS_TOKEN_TTL,
    jti: randomUUID(),
  };
  const signingInput = `${encodedHeader}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const signature = sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  reply.header('cache-control', 'no-store');
  return {
    access_token: `${signingInput}.${signature.toString('base64url')}`,
    token_type: 'Bearer',
    expires_in: ACCESS_TOKEN_TTL,
    ...(scope ? { scope } : {}),
  };
});

await app.listen({ port, host: '127.0.0.1' });
const stop = () => void app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
