import type { FastifyInstance, FastifyPluginAsync, FastifyPluginCallback } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { AdminServices } from '../services/index.js';
import type { Actor } from '../services/audit.js';
import { AdminError } from '../services/errors.js';
import { ADMIN_READ_SCOPE, ADMIN_SCOPE, adminAudience, authenticateAdmin, type AdminAuthDeps } from './auth.js';
import { MERGE_PATCH } from './merge-patch.js';
import { sendProblem } from './problem.js';
import { referencePage } from './reference.js';
import { eventsRoutes } from './events.js';
import { clientsRoutes } from './clients.js';
import { keysRoutes } from './keys.js';
import { resourcesRoutes, trustedIssuersRoutes } from './resources.js';
import { grantsRoutes } from './grants.js';
import { sessionsRoutes } from './sessions.js';
import { usersRoutes } from './users.js';
import { trackRouteMethods } from '../../endpoints/route-methods.js';

export const ADMIN_API_PREFIX = '/admin/api/v1';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling the admin API (set by its authentication hook; null elsewhere). */
    adminActor: Actor | null;
  }
}

/** What each collection's routes receive. */
export interface AdminRouteOptions {
  services: AdminServices;
}

export interface AdminApiOptions extends AdminRouteOptions {
  auth: AdminAuthDeps;
  bodyLimit: number;
}

/**
 * The collections, each a plugin of routes only (validation, storage and audit live in
 * src/admin/services/). A new collection is one more entry here.
 */
export const ADMIN_COLLECTIONS: FastifyPluginCallback<AdminRouteOptions>[] = [
  clientsRoutes,
  resourcesRoutes,
  trustedIssuersRoutes,
  keysRoutes,
  eventsRoutes,
  usersRoutes,
  sessionsRoutes,
  grantsRoutes,
];

/** The caller of a route behind the authentication hook. */
export function actorOf(req: { adminActor: Actor | null }): Actor {
  if (!req.adminActor) throw new AdminError('unauthorized', 'an access token is required');
  return req.adminActor;
}

/**
 * The admin REST API at /admin/api/v1 (docs/contract.md "Admin API"): JSON, validated by zod
 * schemas that also generate its OpenAPI 3.1 document; every error is RFC 9457 problem details;
 * every route but the document and its reference page needs an admin access token.
 */
export const adminApi: FastifyPluginAsync<AdminApiOptions> = async (app, opts) => {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // RFC 7396 §4: PATCH bodies are merge patches; plain application/json is taken too.
  // JSON only: a form or text body answers 415 rather than reaching a schema as a string.
  app.removeContentTypeParser(['text/plain', 'application/x-www-form-urlencoded']);
  app.addContentTypeParser(MERGE_PATCH, { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
  app.decorateRequest('adminActor', null);
  app.setErrorHandler((err, req, reply) => sendProblem(req, reply, err, opts.bodyLimit));

  // 405 for a known path with another method, 404 for an unknown one: both as problem details.
  const allowedMethods = trackRouteMethods(app);
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?', 1)[0] ?? req.url;
    const allowed = allowedMethods(req.url);
    const error = allowed
      ? new AdminError('method_not_allowed', `${req.method} is not allowed here; use ${allowed.join(' or ')}`, [], {
          allow: allowed.join(', '),
        })
      : new AdminError('not_found', `there is no admin API endpoint at ${path}; see ${ADMIN_API_PREFIX}/openapi.json`);
    return sendProblem(req, reply, error, opts.bodyLimit);
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Latchkey admin API',
        version: '1',
        description:
          `Manage this Latchkey server with its own access tokens: get one with the client_credentials grant and ` +
          `resource=${adminAudience(opts.auth.issuer)}, scope ${ADMIN_SCOPE} (read and write) or ${ADMIN_READ_SCOPE} (read only). ` +
          'Errors are RFC 9457 application/problem+json. PATCH takes a JSON merge patch (RFC 7396) and honours If-Match.',
      },
      servers: [{ url: opts.auth.issuer }],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: `An access token for ${adminAudience(opts.auth.issuer)}`,
          },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  app.get('/openapi.json', { schema: { hide: true } }, async (_req, reply) =>
    reply.header('cache-control', 'no-cache').type('application/json; charset=utf-8').serializer(JSON.stringify).send(app.swagger()),
  );
  app.get('/', { schema: { hide: true } }, async (_req, reply) =>
    reply
      .header('content-security-policy', "default-src 'none'; style-src 'self'; frame-ancestors 'none'")
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(referencePage(app.swagger() as unknown as Parameters<typeof referencePage>[0])),
  );

  await app.register(async (secured: FastifyInstance) => {
    secured.addHook('onRequest', async (req) => {
      req.adminActor = await authenticateAdmin(req, opts.auth);
    });
    for (const collection of ADMIN_COLLECTIONS) await secured.register(collection, { services: opts.services });
  });
};
