/**
 * Applications in the console: the list and the application creation helper (issue 14 item 9).
 * The helper's decisions are app-types.ts (pure); this module turns the wizard's form into
 * answers, creates the client, and shows the secret once with ready-to-paste configuration.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AdminError } from '../services/errors.js';
import { generateClientId } from '../../clients/credentials.js';
import { renderPage } from '../../interaction/pages.js';
import {
  APP_TYPES,
  FIELD_LABELS,
  answerIssues,
  appTypesFor,
  clientMetadataFor,
  isAppTypeId,
  type AnswerIssue,
  type AppAnswers,
  type AppType,
} from './app-types.js';
import { appConfiguration } from './app-snippets.js';
import { actorOf, checkConsoleCsrf, type ConsoleDeps, type Operator } from './deps.js';

type Form = Record<string, string | string[] | undefined>;

const text = (f: Form, name: string, max = 20_000): string => {
  const v = f[name];
  const s = Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
  return s.slice(0, max);
};

/** One entry a line (or separated by spaces/commas), empty ones dropped. */
const lines = (s: string): string[] =>
  s
    .split(/[\s,]+/)
    .map((l) => l.trim())
    .filter(Boolean);

/** The wizard's form → answers, or the issues with what was typed. */
export function readAnswers(t: AppType, f: Form): { answers: AppAnswers; issues: AnswerIssue[] } {
  const issues: AnswerIssue[] = [];
  const name = text(f, 'client_name', 200);
  const typedId = text(f, 'client_id', 255).trim();
  const jwksText = text(f, 'jwks').trim();
  let jwks: AppAnswers['jwks'];
  if (jwksText) {
    try {
      const parsed: unknown = JSON.parse(jwksText);
      if (parsed && typeof parsed === 'object' && Array.isArray((parsed as { keys?: unknown }).keys)) jwks = parsed as { keys: unknown[] };
      else issues.push({ field: 'jwks', message: 'Paste a JWK Set: a JSON object with a "keys" array of public keys.' });
    } catch {
      issues.push({ field: 'jwks', message: 'The public keys are not valid JSON. Paste a JWK Set: {"keys": [...]}.' });
    }
  }
  const answers: AppAnswers = {
    name,
    clientId: typedId || generateClientId(name, t.id),
    redirectUris: lines(text(f, 'redirect_uris')),
    postLogoutRedirectUris: lines(text(f, 'post_logout_redirect_uris')),
    scope: text(f, 'scope', 2000),
    audiences: lines(text(f, 'audiences')),
    ...(jwks ? { jwks } : {}),
  };
  return { answers, issues: [...issues, ...answerIssues(t, answers)] };
}

/** The service's refusal, each field error pinned to the wizard field it is about. */
function issuesOf(err: AdminError): AnswerIssue[] {
  if (!err.errors.length) return [{ field: 'client_id', message: err.detail }];
  return err.errors.map((e) => {
    const top = (e.pointer ?? '').split('/')[1] ?? '';
    const field = (['redirect_uris', 'post_logout_redirect_uris', 'scope', 'audiences', 'jwks', 'client_id'] as const).find(
      (f) => f === top,
    );
    return { field: field ?? (top === 'client_name' ? 'name' : 'client_id'), message: e.detail };
  });
}

export function appRoutes(app: FastifyInstance, deps: ConsoleDeps, operatorOf: (req: object) => Operator): void {
  app.get('/admin/apps', async (req, reply) => {
    const op = operatorOf(req);
    const clients = await deps.repos.clients.list();
    return renderPage(reply, 'console/apps', {
      ...layoutData(op, 'apps', 'Applications'),
      clients: clients.map((c) => ({
        clientId: c.clientId,
        name: c.metadata.client_name ?? '',
        grantTypes: c.metadata.grant_types.join(', '),
        authMethod: c.metadata.token_endpoint_auth_method,
        builtIn: c.clientId === 'latchkey-console',
      })),
    });
  });

  app.get<{ Querystring: { person?: string } }>('/admin/apps/new', async (req, reply) => {
    const op = operatorOf(req);
    const person = req.query.person === 'yes' ? true : req.query.person === 'no' ? false : undefined;
    return renderPage(reply, 'console/app-new', {
      ...layoutData(op, 'apps', 'New application'),
      person,
      types: person === undefined ? [] : appTypesFor(person).map((t) => ({ id: t.id, label: t.label, explanation: t.explanation })),
    });
  });

  app.get<{ Params: { type: string } }>('/admin/apps/new/:type', async (req, reply) => {
    const op = operatorOf(req);
    const t = typeOr404(req.params.type);
    if (!t) return notFound(reply, op);
    return renderForm(reply, op, t, {}, []);
  });

  app.post<{ Params: { type: string }; Body: Form | undefined }>('/admin/apps/new/:type', async (req, reply) => {
    const op = operatorOf(req);
    const form = req.body ?? {};
    checkConsoleCsrf(deps, op.session, text(form, 'csrf', 200));
    const t = typeOr404(req.params.type);
    if (!t) return notFound(reply, op);
    const { answers, issues } = readAnswers(t, form);
    if (issues.length) return renderForm(reply, op, t, form, issues, 422);
    // The admin API's clients service: the same schema, the secret made there and returned once,
    // the insert and its client.created audit event in one transaction.
    let created: Awaited<ReturnType<ConsoleDeps['services']['clients']['create']>>;
    try {
      created = await deps.services.clients.create(clientMetadataFor(t, answers), actorOf(op, req.ip));
    } catch (err) {
      if (!(err instanceof AdminError) || (err.kind !== 'invalid' && err.kind !== 'conflict')) throw err;
      return renderForm(reply, op, t, form, issuesOf(err), err.kind === 'conflict' ? 409 : 422);
    }
    const metadata = created.client;
    const secret = created.clientSecret;
    const config = appConfiguration(t, {
      issuer: deps.config.issuer,
      clientId: metadata.client_id,
      ...(secret ? { clientSecret: secret } : {}),
      redirectUris: metadata.redirect_uris,
      scope: metadata.scope,
      audiences: metadata.audiences,
      usesKeys: metadata.token_endpoint_auth_method === 'private_key_jwt',
    });
    return renderPage(
      reply,
      'console/app-created',
      {
        ...layoutData(op, 'apps', `${metadata.client_name ?? metadata.client_id} created`),
        name: metadata.client_name ?? metadata.client_id,
        type: t.label,
        clientId: metadata.client_id,
        clientSecret: secret,
        authMethod: metadata.token_endpoint_auth_method,
        grantTypes: metadata.grant_types.join(', '),
        nextStep: t.nextStep,
        config,
      },
      { status: 201 },
    );
  });

  function renderForm(reply: FastifyReply, op: Operator, t: AppType, form: Form, issues: AnswerIssue[], status = 200) {
    const errorOf = (f: string) =>
      issues
        .filter((i) => i.field === f)
        .map((i) => i.message)
        .join(' ');
    return renderPage(
      reply,
      'console/app-form',
      {
        ...layoutData(op, 'apps', `New ${(t.label.split(' (')[0] ?? t.label).toLowerCase()}`),
        type: { id: t.id, label: t.label, explanation: t.explanation, warning: t.warning, personSignsIn: t.personSignsIn },
        action: `/admin/apps/new/${t.id}`,
        fields: t.fields.map((f) => ({
          name: f,
          label: FIELD_LABELS[f],
          required: t.required.includes(f),
          value: text(form, f),
          error: errorOf(f),
        })),
        defaultScope: t.defaultScope,
        nameValue: text(form, 'client_name', 200),
        nameError: errorOf('name'),
        clientIdValue: text(form, 'client_id', 255),
        clientIdError: errorOf('client_id'),
        issues: issues.map((i) => i.message),
      },
      { status },
    );
  }

  function notFound(reply: FastifyReply, op: Operator) {
    return renderPage(
      reply,
      'console/message',
      {
        ...layoutData(op, 'apps', 'No such kind of application'),
        title: 'No such kind of application',
        message: 'Start again from New application.',
        status: 404,
      },
      { status: 404 },
    );
  }
}

const typeOr404 = (id: string): AppType | undefined => (isAppTypeId(id) ? APP_TYPES[id] : undefined);

/** What every console page's layout shows: who is signed in, the sign-out form, where we are. */
export function layoutData(op: Operator, section: ConsoleSection, pageTitle: string) {
  return { pageTitle, section, operator: op.user.username, csrf: op.csrf };
}

export type ConsoleSection = 'dashboard' | 'apps' | 'users' | 'keys' | 'resources' | 'trusted-issuers' | 'events';
