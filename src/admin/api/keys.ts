import { z } from 'zod';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { SIGNING_ALGS } from '../../keys/algorithms.js';
import type { AdminRouteOptions } from './plugin.js';
import { actorOf } from './plugin.js';
import { decodeCursor, pageFrom, pageOf, pageQuery } from './pagination.js';
import { keySortKey } from '../services/keys.js';

/** Upper bound of KEY_ROTATION_DELAY (src/config.ts). */
const MAX_DELAY = 7 * 86400;

const keySchema = z
  .looseObject({
    kid: z.string(),
    alg: z.string(),
    status: z.enum(['pending', 'signing', 'retired', 'superseded', 'expired']),
    created_at: z.string().describe('published in /jwks from'),
    active_from: z.string().describe('signs from'),
    retired_at: z.string().nullable().describe('stops signing at'),
    publish_until: z.string().nullable().describe('leaves /jwks at'),
    public_jwk: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'SigningKey' });

const rotateBody = z
  .strictObject({
    delay_seconds: z
      .number({ error: 'delay_seconds must be a whole number of seconds' })
      .int('delay_seconds must be a whole number of seconds')
      .min(0, 'delay_seconds must be at least 0')
      .max(MAX_DELAY, `delay_seconds must be at most ${MAX_DELAY}`)
      .optional()
      .describe('seconds between publishing the new keys and signing with them (default KEY_ROTATION_DELAY)'),
    alg: z
      .enum(SIGNING_ALGS, { error: `alg must be one of ${SIGNING_ALGS.join(', ')}` })
      .optional()
      .describe('rotate only this algorithm'),
  })
  .optional();

/** /keys: the signing keys with their timeline; POST /keys/rotate. */
export const keysRoutes: FastifyPluginCallbackZod<AdminRouteOptions> = (app, { services }, done) => {
  const tags = ['keys'];
  app.get(
    '/keys',
    {
      schema: {
        tags,
        summary: 'List signing keys with their status timeline, newest first',
        querystring: pageQuery,
        response: { 200: pageOf(keySchema) },
      },
    },
    async (req) => {
      const { cursor, limit } = req.query;
      const rows = await services.keys.list(decodeCursor(cursor), limit);
      return pageFrom(
        rows,
        limit,
        (k) => keySortKey(k),
        (k) => k,
      );
    },
  );
  app.get(
    '/keys/:kid',
    {
      schema: { tags, summary: 'Read a signing key', params: z.object({ kid: z.string().min(1).max(200) }), response: { 200: keySchema } },
    },
    async (req) => services.keys.get(req.params.kid),
  );
  app.post(
    '/keys/rotate',
    {
      schema: {
        tags,
        summary: 'Rotate the signing keys: new keys now, signing after the delay; the old ones retire then',
        body: rotateBody,
        response: {
          200: z.object({
            delay_seconds: z.number(),
            retention_seconds: z.number(),
            keys: z.array(
              z.object({
                alg: z.string(),
                kid: z.string(),
                active_from: z.string(),
                retired: z.array(z.string()),
                retired_publish_until: z.string(),
              }),
            ),
          }),
        },
      },
    },
    async (req) => services.keys.rotate({ delaySeconds: req.body?.delay_seconds, alg: req.body?.alg }, actorOf(req)),
  );
  done();
};
