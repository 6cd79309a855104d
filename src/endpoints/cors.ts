import type { FastifyInstance } from 'fastify';
import fastifyCors, { type FastifyCorsOptions } from '@fastify/cors';
import { ENDPOINT_PATHS } from './paths.js';

/**
 * Browser apps (SPAs, public clients) call these endpoints from their own origin. None of them
 * uses cookies, so any origin may call them without credentials: `*`, never reflected origins
 * (so no `Vary: Origin` either). The pages (/authorize, /interaction, /end_session) are
 * navigations and get no CORS at all.
 */
const CORS_PATHS = [
  ENDPOINT_PATHS.token,
  ENDPOINT_PATHS.userinfo,
  ENDPOINT_PATHS.revocation,
  ENDPOINT_PATHS.jwks,
  '/.well-known/openid-configuration',
  '/.well-known/oauth-authorization-server',
];

function corsFor(path: string): FastifyCorsOptions {
  return {
    origin: '*',
    credentials: false,
    methods: path.startsWith('/.well-known') || path === ENDPOINT_PATHS.jwks ? 'GET' : 'GET, POST',
    allowedHeaders: 'authorization, content-type, dpop',
    // RFC 9449 §8: a browser client must read the nonce a use_dpop_nonce answer carries.
    exposedHeaders: 'dpop-nonce, www-authenticate',
    maxAge: 600,
  };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** @fastify/cors reads a route's own options here (typed now that @fastify/swagger declares members too). */
    cors?: FastifyCorsOptions;
  }
}

/**
 * @fastify/cors, off by default (`origin: false`) and switched on per route through route config
 * for CORS_PATHS, set by an onRoute hook so the endpoint modules need not know. Call before the
 * endpoints are registered. Each CORS path also gets an OPTIONS route so its preflight carries the
 * route's config; the plugin's hook answers it (204) before the handler. strictPreflight is off: an
 * OPTIONS without Origin is answered like a preflight, as before, not with a text/plain 400.
 */
export async function corsEndpoints(app: FastifyInstance): Promise<void> {
  await app.register(fastifyCors, { origin: false, strictPreflight: false, hideOptionsRoute: true });
  const paths = new Set<string>(CORS_PATHS);
  app.addHook('onRoute', (route) => {
    if (paths.has(route.url)) route.config = { ...route.config, cors: corsFor(route.url) };
  });
  for (const path of CORS_PATHS) app.options(path, async (_req, reply) => reply.code(204).send());
}
