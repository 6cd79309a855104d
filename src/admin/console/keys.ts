/**
 * Signing keys in the console (issue 14 item 8): each key's timeline (published → signs →
 * retired → leaves /jwks), rotation with a delay, and retiring one key with a confirmation step
 * that explains the unpublish choice. Both go through the admin API's keys service, so they are
 * validated, locked and audited the same way (src/keys/rotation.ts, src/keys/retirement.ts).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { SIGNING_ALGS, type SigningAlg } from '../../keys/algorithms.js';
import { renderPage } from '../../interaction/pages.js';
import { AdminError } from '../services/errors.js';
import type { KeyView } from '../services/keys.js';
import { layoutData } from './apps.js';
import { actorOf, checkConsoleCsrf, type ConsoleDeps, type Operator } from './deps.js';
import { doneRedirect, field, type FieldErrors, type Form } from './forms.js';

/** Upper bound of KEY_ROTATION_DELAY (src/config.ts), as the API's. */
const MAX_DELAY = 7 * 86400;

const when = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 19) : '');

/** What each status means, in words, for the table and the confirmation page. */
const STATUS_WORDS: Record<KeyView['status'], string> = {
  pending: 'published, signs later',
  signing: 'signs new tokens',
  retired: 'stopped signing, still published',
  superseded: 'replaced before it ever signed',
  expired: 'no longer published',
};

/** A key as a row of the timeline: each step's time, whether it is past, and what may be done with it. */
function rowOf(k: KeyView, now: number) {
  const past = (iso: string | null) => iso !== null && Date.parse(iso) <= now;
  return {
    kid: k.kid,
    alg: k.alg,
    status: k.status,
    statusWords: STATUS_WORDS[k.status],
    steps: [
      { label: 'Published', time: when(k.created_at), past: true },
      { label: 'Signs from', time: k.status === 'superseded' ? 'never' : when(k.active_from), past: past(k.active_from) },
      { label: 'Retired at', time: when(k.retired_at) || 'not planned', past: past(k.retired_at) },
      { label: 'Leaves /jwks', time: when(k.publish_until) || 'not planned', past: past(k.publish_until) },
    ],
    retirable: k.status !== 'expired',
  };
}

export function keyRoutes(app: FastifyInstance, deps: ConsoleDeps, operatorOf: (req: object) => Operator): void {
  const MESSAGES: Record<string, string> = {
    rotated: 'New keys are published. They sign from the time shown; the keys they replace retire then.',
    retired: 'The key was retired.',
    unpublished: 'The key was retired and removed from /jwks: the tokens it signed no longer verify.',
  };

  async function renderList(reply: FastifyReply, op: Operator, query: Form, form: Form = {}, errors: FieldErrors = {}, status = 200) {
    const keys = await deps.services.keys.list(undefined, 1000);
    const now = deps.clock.now();
    const done = field(query, 'done', 40);
    const kid = field(query, 'kid', 200);
    const named = keys.find((k) => k.kid === kid);
    const message = MESSAGES[done] ? `${MESSAGES[done]}${named ? ` (${named.alg} ${named.kid})` : ''}` : '';
    return renderPage(
      reply,
      'console/keys',
      {
        ...layoutData(op, 'keys', 'Signing keys'),
        message,
        keys: keys.map((k) => rowOf(k, now)),
        algs: SIGNING_ALGS,
        alg: field(form, 'alg', 20),
        delay: field(form, 'delay_seconds', 20) || String(deps.config.keyRotationDelay),
        defaultDelay: deps.config.keyRotationDelay,
        reloadInterval: deps.config.keyReloadInterval,
        errors,
      },
      { status },
    );
  }

  app.get<{ Querystring: Form }>('/admin/keys', async (req, reply) => renderList(reply, operatorOf(req), req.query));

  app.post<{ Body: Form | undefined }>('/admin/keys/rotate', async (req, reply) => {
    const op = operatorOf(req);
    const form = req.body ?? {};
    checkConsoleCsrf(deps, op.session, field(form, 'csrf', 200));
    const errors: FieldErrors = {};
    const rawDelay = field(form, 'delay_seconds', 20).trim();
    const delay = rawDelay === '' ? deps.config.keyRotationDelay : Number(rawDelay);
    if (!/^\d+$/.test(rawDelay || '0') || delay > MAX_DELAY) {
      errors.delay_seconds = `Enter a whole number of seconds from 0 to ${MAX_DELAY}.`;
    }
    const alg = field(form, 'alg', 20);
    if (alg !== '' && !(SIGNING_ALGS as readonly string[]).includes(alg)) errors.alg = `Choose ${SIGNING_ALGS.join(', ')} or all.`;
    if (Object.keys(errors).length) return renderList(reply, op, {}, form, errors, 422);
    await deps.services.keys.rotate({ delaySeconds: delay, alg: alg ? (alg as SigningAlg) : undefined }, actorOf(op, req.ip));
    return doneRedirect(reply, '/admin/keys', 'rotated');
  });

  async function renderRetire(reply: FastifyReply, op: Operator, kid: string, form: Form, error = '', status = 200) {
    let key: KeyView;
    try {
      key = await deps.services.keys.get(kid);
    } catch (err) {
      if (err instanceof AdminError && err.kind === 'not_found') return notFound(reply, op);
      throw err;
    }
    return renderPage(
      reply,
      'console/key-retire',
      {
        ...layoutData(op, 'keys', `Retire key ${kid.slice(0, 12)}…`),
        key: rowOf(key, deps.clock.now()),
        action: `/admin/keys/${encodeURIComponent(kid)}/retire`,
        unpublish: field(form, 'unpublish', 5) === 'yes',
        error,
        reloadInterval: deps.config.keyReloadInterval,
        jwksMaxAge: deps.config.jwksMaxAge,
      },
      { status },
    );
  }

  app.get<{ Params: { kid: string } }>('/admin/keys/:kid/retire', async (req, reply) =>
    renderRetire(reply, operatorOf(req), req.params.kid, {}),
  );

  app.post<{ Params: { kid: string }; Body: Form | undefined }>('/admin/keys/:kid/retire', async (req, reply) => {
    const op = operatorOf(req);
    const form = req.body ?? {};
    checkConsoleCsrf(deps, op.session, field(form, 'csrf', 200));
    const choice = field(form, 'unpublish', 5);
    if (choice !== 'yes' && choice !== 'no') {
      return renderRetire(reply, op, req.params.kid, form, 'Choose whether the key stays in /jwks or leaves it now.', 422);
    }
    try {
      await deps.services.keys.retire(req.params.kid, { unpublish: choice === 'yes' }, actorOf(op, req.ip));
    } catch (err) {
      if (!(err instanceof AdminError)) throw err;
      if (err.kind === 'not_found') return notFound(reply, op);
      if (err.kind !== 'conflict') throw err;
      return renderRetire(reply, op, req.params.kid, form, `${err.detail.charAt(0).toUpperCase()}${err.detail.slice(1)}.`, 409);
    }
    return doneRedirect(reply, '/admin/keys', choice === 'yes' ? 'unpublished' : 'retired', { kid: req.params.kid });
  });

  function notFound(reply: FastifyReply, op: Operator) {
    return renderPage(
      reply,
      'console/message',
      {
        ...layoutData(op, 'keys', 'No such key'),
        title: 'No such key',
        message: 'It is not in the key table. Go back to Signing keys.',
        status: 404,
      },
      { status: 404 },
    );
  }
}
