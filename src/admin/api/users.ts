import { z } from 'zod';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { AdminRouteOptions } from './plugin.js';
import { ADMIN_API_PREFIX, actorOf } from './plugin.js';
import { decodeCursor, pageFrom, pageOf, pageQuery } from './pagination.js';
import { newUserSchema } from '../services/users.js';

/** A user as shown: never a password or its hash. */
export const userViewSchema = z
  .object({
    id: z.string().describe("the user's OIDC sub: random, stable, never reused"),
    username: z.string(),
    claims: z
      .record(z.string(), z.unknown())
      .describe('OIDC Core §5.1 standard claims and custom claims (any JSON value; 8 KiB in all, nesting at most 5 deep)'),
    roles: z.array(z.string()).describe('e.g. ["admin"]: lets the user into the admin console'),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'User' });

const idParams = z.object({ id: z.string().min(1).max(255).describe("the user's sub") });
const ifMatchHeaders = z.object({
  'if-match': z.string().max(1024).optional().describe('the ETag read; 412 when the user changed since'),
});
const usersQuery = pageQuery.extend({
  username: z.string().min(1).max(100).optional().describe('only the user of this name (whatever its case)'),
});
const location = (id: string) => `${ADMIN_API_PREFIX}/users/${encodeURIComponent(id)}`;

/** /users: routes only; src/admin/services/users.ts validates, stores and audits. */
export const usersRoutes: FastifyPluginCallbackZod<AdminRouteOptions> = (app, { services }, done) => {
  const tags = ['users'];
  app.get(
    '/users',
    {
      schema: {
        tags,
        summary: 'List users (by username, whatever its case)',
        querystring: usersQuery,
        response: { 200: pageOf(userViewSchema) },
      },
    },
    async (req) => {
      const { cursor, limit, username } = req.query;
      const rows = await services.users.list({ username, after: decodeCursor(cursor), limit });
      return pageFrom(
        rows,
        limit,
        (r) => r.key,
        (r) => r.view,
      );
    },
  );

  app.post(
    '/users',
    {
      schema: {
        tags,
        summary: 'Create a user',
        description: 'Without password the user cannot sign in until POST /users/{id}/password sets one.',
        body: newUserSchema,
        response: { 201: userViewSchema },
      },
    },
    async (req, reply) => {
      const { user, etag } = await services.users.create(req.body, actorOf(req));
      return reply
        .code(201)
        .headers({ etag, location: location(user.id) })
        .send(user);
    },
  );

  app.get(
    '/users/:id',
    { schema: { tags, summary: 'Read a user (ETag for If-Match)', params: idParams, response: { 200: userViewSchema } } },
    async (req, reply) => {
      const { user, etag } = await services.users.get(req.params.id);
      return reply.header('etag', etag).send(user);
    },
  );

  app.patch(
    '/users/:id',
    {
      schema: {
        tags,
        summary: 'Change a user with a JSON merge patch (RFC 7396): username, claims, roles',
        description:
          'claims merge member by member (null removes one); roles are replaced whole. id, created_at and updated_at ' +
          'cannot change; the password changes only through POST /users/{id}/password.',
        params: idParams,
        headers: ifMatchHeaders,
        body: z.record(z.string(), z.unknown()).describe('a JSON merge patch of the user'),
        response: { 200: userViewSchema },
      },
    },
    async (req, reply) => {
      const { user, etag } = await services.users.update(req.params.id, req.body, req.headers['if-match'], actorOf(req));
      return reply.header('etag', etag).send(user);
    },
  );

  app.delete(
    '/users/:id',
    {
      schema: {
        tags,
        summary: 'Delete a user with their sessions, grants (and so their tokens) and consents',
        params: idParams,
        headers: ifMatchHeaders,
        response: { 204: z.undefined().describe('deleted') },
      },
    },
    async (req, reply) => {
      await services.users.delete(req.params.id, req.headers['if-match'], actorOf(req));
      return reply.code(204).send();
    },
  );

  app.post(
    '/users/:id/password',
    {
      schema: {
        tags,
        summary: "Set the user's password; ends their sessions and revokes their grants",
        description:
          'What the old password let anyone obtain is taken back in the same transaction: every grant revoked ' +
          '(refresh tokens stop, access tokens introspect inactive), every browser session ended. The audit event never holds the password.',
        params: idParams,
        body: z.object({ password: z.string().describe('8 to 1024 characters') }),
        response: {
          200: z.object({ sessions_ended: z.number().int(), grants_revoked: z.number().int() }).meta({ id: 'PasswordChanged' }),
        },
      },
    },
    async (req, reply) =>
      reply.header('cache-control', 'no-store').send(await services.users.setPassword(req.params.id, req.body, actorOf(req))),
  );

  app.post(
    '/users/:id/unlock',
    {
      schema: {
        tags,
        summary: "Clear the account's sign-in lockout (its failed sign-in counter)",
        description: 'Counters per client address are not the account’s and stay.',
        params: idParams,
        response: { 200: z.object({ failures_cleared: z.boolean().describe('false: the account had no failures counted') }) },
      },
    },
    async (req) => services.users.unlock(req.params.id, actorOf(req)),
  );

  app.delete(
    '/users/:id/totp',
    {
      schema: {
        tags,
        summary: "Remove the user's second factor (TOTP and recovery codes)",
        description:
          'For a person who lost their authenticator: their next sign-in asks for the password only, and they can set up ' +
          'two-step verification again on /account. Clients that require it (require_mfa) refuse them until they do.',
        params: idParams,
        response: { 200: z.object({ totp_removed: z.boolean().describe('false: the user had no second factor') }) },
      },
    },
    async (req) => services.users.resetSecondFactor(req.params.id, actorOf(req)),
  );
  done();
};
