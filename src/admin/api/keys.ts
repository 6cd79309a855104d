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

const retireBody = z
  .strictObject({
    unpublish: z
      .boolean({ error: 'unpublish must be true or false' })
      .optional()
      .describe(
        'also remove the key from /jwks now (default false). Every token it signed — access tokens, ID tokens, ' +
          'token exchange JWTs — then stops verifying, here and at every resource server once its JWKS cache ' +
          'refreshes: their holders must get new ones (refresh tokens are not JWTs and keep working)',
      ),
  })
  .optional();

/** /keys: the signing keys with their timeline; POST /keys/rotate; POST /keys/{kid}/retire. */
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
  app.post(
    '/keys/:kid/retire',
    {
      schema: {
        tags,
        summary: 'Retire one key now (suspected compromise): it stops signing; with unpublish it also leaves /jwks',
        description:
          'The key stops signing at once (a pending key never signs), provided another key of its algorithm ' +
          'signs from now on: one that already may, or the pending key of an earlier rotation, which then starts ' +
          'signing now instead of at its planned time (promoted); otherwise 409 — rotate first. Without unpublish it stays in /jwks while the tokens it signed live (the rotation retention), ' +
          'so they keep verifying. With unpublish it leaves /jwks at once: every JWT it signed stops verifying ' +
          '(resource servers once their JWKS cache refreshes, at most JWKS_MAX_AGE), and so does an ID token it ' +
          'signed used as id_token_hint. A key that already stopped signing can still be unpublished. Every ' +
          'process follows within KEY_RELOAD_INTERVAL. Recorded as key.retired.',
        params: z.object({ kid: z.string().min(1).max(200) }),
        body: retireBody,
        response: {
          200: z.object({
            key: keySchema,
            unpublished: z.boolean(),
            signing_now: z.string().nullable().describe('the key that signs this algorithm now'),
            promoted: z
              .object({ kid: z.string(), planned_from: z.string() })
              .nullable()
              .describe("a rotation's pending successor brought forward to sign now, and when it was to start"),
          }),
        },
      },
    },
    async (req) => services.keys.retire(req.params.kid, { unpublish: req.body?.unpublish ?? false }, actorOf(req)),
  );
  done();
};
