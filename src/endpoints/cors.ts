import type { FastifyInstance } from 'fastify';
import { ENDPOINT_PATHS } from './paths.js';

/**
 * Browser apps (SPAs, public clients) call these endpoints from their own origin. None of them
 * uses cookies, so any origin may call them without credentials: `*`, never reflected origins.
 * The pages (/authorize, /interaction, /end_session) are navigations and get no CORS at all.
 */
const CORS_PATHS = [
  ENDPOINT_PATHS.token,
  ENDPOINT_PATHS.userinfo,
  ENDPOINT_PATHS.revocation,
  ENDPOINT_PATHS.jwks,
  '/.well-known/openid-configuration',
  '/.well-known/oauth-authorization-server',
];

export function corsEndpoints(app: FastifyInstance): void {
  const paths = new Set<string>(CORS_PATHS);
  app.addHook('onRequest', async (req, reply) => {
    if (paths.has(req.url.split('?', 1)[0] ?? req.url)) reply.header('access-control-allow-origin', '*');
  });
  for (const path of CORS_PATHS) {
    app.options(path, async (_req, reply) =>
      reply
        .code(204)
        .headers({
          'access-control-allow-methods': path.startsWith('/.well-known') || path === ENDPOINT_PATHS.jwks ? 'GET' : 'GET, POST',
          'access-control-allow-headers': 'authorization, content-type, dpop',
          'access-control-max-age': '600',
        })
        .send(),
    );
  }
}
