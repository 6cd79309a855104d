import { z } from 'zod';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { AdminRouteOptions } from './plugin.js';
import { decodeCursor, pageFrom, pageOf, pageQuery } from './pagination.js';
import { eventView } from '../services/events.js';

export const eventSchema = z
  .object({
    id: z.string().describe('increases with time; opaque'),
    time: z.string().describe('RFC 3339'),
    type: z.string().describe('e.g. client.created, login.success, refresh_token.reuse'),
    actor: z.record(z.string(), z.unknown()).describe('who: {client_id?, sub?, ip?}'),
    target: z.object({ type: z.string(), id: z.string() }).nullable().describe('what it was done to'),
    detail: z.record(z.string(), z.unknown()).describe('before/after of a change, or the event’s facts; never secrets'),
  })
  .meta({ id: 'AuditEvent' });

const eventsQuery = pageQuery.extend({
  type: z.string().min(1).max(100).optional().describe('only events of this type'),
  subject: z.string().min(1).max(255).optional().describe('only events concerning this user (their sub)'),
  client_id: z.string().min(1).max(255).optional().describe('only events concerning this client'),
  since: z.iso
    .datetime({ offset: true, error: 'since must be an RFC 3339 date-time, e.g. 2026-01-31T00:00:00Z' })
    .optional()
    .describe('only events at or after this time'),
});

/** GET /events: the audit log, newest first. */
export const eventsRoutes: FastifyPluginCallbackZod<AdminRouteOptions> = (app, { services }, done) => {
  app.get(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'List audit events, newest first',
        querystring: eventsQuery,
        response: { 200: pageOf(eventSchema) },
      },
    },
    async (req) => {
      const q = req.query;
      const rows = await services.events.list({
        type: q.type,
        subject: q.subject,
        clientId: q.client_id,
        since: q.since ? new Date(q.since) : undefined,
        after: decodeCursor(q.cursor, (k) => /^\d{1,18}$/.test(k)),
        limit: q.limit,
      });
      return pageFrom(rows, q.limit, (r) => r.id, eventView);
    },
  );
  done();
};
