/**
 * Users in the console (issue 14 item 8): search, create, edit standard claims and roles, set a
 * new password, clear a sign-in lockout, sign sessions out, revoke a user's grants, delete.
 *
 * Every change goes through the admin API's services (src/admin/services/) with the operator as
 * the audit actor, so the console validates, stores and audits exactly as the API does. Every POST
 * checks the console session's CSRF token first, then answers Post/Redirect/Get: a 303 to the page
 * that shows the result, with `?done=<code>` naming one fixed confirmation message (never text
 * taken from the request). A form the service refuses is shown again with each error next to its
 * field and what was typed; a stale form (the user changed since it was shown) or a user, session
 * or grant that is gone gets a readable page, never a 500.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { renderPage } from '../../interaction/pages.js';
import { ADMIN_ROLE } from '../../users/roles.js';
import { AdminError, STATUS_OF, type FieldError } from '../services/errors.js';
import type { UserView } from '../services/users.js';
import { layoutData } from './apps.js';
import { mergePatchBetween } from '../api/merge-patch.js';
import { actorOf, checkConsoleCsrf, type ConsoleDeps, type Operator } from './deps.js';

type Form = Record<string, string | string[] | undefined>;

const PAGE = 25;
/** Sessions and grants shown on a user's page; more than that is said, not hidden silently. */
const LISTED = 100;

const text = (f: Form, name: string, max = 2000): string => {
  const v = f[name];
  const s = Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
  return s.slice(0, max);
};

/** A query parameter: one string of at most `max` characters, trimmed; undefined otherwise. */
const queryText = (v: unknown, max = 255): string | undefined =>
  typeof v === 'string' && v.trim() && v.length <= max ? v.trim() : undefined;

/** Roles as typed: separated by spaces, commas or new lines (a role holds none of them). */
const rolesOf = (s: string): string[] => s.split(/[\s,]+/).filter(Boolean);

/** The standard claims (OIDC Core §5.1) the console edits as text; others are shown, and kept. */
const TEXT_CLAIMS = [
  { name: 'name', label: 'Full name', type: 'text', autocomplete: 'off' },
  { name: 'given_name', label: 'Given name', type: 'text' },
  { name: 'family_name', label: 'Family name', type: 'text' },
  { name: 'middle_name', label: 'Middle name', type: 'text' },
  { name: 'nickname', label: 'Nickname', type: 'text' },
  { name: 'preferred_username', label: 'Preferred username', type: 'text' },
  { name: 'email', label: 'Email', type: 'email' },
  { name: 'phone_number', label: 'Phone number', type: 'tel', hint: 'E.164 is recommended, e.g. +1 555 0100.' },
  { name: 'birthdate', label: 'Birthdate', type: 'text', hint: 'YYYY-MM-DD, or YYYY.' },
  { name: 'gender', label: 'Gender', type: 'text' },
  { name: 'locale', label: 'Locale', type: 'text', hint: 'A BCP 47 language tag, e.g. en-GB.' },
  { name: 'zoneinfo', label: 'Time zone', type: 'text', hint: 'e.g. Europe/Paris.' },
  { name: 'picture', label: 'Picture URL', type: 'url' },
  { name: 'profile', label: 'Profile page URL', type: 'url' },
  { name: 'website', label: 'Website URL', type: 'url' },
] as const;

/** Checkboxes for the `*_verified` claims, each beside the claim it vouches for. */
const BOOLEAN_CLAIMS = [
  { name: 'email_verified', label: 'The email address is verified', of: 'email' },
  { name: 'phone_number_verified', label: 'The phone number is verified', of: 'phone_number' },
] as const;

const EDITED = new Set<string>([...TEXT_CLAIMS.map((c) => c.name), ...BOOLEAN_CLAIMS.map((c) => c.name)]);

/** The fixed confirmations a `?done=` may name. */
const DONE: Record<string, string> = {
  created: 'User created.',
  saved: 'Profile and roles saved.',
  password: 'Password set. Their sessions were ended and their grants revoked: they sign in again with the new password.',
  unlocked: 'Sign-in lockout cleared: they may try again now.',
  'session-ended': 'Session signed out.',
  'sessions-ended': 'Signed out of every session.',
  'session-gone': 'That session had already ended.',
  revoked: 'Access revoked: the application’s refresh and access tokens for this user stop working, and consent is asked again.',
  'grant-gone': 'That access had already been revoked.',
  deleted: 'User deleted, with their sessions, grants and consents.',
};
const doneMessage = (q: unknown): string | undefined => (typeof q === 'string' && Object.hasOwn(DONE, q) ? DONE[q] : undefined);

/**
 * A field error's form field: `/claims/email` → `email`, `/roles/2` → `roles`, `/username` →
 * `username`; a claim without a field of its own (or the claims as a whole) → `other_claims`.
 */
function fieldOf(e: FieldError): string {
  const parts = (e.pointer ?? '').split('/').slice(1);
  if (parts[0] === 'claims') return parts[1] && EDITED.has(parts[1]) ? parts[1] : 'other_claims';
  return parts[0] ?? '';
}

/** The "other claims" box: a JSON object, or why it is not one. */
function parseOtherClaims(s: string): { claims: Record<string, unknown> } | { error: string } {
  if (!s.trim()) return { claims: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(s);
  } catch {
    return { error: 'This is not valid JSON. Write a JSON object, e.g. {"department": "Sales"}.' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { error: 'Write a JSON object of claim names and values, e.g. {"department": "Sales"}.' };
  }
  const own = Object.keys(parsed).filter((k) => EDITED.has(k));
  if (own.length)
    return { error: `${own.join(', ')}: change ${own.length === 1 ? 'it' : 'them'} in the field${own.length === 1 ? '' : 's'} above.` };
  return { claims: parsed as Record<string, unknown> };
}

/** Errors by form field; those about no field of the form go under '' (shown at the top). */
function errorsByField(err: AdminError, fields: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  const add = (f: string, m: string) => out.set(f, out.has(f) ? `${out.get(f)} ${m}` : m);
  if (!err.errors.length) add('', err.detail);
  for (const e of err.errors) {
    const f = fieldOf(e);
    // A conflict's detail says what clashed ("a user named … already exists"); its field error only "already taken".
    if (fields.has(f)) add(f, capital(err.kind === 'conflict' ? err.detail : e.detail));
    else add('', `${(e.pointer ?? '').slice(1).replace(/\//g, '.') || 'form'}: ${e.detail}`);
  }
  return out;
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

const utc = (iso: string | Date) => (typeof iso === 'string' ? iso : iso.toISOString()).replace('T', ' ').slice(0, 16) + ' UTC';

const userPath = (sub: string) => `/admin/users/${encodeURIComponent(sub)}`;

/** A `sub` as Latchkey makes them (128 random bits, base64url) or as bootstrap/import might: no slash. */
const SUB = /^[\w.~-]{1,255}$/;

export function userRoutes(app: FastifyInstance, deps: ConsoleDeps, operatorOf: (req: object) => Operator): void {
  const users = deps.services.users;

  /** Search by sub, username or email (part of either), `PAGE` a page with the service's cursor. */
  app.get<{ Querystring: Record<string, unknown> }>('/admin/users', async (req, reply) => {
    const op = operatorOf(req);
    const q = queryText(req.query.q);
    const after = queryText(req.query.after);
    const page = await users.list({ search: q, after, limit: PAGE });
    const rows = page.slice(0, PAGE);
    const locked = await users.lockouts(rows.map((r) => r.view));
    const last = rows.at(-1);
    const next =
      page.length > PAGE && last ? `/admin/users?${new URLSearchParams({ ...(q ? { q } : {}), after: last.key }).toString()}` : undefined;
    return renderPage(reply, 'console/users', {
      ...layoutData(op, 'users', 'Users'),
      done: doneMessage(req.query.done),
      q: q ?? '',
      searched: q !== undefined,
      users: rows.map(({ view: u }) => ({
        sub: u.id,
        href: userPath(u.id),
        username: u.username,
        name: typeof u.claims.name === 'string' ? u.claims.name : '',
        email: typeof u.claims.email === 'string' ? u.claims.email : '',
        roles: u.roles.join(', '),
        lockedUntil: ((d) => (d ? utc(d) : ''))(locked.get(u.id)),
      })),
      next,
      first: after !== undefined ? `/admin/users${q ? `?${new URLSearchParams({ q }).toString()}` : ''}` : undefined,
    });
  });

  const NEW_FIELDS = new Set(['username', 'password', 'name', 'email', 'roles']);

  app.get('/admin/users/new', async (req, reply) => renderNew(reply, operatorOf(req), {}, new Map()));

  app.post<{ Body: Form | undefined }>('/admin/users/new', async (req, reply) => {
    const op = operatorOf(req);
    const form = req.body ?? {};
    checkConsoleCsrf(deps, op.session, text(form, 'csrf', 200));
    const password = text(form, 'password', 4096);
    const claims: Record<string, string> = {};
    for (const c of ['name', 'email'] as const) {
      const v = text(form, c).trim();
      if (v) claims[c] = v;
    }
    try {
      const { user } = await users.create(
        {
          username: text(form, 'username', 200).trim(),
          ...(password ? { password } : {}),
          claims,
          roles: rolesOf(text(form, 'roles')),
        },
        actorOf(op, req.ip),
      );
      return await seeOther(reply, `${userPath(user.id)}?done=created`);
    } catch (err) {
      if (!(err instanceof AdminError) || (err.kind !== 'invalid' && err.kind !== 'conflict')) throw err;
      return renderNew(reply, op, form, errorsByField(err, NEW_FIELDS), err.kind === 'conflict' ? 409 : 422);
    }
  });

  function renderNew(reply: FastifyReply, op: Operator, form: Form, errors: Map<string, string>, status = 200) {
    return renderPage(
      reply,
      'console/user-new',
      {
        ...layoutData(op, 'users', 'New user'),
        values: { username: text(form, 'username', 200), name: text(form, 'name'), email: text(form, 'email'), roles: text(form, 'roles') },
        errors: Object.fromEntries(errors),
        general: errors.get('') ?? '',
      },
      { status },
    );
  }

  /** The user's page: details, the profile form, password, lockout, sessions, grants, delete. */
  app.get<{ Params: { sub: string }; Querystring: Record<string, unknown> }>('/admin/users/:sub', async (req, reply) => {
    const op = operatorOf(req);
    return renderUser(reply, op, req.params.sub, { done: doneMessage(req.query.done) });
  });

  interface UserPageState {
    done?: string | undefined;
    /** What the profile form held when it was refused. */
    profile?: Form;
    profileErrors?: Map<string, string>;
    passwordError?: string;
    /** A form that could not be applied as it was (stale), said at the top. */
    alert?: string;
    status?: number;
  }

  async function renderUser(reply: FastifyReply, op: Operator, sub: string, state: UserPageState) {
    const found = SUB.test(sub) ? await users.get(sub).catch(orNotFound) : undefined;
    if (!found) return gone(reply, op, 'No such user', 'The user does not exist, or was deleted. Find them from Users.');
    const { user, etag } = found;
    const [locked, sessions, grants] = await Promise.all([
      users.lockouts([user]),
      deps.services.sessions.list({ sub: user.id, limit: LISTED }),
      deps.services.grants.list({ sub: user.id, limit: LISTED }),
    ]);
    const form = state.profile;
    const errors = state.profileErrors ?? new Map<string, string>();
    const claimValue = (name: string): string => {
      const v = user.claims[name];
      return typeof v === 'string' ? v : '';
    };
    const otherClaims = Object.fromEntries(Object.entries(user.claims).filter(([k]) => !EDITED.has(k)));
    const lockedUntil = locked.get(user.id);
    return renderPage(
      reply,
      'console/user',
      {
        ...layoutData(op, 'users', user.username),
        done: state.done,
        alert: state.alert ?? errors.get('') ?? '',
        user: {
          sub: user.id,
          path: userPath(user.id),
          username: user.username,
          roles: user.roles,
          createdAt: utc(user.created_at),
          updatedAt: utc(user.updated_at),
          lockedUntil: lockedUntil ? utc(lockedUntil) : '',
          isOperator: user.id === op.user.id,
        },
        etag,
        profile: {
          username: form ? text(form, 'username', 200) : user.username,
          usernameError: errors.get('username') ?? '',
          roles: form ? text(form, 'roles') : user.roles.join(' '),
          rolesError: errors.get('roles') ?? '',
          claims: TEXT_CLAIMS.map((c) => ({
            ...c,
            hint: 'hint' in c ? c.hint : '',
            value: form ? text(form, c.name) : claimValue(c.name),
            error: errors.get(c.name) ?? '',
          })),
          flags: BOOLEAN_CLAIMS.map((c) => ({
            ...c,
            checked: form ? text(form, c.name) === 'true' : user.claims[c.name] === true,
            error: errors.get(c.name) ?? '',
          })),
          // Claims without a field of their own (address, updated_at, custom claims), as JSON.
          other: form ? text(form, 'other_claims', 20_000) : Object.keys(otherClaims).length ? JSON.stringify(otherClaims, null, 2) : '',
          otherError: errors.get('other_claims') ?? '',
        },
        passwordError: state.passwordError ?? '',
        sessions: sessions.slice(0, LISTED).map((s) => ({
          id: s.id,
          authTime: utc(s.auth_time),
          createdAt: utc(s.created_at),
          expiresAt: utc(s.expires_at),
        })),
        moreSessions: sessions.length > LISTED,
        grants: grants.slice(0, LISTED).map((g) => ({
          clientId: g.client_id,
          consent: g.consent.map((c) => ({
            resource: c.resource ?? 'OpenID (about the person)',
            scopes: c.scopes.join(' '),
            updatedAt: utc(c.updated_at),
          })),
          tokens: g.token_families.length,
          // The oldest thing the grant holds: its first live token family, else its consent.
          createdAt: ((first) => (first ? utc(first) : '—'))(
            [...g.token_families.map((f) => f.created_at), ...g.consent.map((c) => c.updated_at)].sort()[0],
          ),
        })),
        moreGrants: grants.length > LISTED,
      },
      { status: state.status ?? 200 },
    );
  }

  const PROFILE_FIELDS = new Set<string>(['username', 'roles', 'other_claims', ...EDITED]);

  /**
   * Username, claims and roles as one RFC 7396 merge patch under If-Match (the ETag the page was
   * shown with): an empty field removes its claim; the "other claims" box (address, custom claims)
   * is the whole set of the others, so a member taken out of it is removed.
   */
  app.post<{ Params: { sub: string }; Body: Form | undefined }>('/admin/users/:sub/profile', async (req, reply) => {
    const op = operatorOf(req);
    const form = req.body ?? {};
    checkConsoleCsrf(deps, op.session, text(form, 'csrf', 200));
    const sub = req.params.sub;
    const roles = rolesOf(text(form, 'roles'));
    if (sub === op.user.id && !roles.includes(ADMIN_ROLE)) {
      return renderUser(reply, op, sub, {
        profile: form,
        profileErrors: new Map([
          ['roles', `Keep "${ADMIN_ROLE}": without it you would be shut out of the console at once. Another administrator can remove it.`],
        ]),
        status: 422,
      });
    }
    const other = parseOtherClaims(text(form, 'other_claims', 20_000));
    if ('error' in other) {
      return renderUser(reply, op, sub, { profile: form, profileErrors: new Map([['other_claims', other.error]]), status: 422 });
    }
    const current = SUB.test(sub) ? await users.get(sub).catch(orNotFound) : undefined;
    if (!current) return gone(reply, op, 'No such user', 'The user does not exist, or was deleted.');
    const wanted: Record<string, unknown> = { ...other.claims };
    for (const c of TEXT_CLAIMS) {
      const v = text(form, c.name).trim();
      if (v) wanted[c.name] = v;
    }
    for (const c of BOOLEAN_CLAIMS) {
      if (text(form, c.name) === 'true') wanted[c.name] = true;
      else if (wanted[c.of] !== undefined) wanted[c.name] = false;
    }
    try {
      // If-Match with the page's ETag: the diff is against what the page showed, or nothing is saved.
      await users.update(
        sub,
        { username: text(form, 'username', 200).trim(), claims: mergePatchBetween(current.user.claims, wanted), roles },
        text(form, 'etag', 200) || '""',
        actorOf(op, req.ip),
      );
    } catch (err) {
      if (!(err instanceof AdminError)) throw err;
      if (err.kind === 'precondition_failed') {
        return renderUser(reply, op, sub, {
          alert:
            'Someone changed this user after you opened the page, so nothing was saved. This is the current version: make your change again.',
          status: 409,
        });
      }
      if (err.kind !== 'invalid' && err.kind !== 'conflict') return adminErrorPage(reply, op, err);
      return renderUser(reply, op, sub, {
        profile: form,
        profileErrors: errorsByField(err, PROFILE_FIELDS),
        status: err.kind === 'conflict' ? 409 : 422,
      });
    }
    return seeOther(reply, `${userPath(sub)}?done=saved`);
  });

  /** The operator sets a new password; the service ends the user's sessions and revokes their grants. */
  app.post<{ Params: { sub: string }; Body: Form | undefined }>('/admin/users/:sub/password', async (req, reply) => {
    const op = operatorOf(req);
    const form = req.body ?? {};
    checkConsoleCsrf(deps, op.session, text(form, 'csrf', 200));
    const sub = req.params.sub;
    try {
      await users.setPassword(sub, { password: text(form, 'password', 4096) }, actorOf(op, req.ip));
    } catch (err) {
      if (!(err instanceof AdminError)) throw err;
      if (err.kind !== 'invalid') return adminErrorPage(reply, op, err);
      const message = err.errors.map((e) => capital(e.detail)).join(' ') || err.detail;
      return renderUser(reply, op, sub, { passwordError: message, status: 422 });
    }
    return seeOther(reply, `${userPath(sub)}?done=password`);
  });

  app.post<{ Params: { sub: string }; Body: Form | undefined }>('/admin/users/:sub/unlock', async (req, reply) => {
    const op = operatorOf(req);
    checkConsoleCsrf(deps, op.session, text(req.body ?? {}, 'csrf', 200));
    const sub = req.params.sub;
    try {
      await users.unlock(sub, actorOf(op, req.ip));
    } catch (err) {
      if (!(err instanceof AdminError)) throw err;
      return adminErrorPage(reply, op, err);
    }
    return seeOther(reply, `${userPath(sub)}?done=unlocked`);
  });

  /** Signs one session out; it must be this user's (the form names both). */
  app.post<{ Params: { sub: string }; Body: Form | undefined }>('/admin/users/:sub/sessions/end', async (req, reply) => {
    const op = operatorOf(req);
    const form = req.body ?? {};
    checkConsoleCsrf(deps, op.session, text(form, 'csrf', 200));
    const sub = req.params.sub;
    const id = text(form, 'session', 200);
    const session = id ? await deps.services.sessions.get(id).catch(orNotFound) : undefined;
    if (!session || session.sub !== sub) return seeOther(reply, `${userPath(sub)}?done=session-gone`);
    try {
      await deps.services.sessions.end(id, actorOf(op, req.ip));
    } catch (err) {
      if (!(err instanceof AdminError) || err.kind !== 'not_found') throw err;
      return seeOther(reply, `${userPath(sub)}?done=session-gone`); // ended meanwhile (signed out, expired)
    }
    return seeOther(reply, `${userPath(sub)}?done=session-ended`);
  });

  /** Every live session of the user, each ended (and audited) as one by one would. */
  app.post<{ Params: { sub: string }; Body: Form | undefined }>('/admin/users/:sub/sessions/end-all', async (req, reply) => {
    const op = operatorOf(req);
    checkConsoleCsrf(deps, op.session, text(req.body ?? {}, 'csrf', 200));
    const sub = req.params.sub;
    if (!SUB.test(sub) || !(await users.get(sub).catch(orNotFound))) {
      return gone(reply, op, 'No such user', 'The user does not exist, or was deleted.');
    }
    const actor = actorOf(op, req.ip);
    // Pages of live sessions until none is left; a session that ends meanwhile is no longer listed.
    for (let round = 0; round < 1000; round++) {
      const live = await deps.services.sessions.list({ sub, limit: LISTED });
      if (!live.length) break;
      for (const s of live) {
        await deps.services.sessions.end(s.id, actor).catch((err: unknown) => {
          if (!(err instanceof AdminError) || err.kind !== 'not_found') throw err;
        });
      }
    }
    return seeOther(reply, `${userPath(sub)}?done=sessions-ended`);
  });

  /** Revokes the user's grant to one client: consent withdrawn, every token of it dead. */
  app.post<{ Params: { sub: string }; Body: Form | undefined }>('/admin/users/:sub/grants/revoke', async (req, reply) => {
    const op = operatorOf(req);
    const form = req.body ?? {};
    checkConsoleCsrf(deps, op.session, text(form, 'csrf', 200));
    const sub = req.params.sub;
    const clientId = text(form, 'client_id', 255);
    if (!SUB.test(sub) || !clientId) return seeOther(reply, `${userPath(sub)}?done=grant-gone`);
    try {
      await deps.services.grants.revoke(`${sub}.${clientId}`, actorOf(op, req.ip));
    } catch (err) {
      if (!(err instanceof AdminError) || err.kind !== 'not_found') throw err;
      return seeOther(reply, `${userPath(sub)}?done=grant-gone`);
    }
    return seeOther(reply, `${userPath(sub)}?done=revoked`);
  });

  /** The confirmation step before deleting. */
  app.get<{ Params: { sub: string } }>('/admin/users/:sub/delete', async (req, reply) => {
    const op = operatorOf(req);
    const sub = req.params.sub;
    const found = SUB.test(sub) ? await users.get(sub).catch(orNotFound) : undefined;
    if (!found) return gone(reply, op, 'No such user', 'The user does not exist, or was deleted already.');
    return renderDelete(reply, op, found.user, found.etag);
  });

  app.post<{ Params: { sub: string }; Body: Form | undefined }>('/admin/users/:sub/delete', async (req, reply) => {
    const op = operatorOf(req);
    const form = req.body ?? {};
    checkConsoleCsrf(deps, op.session, text(form, 'csrf', 200));
    const sub = req.params.sub;
    if (sub === op.user.id) {
      return gone(
        reply,
        op,
        'You cannot delete yourself',
        'You are signed in to the console as this user. Another administrator can delete the account.',
        409,
      );
    }
    try {
      // If-Match: the user confirmed deleting what the confirmation page showed, not a later version.
      await users.delete(sub, text(form, 'etag', 200) || '""', actorOf(op, req.ip));
    } catch (err) {
      if (!(err instanceof AdminError)) throw err;
      if (err.kind === 'precondition_failed') {
        const found = await users.get(sub).catch(orNotFound);
        if (found) {
          return renderDelete(
            reply,
            op,
            found.user,
            found.etag,
            'The user changed after the confirmation was shown; nothing was deleted. Check and confirm again.',
            409,
          );
        }
      }
      if (err.kind === 'not_found' || err.kind === 'precondition_failed') {
        return gone(reply, op, 'No such user', 'The user does not exist, or was deleted already.');
      }
      return adminErrorPage(reply, op, err);
    }
    return seeOther(reply, '/admin/users?done=deleted');
  });

  function renderDelete(reply: FastifyReply, op: Operator, user: UserView, etag: string, alert = '', status = 200) {
    return renderPage(
      reply,
      'console/user-delete',
      {
        ...layoutData(op, 'users', `Delete ${user.username}?`),
        user: { sub: user.id, path: userPath(user.id), username: user.username, isOperator: user.id === op.user.id },
        etag,
        alert,
      },
      { status },
    );
  }

  function gone(reply: FastifyReply, op: Operator, title: string, message: string, status = 404) {
    return renderPage(reply, 'console/message', { ...layoutData(op, 'users', title), title, message, status }, { status });
  }

  /** Any other refusal of a service, as a readable page with its status. */
  function adminErrorPage(reply: FastifyReply, op: Operator, err: AdminError) {
    if (err.kind === 'not_found') return gone(reply, op, 'Not found', `${capital(err.detail)}. It may have been deleted meanwhile.`);
    return gone(reply, op, 'That could not be done', `${capital(err.detail)}.`, STATUS_OF[err.kind]);
  }
}

/** A service's not-found as undefined; any other error goes on. */
function orNotFound(err: unknown): undefined {
  if (err instanceof AdminError && err.kind === 'not_found') return undefined;
  throw err;
}

function seeOther(reply: FastifyReply, location: string) {
  return reply.code(303).header('location', location).header('cache-control', 'no-store').send();
}
