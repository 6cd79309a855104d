import { z } from 'zod';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { AdminRouteOptions } from './plugin.js';
import { actorOf } from './plugin.js';
import { decodeCursor, pageFrom, pageOf, pageQuery } from './pagination.js';

export const sessionViewSchema = z
  .object({
    id: z.string().describe('the SHA-256 of the session cookie (never the cookie itself)'),
    sub: z.string(),
    username: z.string(),
    auth_time: z.string().describe('when the user signed in'),
    created_at: z.string(),
    expires_at: z.string(),
  })
  .meta({ id: 'Session' });

const idParams = z.object({ id: z.string().min(1).max(100) });
const sessionsQuery = pageQuery.extend({ sub: z.string().min(1).max(255).optional().describe("only this user's sessions") });

/** /sessions: browser sessions, listed and ended. */
export const sessionsRoutes: FastifyPluginCallbackZod<AdminRouteOptions> = (app, { services }, done) => {
  const tags = ['sessions'];
  app.get(
    '/sessions',
    { schema: { tags, summary: 'List live browser sessions', querystring: sessionsQuery, response: { 200: pageOf(sessionViewSchema) } } },
    async (req) => {
      const { cursor, limit, sub } = req.query;
      const rows = await services.sessions.list({ sub, after: decodeCursor(cursor), limit });
      return pageFrom(
        rows,
        limit,
        (s) => s.id,
        (s) => s,
      );
    },
  );
  app.get(
    '/sessions/:id',
    { schema: { tags, summary: 'Read a live session', params: idParams, response: { 200: sessionViewSchema } } },
    async (req) => services.sessions.get(req.params.id),
  );
  app.delete(
    '/sessions/:id',
    {
      schema: {
        tags,
        summary: 'End a session: its cookie signs no one in any more',
        description: 'Tokens obtained through it stay valid; revoke them with DELETE /grants/{id}.',
        params: idParams,
        response: { 204: z.undefined().describe('ended') },
      },
    },
    async (req, reply) => {
      await services.sessions.end(req.params.id, actorOf(req));
      return reply.code(204).send();
    },
  );
  done();
};
