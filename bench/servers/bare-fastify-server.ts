/**
 * The ceiling: a bare Fastify 5 form-POST route with no OAuth work at all. What Latchkey's token
 * endpoint would answer if authenticating the client and signing a token cost nothing.
 *
 *   PORT=… node --import tsx bench/servers/bare-fastify-server.ts
 *
 * Ready when GET /readyz answers 200.
 */
import formbody from '@fastify/formbody';
import Fastify from 'fastify';

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error('PORT must be set');

const app = Fastify({ logger: false });
await app.register(formbody);

app.get('/readyz', () => ({ status: 'ok' }));

app.post('/token', async (req, reply) => {
  const body = req.body as Record<string, string> | undefined;
  reply.header('cache-control', 'no-store');
  return {
    access_token: 'bare-route-ceiling',
    token_type: 'Bearer',
    expires_in: 600,
    ...(body?.scope ? { scope: body.scope } : {}),
  };
});

await app.listen({ port, host: '127.0.0.1' });
const stop = () => void app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
