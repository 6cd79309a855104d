/**
 * Resources and scopes in the console (issue 14 item 8): list, create, edit (scopes with their
 * consent-page descriptions, access token lifetime), delete with a confirmation step. The admin
 * API's resources service validates (the bootstrap file's schema), stores and audits; an edit
 * carries the ETag it was shown, so a change made meanwhile is refused rather than overwritten.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { renderPage } from '../../interaction/pages.js';
import { AdminError } from '../services/errors.js';
import type { ResourceView } from '../services/resources.js';
import { layoutData } from './apps.js';
import { actorOf, checkConsoleCsrf, type ConsoleDeps, type Operator } from './deps.js';
import { addError, doneRedirect, errorsOf, field, replacementPatch, type FieldErrors, type Form } from './forms.js';

const FIELDS = ['identifier', 'name', 'scopes', 'access_token_ttl'] as const;

/** "scope description…" a line → scopes and their descriptions. */
export function readScopes(text: string): { scopes: string[]; descriptions: Record<string, string> } {
  const scopes: string[] = [];
  const descriptions: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    const [scope = '', ...rest] = trimmed.split(/\s+/);
    if (!scopes.includes(scope)) scopes.push(scope);
    const description = rest.join(' ');
    if (description) descriptions[scope] = description;
  }
  return { scopes, descriptions };
}

const scopesText = (r: ResourceView) => r.scopes.map((s) => [s, r.scope_descriptions?.[s] ?? ''].join(' ').trim()).join('\n');

/** The form → a resource document, or errors the schema cannot word for a form (a TTL that is not a number). */
function documentOf(form: Form): { doc: Record<string, unknown>; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const { scopes, descriptions } = readScopes(field(form, 'scopes'));
  const doc: Record<string, unknown> = { identifier: field(form, 'identifier', 2000).trim(), scopes };
  const name = field(form, 'name', 400).trim();
  if (name) doc.name = name;
  if (Object.keys(descriptions).length) doc.scope_descriptions = descriptions;
  const ttl = field(form, 'access_token_ttl', 20).trim();
  if (ttl) {
    if (/^\d+$/.test(ttl)) doc.access_token_ttl = Number(ttl);
    else addError(errors, 'access_token_ttl', 'Enter a whole number of seconds (30 to 86400), or leave it empty.');
  }
  return { doc, errors };
}

const fieldOf = (member: string) =>
  member === 'scope_descriptions' ? 'scopes' : (FIELDS as readonly string[]).includes(member) ? member : undefined;

export function resourceRoutes(app: FastifyInstance, deps: ConsoleDeps, operatorOf: (req: object) => Operator): void {
  const svc = deps.services.resources;
  const MESSAGES: Record<string, string> = {
    created: 'The resource was created.',
    updated: 'The resource was saved.',
    deleted: 'The resource was deleted.',
  };

  app.get<{ Querystring: Form }>('/admin/resources', async (req, reply) => {
    const op = operatorOf(req);
    const items = await svc.list(undefined, 1000);
    const done = field(req.query, 'done', 20);
    const id = field(req.query, 'identifier', 2000);
    const named = done !== 'deleted' && items.some((r) => r.identifier === id) ? ` (${id})` : '';
    return renderPage(reply, 'console/resources', {
      ...layoutData(op, 'resources', 'Resources and scopes'),
      message: MESSAGES[done] ? `${MESSAGES[done]}${named}` : '',
      resources: items.map((r) => ({
        identifier: r.identifier,
        name: r.name ?? '',
        scopes: r.scopes.map((s) => ({ scope: s, description: r.scope_descriptions?.[s] ?? '' })),
        ttl: r.access_token_ttl ?? '',
        builtIn: r.built_in,
        editUrl: `/admin/resources/edit?identifier=${encodeURIComponent(r.identifier)}`,
        deleteUrl: `/admin/resources/delete?identifier=${encodeURIComponent(r.identifier)}`,
      })),
      defaultTtl: deps.config.accessTokenTtl,
    });
  });

  function renderForm(reply: FastifyReply, op: Operator, mode: 'new' | 'edit', values: Form, errors: FieldErrors, etag = '', status = 200) {
    return renderPage(
      reply,
      'console/resource-form',
      {
        ...layoutData(op, 'resources', mode === 'new' ? 'New resource' : 'Edit resource'),
        mode,
        action:
          mode === 'new'
            ? '/admin/resources/new'
            : `/admin/resources/edit?identifier=${encodeURIComponent(field(values, 'identifier', 2000))}`,
        etag,
        values: Object.fromEntries(FIELDS.map((f) => [f, field(values, f)])),
        errors,
        issues: Object.values(errors),
        defaultTtl: deps.config.accessTokenTtl,
      },
      { status },
    );
  }

  app.get('/admin/resources/new', async (req, reply) => renderForm(reply, operatorOf(req), 'new', {}, {}));

  app.post<{ Body: Form | undefined }>('/admin/resources/new', async (req, reply) => {
    const op = operatorOf(req);
    const form = req.body ?? {};
    checkConsoleCsrf(deps, op.session, field(form, 'csrf', 200));
    const { doc, errors } = documentOf(form);
    if (Object.keys(errors).length) return renderForm(reply, op, 'new', form, errors, '', 422);
    try {
      const created = await svc.create(doc, actorOf(op, req.ip));
      return await doneRedirect(reply, '/admin/resources', 'created', { identifier: created.id });
    } catch (err) {
      if (!(err instanceof AdminError) || (err.kind !== 'invalid' && err.kind !== 'conflict')) throw err;
      return renderForm(reply, op, 'new', form, errorsOf(err, fieldOf, 'identifier'), '', err.kind === 'conflict' ? 409 : 422);
    }
  });

  /** The resource named by `?identifier=`, or a readable 404 (or 409 for the built-in one). */
  async function load(reply: FastifyReply, op: Operator, id: string) {
    try {
      const found = await svc.get(id);
      if (found.item.built_in) {
        await message(reply, op, 409, 'Built-in resource', `${id} is Latchkey's own admin API; it cannot be changed or deleted.`);
        return undefined;
      }
      return found;
    } catch (err) {
      if (!(err instanceof AdminError) || err.kind !== 'not_found') throw err;
      await message(reply, op, 404, 'No such resource', 'It may have been deleted. Go back to Resources.');
      return undefined;
    }
  }

  app.get<{ Querystring: Form }>('/admin/resources/edit', async (req, reply) => {
    const op = operatorOf(req);
    const found = await load(reply, op, field(req.query, 'identifier', 2000));
    if (!found) return reply;
    const r = found.item;
    const values: Form = {
      identifier: r.identifier,
      name: r.name ?? '',
      scopes: scopesText(r),
      access_token_ttl: r.access_token_ttl === undefined ? '' : String(r.access_token_ttl),
    };
    return renderForm(reply, op, 'edit', values, {}, found.etag);
  });

  app.post<{ Querystring: Form; Body: Form | undefined }>('/admin/resources/edit', async (req, reply) => {
    const op = operatorOf(req);
    const form = req.body ?? {};
    checkConsoleCsrf(deps, op.session, field(form, 'csrf', 200));
    const id = field(req.query, 'identifier', 2000);
    const values = { ...form, identifier: id };
    const etag = field(form, 'etag', 200);
    const found = await load(reply, op, id);
    if (!found) return reply;
    const { doc, errors } = documentOf(values);
    if (Object.keys(errors).length) return renderForm(reply, op, 'edit', values, errors, etag, 422);
    const { built_in: _builtIn, ...current } = found.item;
    try {
      await svc.update(id, replacementPatch(current, doc), etag || undefined, actorOf(op, req.ip));
    } catch (err) {
      if (!(err instanceof AdminError)) throw err;
      if (err.kind === 'precondition_failed') {
        return renderForm(
          reply,
          op,
          'edit',
          values,
          { identifier: 'Someone changed this resource since you opened the form. Open it again to see the current version.' },
          etag,
          409,
        );
      }
      if (err.kind !== 'invalid' && err.kind !== 'conflict') throw err;
      return renderForm(reply, op, 'edit', values, errorsOf(err, fieldOf, 'identifier'), etag, 422);
    }
    return doneRedirect(reply, '/admin/resources', 'updated', { identifier: id });
  });

  app.get<{ Querystring: Form }>('/admin/resources/delete', async (req, reply) => {
    const op = operatorOf(req);
    const found = await load(reply, op, field(req.query, 'identifier', 2000));
    if (!found) return reply;
    return renderDelete(reply, op, found.item.identifier, found.etag);
  });

  function renderDelete(reply: FastifyReply, op: Operator, id: string, etag: string, error = '', status = 200) {
    return renderPage(
      reply,
      'console/confirm-delete',
      {
        ...layoutData(op, 'resources', 'Delete resource'),
        heading: 'Delete this resource?',
        name: id,
        consequence:
          'Clients can no longer get tokens for it, and its scopes leave the consent page. Tokens already issued for it stay valid until they expire. Clients that list it among their audiences keep the entry until you edit them.',
        action: `/admin/resources/delete?identifier=${encodeURIComponent(id)}`,
        back: '/admin/resources',
        etag,
        error,
      },
      { status },
    );
  }

  app.post<{ Querystring: Form; Body: Form | undefined }>('/admin/resources/delete', async (req, reply) => {
    const op = operatorOf(req);
    const form = req.body ?? {};
    checkConsoleCsrf(deps, op.session, field(form, 'csrf', 200));
    const id = field(req.query, 'identifier', 2000);
    const etag = field(form, 'etag', 200);
    try {
      await svc.delete(id, etag || undefined, actorOf(op, req.ip));
    } catch (err) {
      if (!(err instanceof AdminError)) throw err;
      if (err.kind === 'not_found') return message(reply, op, 404, 'No such resource', 'It may have been deleted already.');
      if (err.kind === 'precondition_failed') {
        return renderDelete(
          reply,
          op,
          id,
          etag,
          'Someone changed this resource since you opened this page. Look at it again before deleting it.',
          409,
        );
      }
      if (err.kind === 'conflict') return message(reply, op, 409, 'Not deleted', err.detail);
      throw err;
    }
    return doneRedirect(reply, '/admin/resources', 'deleted');
  });

  function message(reply: FastifyReply, op: Operator, status: number, title: string, text: string) {
    return renderPage(reply, 'console/message', { ...layoutData(op, 'resources', title), title, message: text, status }, { status });
  }
}
