import { z } from 'zod';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { AdminRouteOptions } from './plugin.js';
import { actorOf } from './plugin.js';
import { decodeCursor, pageFrom, pageOf, pageQuery } from './pagination.js';
import { parseGrantId } from '../services/grants.js';

export const grantViewSchema = z
  .object({
    id: z.string().describe('<sub>.<client_id>'),
    sub: z.string(),
    username: z.string(),
    client_id: z.string(),
    consent: z
      .array(
        z.object({
          resource: z.string().nullable().describe('null: the OpenID scopes'),
          scopes: z.array(z.string()),
          updated_at: z.string(),
        }),
      )
      .describe('the consent remembered (empty for a client that skips consent)'),
    token_families: z
      .array(z.object({ id: z.string().describe('the gid its tokens carry'), created_at: z.string(), expires_at: z.string() }))
      .describe('live grants: a refresh token chain each, and the access tokens carrying its gid'),
  })
  .meta({ id: 'Grant' });

const idParams = z.object({ id: z.string().min(1).max(600).describe('<sub>.<client_id>') });
const grantsQuery = pageQuery.extend({
  sub: z.string().min(1).max(255).optional().describe("only this user's grants"),
  client_id: z.string().min(1).max(255).optional().describe('only grants to this client'),
});

/** /grants: what users gave clients (consent and token families), listed and revoked. */
export const grantsRoutes: FastifyPluginCallbackZod<AdminRouteOptions> = (app, { services }, done) => {
  const tags = ['grants'];
  app.get(
    '/grants',
    {
      schema: {
        tags,
        summary: "List users' grants to clients: consent and live token families",
        querystring: grantsQuery,
        response: { 200: pageOf(grantViewSchema) },
      },
    },
    async (req) => {
      const { cursor, limit, sub, client_id } = req.query;
      const after = decodeCursor(cursor, (k) => parseGrantId(k) !== undefined);
      const rows = await services.grants.list({ sub, clientId: client_id, after, limit });
      return pageFrom(
        rows,
        limit,
        (g) => g.id,
        (g) => g,
      );
    },
  );
  app.get(
    '/grants/:id',
    { schema: { tags, summary: "Read a user's grant to a client", params: idParams, response: { 200: grantViewSchema } } },
    async (req) => services.grants.get(req.params.id),
  );
  app.delete(
    '/grants/:id',
    {
      schema: {
        tags,
        summary: 'Revoke the grant: consent withdrawn, every refresh and access token of it dead',
        description: 'The same as `latchkey users revoke-consent USER CLIENT`: the consent page is shown again next time.',
        params: idParams,
        response: { 204: z.undefined().describe('revoked') },
      },
    },
    async (req, reply) => {
      await services.grants.revoke(req.params.id, actorOf(req));
      return reply.code(204).send();
    },
  );
  done();
};
