import { z } from 'zod';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { clientMetadataSchema } from '../../oauth/client-metadata.js';
import type { AdminRouteOptions } from './plugin.js';
import { actorOf } from './plugin.js';
import { decodeCursor, pageFrom, pageOf, pageQuery } from './pagination.js';
import { DEFAULT_SECRET_OVERLAP, MAX_SECRET_OVERLAP } from '../services/clients.js';

/** A client as shown: RFC 7591 metadata (more members than listed here), never a secret or hash. */
export const clientViewSchema = z
  .looseObject({
    client_id: z.string(),
    client_name: z.string().optional(),
    token_endpoint_auth_method: z.string(),
    grant_types: z.array(z.string()),
    redirect_uris: z.array(z.string()),
    scope: z.string(),
    audiences: z.array(z.string()),
    has_client_secret: z.boolean(),
    previous_secret_expires_at: z.string().nullable().describe('until when the secret replaced by the last rotation still works'),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'Client' });

const createdClientSchema = clientViewSchema
  .extend({ client_secret: z.string().optional().describe('shown once, only in this response') })
  .meta({ id: 'CreatedClient' });

/** The bootstrap file's client fields (docs/contract.md "Bootstrap file"), client_id included. */
const createClientBody = clientMetadataSchema.describe('RFC 7591 client metadata, as in the bootstrap file');

const idParams = z.object({ client_id: z.string().min(1).max(255) });
const ifMatchHeaders = z.object({
  'if-match': z.string().max(1024).optional().describe('the ETag read; 412 when the client changed since'),
});

const rotateBody = z
  .strictObject({
    overlap_seconds: z
      .number({ error: 'overlap_seconds must be a whole number of seconds' })
      .int('overlap_seconds must be a whole number of seconds')
      .min(0, 'overlap_seconds must be at least 0')
      .max(MAX_SECRET_OVERLAP, `overlap_seconds must be at most ${MAX_SECRET_OVERLAP} (30 days)`)
      .default(DEFAULT_SECRET_OVERLAP)
      .describe(`how long the old secret keeps working (default ${DEFAULT_SECRET_OVERLAP}: one day; 0: stops now)`),
  })
  .optional();

/** /clients: routes only; src/admin/services/clients.ts validates, stores and audits. */
export const clientsRoutes: FastifyPluginCallbackZod<AdminRouteOptions> = (app, { services }, done) => {
  const tags = ['clients'];
  app.get(
    '/clients',
    { schema: { tags, summary: 'List clients (by client_id)', querystring: pageQuery, response: { 200: pageOf(clientViewSchema) } } },
    async (req) => {
      const { cursor, limit } = req.query;
      const rows = await services.clients.list(decodeCursor(cursor), limit);
      return pageFrom(
        rows,
        limit,
        (c) => c.client_id,
        (c) => c,
      );
    },
  );

  app.post(
    '/clients',
    {
      schema: {
        tags,
        summary: 'Register a client; answers its client_secret once',
        body: createClientBody,
        response: { 201: createdClientSchema },
      },
    },
    async (req, reply) => {
      const { client, etag, clientSecret } = await services.clients.create(req.body, actorOf(req));
      return reply
        .code(201)
        .headers({ etag, location: `/admin/api/v1/clients/${encodeURIComponent(client.client_id)}`, 'cache-control': 'no-store' })
        .send({ ...client, ...(clientSecret ? { client_secret: clientSecret } : {}) });
    },
  );

  app.get(
    '/clients/:client_id',
    { schema: { tags, summary: 'Read a client (ETag for If-Match)', params: idParams, response: { 200: clientViewSchema } } },
    async (req, reply) => {
      const { client, etag } = await services.clients.get(req.params.client_id);
      return reply.header('etag', etag).send(client);
    },
  );

  app.patch(
    '/clients/:client_id',
    {
      schema: {
        tags,
        summary: 'Change a client with a JSON merge patch (RFC 7396) of its metadata',
        description:
          'null removes a member (its default applies); client_id and client_secret cannot be patched. Moving to ' +
          'client_secret_basic/post from a method without a secret generates one, returned once as client_secret.',
        params: idParams,
        headers: ifMatchHeaders,
        body: z.record(z.string(), z.unknown()).describe('a JSON merge patch of the client metadata'),
        response: { 200: createdClientSchema },
      },
    },
    async (req, reply) => {
      const { client, etag, clientSecret } = await services.clients.update(
        req.params.client_id,
        req.body,
        req.headers['if-match'],
        actorOf(req),
      );
      return reply
        .headers({ etag, 'cache-control': 'no-store' })
        .send({ ...client, ...(clientSecret ? { client_secret: clientSecret } : {}) });
    },
  );

  app.delete(
    '/clients/:client_id',
    {
      schema: {
        tags,
        summary: 'Delete a client with its grants, consents and tokens',
        description: 'Its access tokens stop introspecting at once (a tombstone); registering the id again starts from nothing.',
        params: idParams,
        headers: ifMatchHeaders,
        response: { 204: z.undefined().describe('deleted') },
      },
    },
    async (req, reply) => {
      await services.clients.delete(req.params.client_id, req.headers['if-match'], actorOf(req));
      return reply.code(204).send();
    },
  );

  app.post(
    '/clients/:client_id/secret',
    {
      schema: {
        tags,
        summary: "Rotate a client's secret; the old one works for overlap_seconds more",
        params: idParams,
        body: rotateBody,
        response: {
          200: z
            .object({
              client_id: z.string(),
              client_secret: z.string().describe('shown once'),
              client_secret_expires_at: z.literal(0),
              previous_secret_expires_at: z.string().nullable(),
            })
            .meta({ id: 'RotatedSecret' }),
        },
      },
    },
    async (req, reply) => {
      const overlap = req.body?.overlap_seconds ?? DEFAULT_SECRET_OVERLAP;
      const rotated = await services.clients.rotateSecret(req.params.client_id, overlap, actorOf(req));
      return reply.header('cache-control', 'no-store').send(rotated);
    },
  );
  done();
};
