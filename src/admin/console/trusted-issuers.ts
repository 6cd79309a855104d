/**
 * Trusted issuers in the console (issue 14 item 8): whose JWTs the JWT-bearer grant (RFC 7523)
 * and token exchange (RFC 8693) accept, with their keys (inline JWKS or a jwks_uri), the subject
 * they may assert (or any), the scopes and the clients that may present them. The admin API's
 * trusted-issuers service validates (the bootstrap file's schema), stores and audits; running
 * servers see a change within CLIENT_CACHE_TTL.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { renderPage } from '../../interaction/pages.js';
import { AdminError } from '../services/errors.js';
import type { TrustedIssuerView } from '../services/trusted-issuers.js';
import { layoutData } from './apps.js';
import { actorOf, checkConsoleCsrf, type ConsoleDeps, type Operator } from './deps.js';
import { addError, doneRedirect, entries, errorsOf, field, replacementPatch, type FieldErrors, type Form } from './forms.js';

const FIELDS = ['issuer', 'jwks', 'jwks_uri', 'subject', 'allow_any_subject', 'scope', 'client_ids'] as const;

/** The form → a trusted-issuer document, or errors the schema cannot word for a form (JSON that does not parse). */
function documentOf(form: Form): { doc: Record<string, unknown>; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const doc: Record<string, unknown> = {
    issuer: field(form, 'issuer', 2000).trim(),
    allow_any_subject: field(form, 'allow_any_subject', 5) === 'yes',
    scope: entries(field(form, 'scope', 4000)).join(' '),
    client_ids: entries(field(form, 'client_ids')),
  };
  const jwks = field(form, 'jwks', 100_000).trim();
  if (jwks) {
    try {
      doc.jwks = JSON.parse(jwks) as unknown;
    } catch {
      addError(errors, 'jwks', 'The public keys are not valid JSON. Paste a JWK Set: {"keys": [...]}.');
    }
  }
  const jwksUri = field(form, 'jwks_uri', 2000).trim();
  if (jwksUri) doc.jwks_uri = jwksUri;
  const subject = field(form, 'subject', 400).trim();
  if (subject) doc.subject = subject;
  return { doc, errors };
}

const fieldOf = (member: string) =>
  member === 'allow_any_subject' ? 'subject' : (FIELDS as readonly string[]).includes(member) ? member : undefined;

const valuesOf = (t: TrustedIssuerView): Form => ({
  issuer: t.issuer,
  jwks: t.jwks ? JSON.stringify(t.jwks, null, 2) : '',
  jwks_uri: t.jwks_uri ?? '',
  subject: t.subject ?? '',
  allow_any_subject: t.allow_any_subject ? 'yes' : '',
  scope: t.scope,
  client_ids: t.client_ids.join('\n'),
});

export function trustedIssuerRoutes(app: FastifyInstance, deps: ConsoleDeps, operatorOf: (req: object) => Operator): void {
  const svc = deps.services.trustedIssuers;
  const MESSAGES: Record<string, string> = {
    created: 'The trusted issuer was created.',
    updated: 'The trusted issuer was saved.',
    deleted: 'The trusted issuer was deleted.',
  };
  const itemUrl = (what: string, issuer: string) => `/admin/trusted-issuers/${what}?issuer=${encodeURIComponent(issuer)}`;

  app.get<{ Querystring: Form }>('/admin/trusted-issuers', async (req, reply) => {
    const op = operatorOf(req);
    const items = await svc.list(undefined, 1000);
    const done = field(req.query, 'done', 20);
    const id = field(req.query, 'issuer', 2000);
    const named = done !== 'deleted' && items.some((t) => t.issuer === id) ? ` (${id})` : '';
    return renderPage(reply, 'console/trusted-issuers', {
      ...layoutData(op, 'trusted-issuers', 'Trusted issuers'),
      message: MESSAGES[done] ? `${MESSAGES[done]}${named}` : '',
      issuers: items.map((t) => ({
        issuer: t.issuer,
        keys: t.jwks_uri ? `jwks_uri ${t.jwks_uri}` : `${t.jwks?.keys.length ?? 0} inline key(s)`,
        subject: t.allow_any_subject ? 'any subject' : (t.subject ?? ''),
        scope: t.scope,
        clientIds: t.client_ids.join(', '),
        editUrl: itemUrl('edit', t.issuer),
        deleteUrl: itemUrl('delete', t.issuer),
      })),
      cacheTtl: deps.config.clientCacheTtl,
    });
  });

  function renderForm(reply: FastifyReply, op: Operator, mode: 'new' | 'edit', values: Form, errors: FieldErrors, etag = '', status = 200) {
    return renderPage(
      reply,
      'console/trusted-issuer-form',
      {
        ...layoutData(op, 'trusted-issuers', mode === 'new' ? 'New trusted issuer' : 'Edit trusted issuer'),
        mode,
        action: mode === 'new' ? '/admin/trusted-issuers/new' : itemUrl('edit', field(values, 'issuer', 2000)),
        etag,
        values: Object.fromEntries(FIELDS.map((f) => [f, field(values, f, 100_000)])),
        errors,
        issues: Object.values(errors),
      },
      { status },
    );
  }

  app.get('/admin/trusted-issuers/new', async (req, reply) => renderForm(reply, operatorOf(req), 'new', {}, {}));

  app.post<{ Body: Form | undefined }>('/admin/trusted-issuers/new', async (req, reply) => {
    const op = operatorOf(req);
    const form = req.body ?? {};
    checkConsoleCsrf(deps, op.session, field(form, 'csrf', 200));
    const { doc, errors } = documentOf(form);
    if (Object.keys(errors).length) return renderForm(reply, op, 'new', form, errors, '', 422);
    try {
      const created = await svc.create(doc, actorOf(op, req.ip));
      return await doneRedirect(reply, '/admin/trusted-issuers', 'created', { issuer: created.id });
    } catch (err) {
      if (!(err instanceof AdminError) || (err.kind !== 'invalid' && err.kind !== 'conflict')) throw err;
      return renderForm(reply, op, 'new', form, errorsOf(err, fieldOf, 'issuer'), '', err.kind === 'conflict' ? 409 : 422);
    }
  });

  async function load(reply: FastifyReply, op: Operator, id: string) {
    try {
      return await svc.get(id);
    } catch (err) {
      if (!(err instanceof AdminError) || err.kind !== 'not_found') throw err;
      await message(reply, op, 404, 'No such trusted issuer', 'It may have been deleted. Go back to Trusted issuers.');
      return undefined;
    }
  }

  app.get<{ Querystring: Form }>('/admin/trusted-issuers/edit', async (req, reply) => {
    const op = operatorOf(req);
    const found = await load(reply, op, field(req.query, 'issuer', 2000));
    if (!found) return reply;
    return renderForm(reply, op, 'edit', valuesOf(found.item), {}, found.etag);
  });

  app.post<{ Querystring: Form; Body: Form | undefined }>('/admin/trusted-issuers/edit', async (req, reply) => {
    const op = operatorOf(req);
    const form = req.body ?? {};
    checkConsoleCsrf(deps, op.session, field(form, 'csrf', 200));
    const id = field(req.query, 'issuer', 2000);
    const values = { ...form, issuer: id };
    const etag = field(form, 'etag', 200);
    const found = await load(reply, op, id);
    if (!found) return reply;
    const { doc, errors } = documentOf(values);
    if (Object.keys(errors).length) return renderForm(reply, op, 'edit', values, errors, etag, 422);
    const { created_at: _c, updated_at: _u, ...current } = found.item;
    try {
      await svc.update(id, replacementPatch(current, doc), etag || undefined, actorOf(op, req.ip));
    } catch (err) {
      if (!(err instanceof AdminError)) throw err;
      if (err.kind === 'precondition_failed') {
        const stale = {
          issuer: 'Someone changed this trusted issuer since you opened the form. Open it again to see the current version.',
        };
        return renderForm(reply, op, 'edit', values, stale, etag, 409);
      }
      if (err.kind !== 'invalid' && err.kind !== 'conflict') throw err;
      return renderForm(reply, op, 'edit', values, errorsOf(err, fieldOf, 'issuer'), etag, 422);
    }
    return doneRedirect(reply, '/admin/trusted-issuers', 'updated', { issuer: id });
  });

  function renderDelete(reply: FastifyReply, op: Operator, id: string, etag: string, error = '', status = 200) {
    return renderPage(
      reply,
      'console/confirm-delete',
      {
        ...layoutData(op, 'trusted-issuers', 'Delete trusted issuer'),
        heading: 'Delete this trusted issuer?',
        name: id,
        consequence:
          'Its JWTs are refused from then on by the JWT-bearer grant and token exchange (in every process within CLIENT_CACHE_TTL). Tokens already issued from them stay valid until they expire.',
        action: itemUrl('delete', id),
        back: '/admin/trusted-issuers',
        etag,
        error,
      },
      { status },
    );
  }

  app.get<{ Querystring: Form }>('/admin/trusted-issuers/delete', async (req, reply) => {
    const op = operatorOf(req);
    const found = await load(reply, op, field(req.query, 'issuer', 2000));
    if (!found) return reply;
    return renderDelete(reply, op, found.item.issuer, found.etag);
  });

  app.post<{ Querystring: Form; Body: Form | undefined }>('/admin/trusted-issuers/delete', async (req, reply) => {
    const op = operatorOf(req);
    const form = req.body ?? {};
    checkConsoleCsrf(deps, op.session, field(form, 'csrf', 200));
    const id = field(req.query, 'issuer', 2000);
    const etag = field(form, 'etag', 200);
    try {
      await svc.delete(id, etag || undefined, actorOf(op, req.ip));
    } catch (err) {
      if (!(err instanceof AdminError)) throw err;
      if (err.kind === 'not_found') return message(reply, op, 404, 'No such trusted issuer', 'It may have been deleted already.');
      if (err.kind === 'precondition_failed') {
        return renderDelete(
          reply,
          op,
          id,
          etag,
          'Someone changed this trusted issuer since you opened this page. Look at it again before deleting it.',
          409,
        );
      }
      throw err;
    }
    return doneRedirect(reply, '/admin/trusted-issuers', 'deleted');
  });

  function message(reply: FastifyReply, op: Operator, status: number, title: string, text: string) {
    return renderPage(reply, 'console/message', { ...layoutData(op, 'trusted-issuers', title), title, message: text, status }, { status });
  }
}
