import { z } from 'zod';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { AdminRouteOptions } from './plugin.js';
import { actorOf } from './plugin.js';
import { decodeCursor, pageFrom, pageOf, pageQuery } from './pagination.js';
import type { AdminServices } from '../services/index.js';
import type { DocumentService } from '../services/documents.js';

const ifMatchHeaders = z.object({ 'if-match': z.string().max(1024).optional().describe('the ETag read; 412 when the item changed since') });

/**
 * The routes of a collection of JSON documents (resources, trusted issuers): list, create, get,
 * PATCH (RFC 7396 merge patch, If-Match), DELETE. The id is percent-encoded in the path (it is a URL).
 */
export function documentRoutes<View extends Record<string, unknown>>(d: {
  path: string;
  noun: string;
  idMember: string;
  service: (s: AdminServices) => DocumentService<View>;
  itemSchema: z.ZodType;
  createSchema: z.ZodType;
}): FastifyPluginCallbackZod<AdminRouteOptions> {
  return (app, { services }, done) => {
    const service = d.service(services);
    const tags = [d.path.slice(1)];
    const params = z.object({ id: z.string().min(1).max(2048).describe(`the ${d.idMember}, percent-encoded`) });
    const location = (id: string) => `/admin/api/v1${d.path}/${encodeURIComponent(id)}`;
    app.get(
      d.path,
      { schema: { tags, summary: `List ${d.noun}s (by ${d.idMember})`, querystring: pageQuery, response: { 200: pageOf(d.itemSchema) } } },
      async (req) => {
        const { cursor, limit } = req.query;
        const rows = await service.list(decodeCursor(cursor), limit);
        return pageFrom(
          rows,
          limit,
          (v) => String(v[d.idMember]),
          (v) => v,
        );
      },
    );
    app.post(
      d.path,
      { schema: { tags, summary: `Create a ${d.noun}`, body: d.createSchema, response: { 201: d.itemSchema } } },
      async (req, reply) => {
        const { item, etag, id } = await service.create(req.body, actorOf(req));
        return reply
          .code(201)
          .headers({ etag, location: location(id) })
          .send(item);
      },
    );
    app.get(
      `${d.path}/:id`,
      { schema: { tags, summary: `Read a ${d.noun} (ETag for If-Match)`, params, response: { 200: d.itemSchema } } },
      async (req, reply) => {
        const { item, etag } = await service.get(req.params.id);
        return reply.header('etag', etag).send(item);
      },
    );
    app.patch(
      `${d.path}/:id`,
      {
        schema: {
          tags,
          summary: `Change a ${d.noun} with a JSON merge patch (RFC 7396)`,
          params,
          headers: ifMatchHeaders,
          body: z.record(z.string(), z.unknown()).describe(`a JSON merge patch of the ${d.noun}`),
          response: { 200: d.itemSchema },
        },
      },
      async (req, reply) => {
        const { item, etag } = await service.update(req.params.id, req.body, req.headers['if-match'], actorOf(req));
        return reply.header('etag', etag).send(item);
      },
    );
    app.delete(
      `${d.path}/:id`,
      {
        schema: {
          tags,
          summary: `Delete a ${d.noun}`,
          params,
          headers: ifMatchHeaders,
          response: { 204: z.undefined().describe('deleted') },
        },
      },
      async (req, reply) => {
        await service.delete(req.params.id, req.headers['if-match'], actorOf(req));
        return reply.code(204).send();
      },
    );
    done();
  };
}
