import type { ClientView } from '../admin/services/clients.js';
import type { KeyView } from '../admin/services/keys.js';
import type { UserView } from '../admin/services/users.js';
import type { Resource } from '../oauth/client-metadata.js';
import type { AdminBackend, KeyRotation, TrustedIssuerView } from './backend.js';
import { CliError } from './common.js';

/** The admin API's resource identifier (RFC 8707) and base path: docs/contract.md "Admin API". */
const ADMIN_RESOURCE = '/admin/api';
const API_PREFIX = '/admin/api/v1';
/** The largest page the API gives (src/admin/api/pagination.ts MAX_LIMIT). */
const PAGE = 200;

export interface ApiSettings {
  /** LATCHKEY_URL without a trailing slash. */
  url: string;
  clientId: string;
  /** Read on first use (the environment, or standard input). */
  clientSecret(): Promise<string>;
  timeoutMs: number;
  fetch?: typeof fetch;
}

type Json = Record<string, unknown>;

interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** What the network layer said, as one line: refused, unknown host, TLS, timeout. */
export function networkReason(err: unknown, origin: string, timeoutMs: number): string {
  const e: { name?: string; message?: string; cause?: { code?: string; message?: string; name?: string } } = isObject(err) ? err : {};
  if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError' || e.cause?.code === 'UND_ERR_CONNECT_TIMEOUT') {
    return `no answer from ${origin} within ${timeoutMs / 1000} s (LATCHKEY_TIMEOUT)`;
  }
  const code = e.cause?.code;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused: is Latchkey running there?',
    ENOTFOUND: 'no such host',
    EAI_AGAIN: 'the host name could not be resolved now',
    ECONNRESET: 'the connection was reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    UND_ERR_SOCKET: 'the connection closed unexpectedly',
  };
  if (code && known[code]) return `cannot reach Latchkey at ${origin}: ${known[code]} (${code})`;
  if (code && /CERT|SSL|TLS|SELF_SIGNED|ALTNAME|UNABLE_TO/i.test(code)) {
    return `TLS failure talking to ${origin}: ${e.cause?.message ?? code} (${code}); with a private CA set NODE_EXTRA_CA_CERTS`;
  }
  const detail = e.cause?.message ?? e.message ?? String(err);
  return `cannot reach Latchkey at ${origin}: ${detail}${code ? ` (${code})` : ''}`;
}

/** RFC 6750 §3 `scope="..."` of a WWW-Authenticate challenge: the scope the request needed. */
const challengedScope = (h: string | null) => (h ? /scope="([^"]*)"/.exec(h)?.[1] : undefined);

/**
 * An RFC 7396 merge patch that turns `from` into `to`: changed members as they are in `to`,
 * objects member by member, members `to` lacks as null.
 */
export function mergePatch(from: Json, to: Json): Json {
  const patch: Json = {};
  for (const k of Object.keys(from)) if (!(k in to)) patch[k] = null;
  for (const [k, v] of Object.entries(to)) {
    const old = from[k];
    if (isObject(old) && isObject(v)) {
      const inner = mergePatch(old, v);
      if (Object.keys(inner).length) patch[k] = inner;
    } else if (JSON.stringify(old) !== JSON.stringify(v)) patch[k] = v;
  }
  return patch;
}

/**
 * API mode: a running Latchkey's admin API. The token endpoint comes from the server's discovery
 * document; the token (client_credentials, RFC 8707 `resource` = the admin API) is kept in memory
 * for the run and fetched again once if the API calls it expired. The client secret is sent with
 * client_secret_basic (RFC 6749 §2.3.1) and nowhere else.
 */
export function apiBackend(settings: ApiSettings): AdminBackend {
  const doFetch = settings.fetch ?? fetch;
  const origin = new URL(settings.url).origin;

  async function send(url: string, init: RequestInit): Promise<Answer> {
    let res: Response;
    try {
      res = await doFetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(settings.timeoutMs) });
    } catch (err) {
      throw new CliError(networkReason(err, origin, settings.timeoutMs));
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new CliError(networkReason(err, origin, settings.timeoutMs));
    }
    let body: unknown = undefined;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined; // not JSON: the callers say what they expected
      }
    }
    return { status: res.status, body, headers: res.headers };
  }

  let discovered: Promise<{ issuer: string; tokenEndpoint: string }> | undefined;
  const discovery = () =>
    (discovered ??= (async () => {
      const where = `${settings.url}/.well-known/openid-configuration`;
      const a = await send(where, { headers: { accept: 'application/json' } });
      const issuer = isObject(a.body) ? str(a.body.issuer) : undefined;
      const tokenEndpoint = isObject(a.body) ? str(a.body.token_endpoint) : undefined;
      if (a.status !== 200 || !issuer || !tokenEndpoint) {
        throw new CliError(
          `LATCHKEY_URL ${settings.url} does not look like a Latchkey server: GET ${where} answered ${a.status}${issuer ? ' without a token_endpoint' : ''}`,
        );
      }
      return { issuer, tokenEndpoint };
    })());

  let token: Promise<string> | undefined;
  const getToken = () =>
    (token ??= (async () => {
      const { issuer, tokenEndpoint } = await discovery();
      const secret = await settings.clientSecret();
      // RFC 6749 §2.3.1: both halves form-urlencoded before Base64.
      const basic = Buffer.from(`${encodeURIComponent(settings.clientId)}:${encodeURIComponent(secret)}`).toString('base64');
      const resource = `${issuer}${ADMIN_RESOURCE}`;
      const a = await send(tokenEndpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource }).toString(),
      });
      const b = isObject(a.body) ? a.body : {};
      const accessToken = str(b.access_token);
      if (a.status === 200 && accessToken) return accessToken;
      const error = str(b.error);
      const description = str(b.error_description);
      const why = description ? `${error}: ${description}` : (error ?? `HTTP ${a.status}`);
      if (error === 'invalid_client') {
        throw new CliError(
          `client "${settings.clientId}" could not authenticate at ${tokenEndpoint} (${why}); check LATCHKEY_CLIENT_ID and LATCHKEY_CLIENT_SECRET`,
        );
      }
      if (error === 'invalid_target' || error === 'invalid_scope' || error === 'unauthorized_client') {
        throw new CliError(
          `client "${settings.clientId}" may not get admin API tokens (${why}); it needs the client_credentials grant, "audiences": ["${resource}"] and "scope": "latchkey:admin" (or latchkey:admin:read to only read)`,
        );
      }
      throw new CliError(`no admin API token from ${tokenEndpoint}: ${why}`);
    })());

  /**
   * One admin API call. Statuses in `allow` are answered to the caller; every other failure is a
   * CliError with the API's problem detail (RFC 9457) in one line.
   */
  async function call(
    method: string,
    path: string,
    opts: { body?: unknown; ifMatch?: string; allow?: number[] } = {},
    retried = false,
  ): Promise<Answer> {
    const url = `${settings.url}${API_PREFIX}${path}`;
    const a = await send(url, {
      method,
      headers: {
        authorization: `Bearer ${await getToken()}`,
        accept: 'application/json, application/problem+json',
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(opts.ifMatch ? { 'if-match': opts.ifMatch } : {}),
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    if ((a.status >= 200 && a.status < 300) || opts.allow?.includes(a.status)) return a;
    const p = isObject(a.body) ? a.body : {};
    const detail = str(p.detail);
    if (a.status === 401) {
      // A token that expired during a long run: one new token, once.
      if (!retried && /expired/.test(detail ?? '')) {
        token = undefined;
        return call(method, path, opts, true);
      }
      throw new CliError(`the admin API refused the access token of client "${settings.clientId}": ${detail ?? 'HTTP 401'}`);
    }
    if (a.status === 403) {
      const needed = challengedScope(a.headers.get('www-authenticate')) ?? 'latchkey:admin';
      throw new CliError(
        `forbidden: client "${settings.clientId}" lacks the scope ${needed} for ${method} ${API_PREFIX}${path}${detail ? ` (${detail})` : ''}`,
      );
    }
    if (!detail) throw new CliError(`${method} ${url} answered ${a.status} without problem details: is LATCHKEY_URL a Latchkey server?`);
    const requestId = a.status >= 500 && str(p.request_id) ? `, request_id ${str(p.request_id)}` : '';
    throw new CliError(`${detail} (admin API: ${a.status} ${str(p.title) ?? ''}${requestId})`.replace(' )', ')'), a.status === 400 ? 2 : 1);
  }

  // The API's answers are its documented views (src/admin/api/*): read as such, not validated again.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the view
  const body = <T>(a: Answer): T => a.body as T;
  const id = encodeURIComponent;

  async function all<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `?limit=${PAGE}${cursor ? `&cursor=${id(cursor)}` : ''}`;
      const page = body<{ items: T[]; next_cursor: string | null }>(await call('GET', `${path}${q}`));
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return items;
  }

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the item type
  async function get<T>(path: string): Promise<{ item: T; etag: string | undefined } | undefined> {
    const a = await call('GET', path, { allow: [404] });
    return a.status === 404 ? undefined : { item: body<T>(a), etag: a.headers.get('etag') ?? undefined };
  }

  const withoutBuiltIn = ({ built_in: _b, ...r }: Resource & { built_in?: boolean }): Resource => r;
  const withoutDates = ({ created_at: _c, updated_at: _u, ...t }: TrustedIssuerView): Json => t;

  /** Changes a document to `next` with a merge patch guarded by If-Match; 'unchanged' sends nothing. */
  async function replace(path: string, current: Json, next: Json, etag: string | undefined): Promise<'updated' | 'unchanged'> {
    const patch = mergePatch(current, next);
    if (Object.keys(patch).length === 0) return 'unchanged';
    await call('PATCH', path, { body: patch, ...(etag ? { ifMatch: etag } : {}) });
    return 'updated';
  }

  return {
    mode: 'api',
    propagation: `the server that answered applies it at once, its other processes within their CLIENT_CACHE_TTL.`,
    clients: {
      list: () => all<ClientView>('/clients'),
      find: async (clientId) => (await get<ClientView>(`/clients/${id(clientId)}`))?.item,
      async create(input) {
        const { client_secret, ...client } = body<ClientView & { client_secret?: string }>(await call('POST', '/clients', { body: input }));
        return { client, clientSecret: client_secret };
      },
      delete: async (clientId) => (await call('DELETE', `/clients/${id(clientId)}`, { allow: [404] })).status !== 404,
      async rotateSecret(clientId, overlapSeconds) {
        const a = await call('POST', `/clients/${id(clientId)}/secret`, { body: { overlap_seconds: overlapSeconds }, allow: [404] });
        if (a.status === 404) return undefined;
        const r = body<{ client_secret: string; previous_secret_expires_at: string | null }>(a);
        return { clientSecret: r.client_secret, previousSecretExpiresAt: r.previous_secret_expires_at };
      },
    },
    users: {
      list: () => all<UserView>('/users'),
      async find(nameOrId) {
        if (nameOrId.length <= 100) {
          const a = await call('GET', `/users?username=${id(nameOrId)}`, { allow: [400] });
          const first = a.status === 200 ? body<{ items: UserView[] }>(a).items[0] : undefined;
          if (first) return first;
        }
        return nameOrId.length <= 255 ? (await get<UserView>(`/users/${id(nameOrId)}`))?.item : undefined;
      },
      async create(user) {
        const a = await call('POST', '/users', { body: user, allow: [409] });
        return a.status === 409 ? undefined : body<UserView>(a);
      },
      setRoles: async (user, roles) => (await call('PATCH', `/users/${id(user.id)}`, { body: { roles }, allow: [404] })).status !== 404,
      async setClaims(user, patch) {
        // PATCH /users/{id} is a merge patch of the user; its claims member merges into the claims.
        const a = await call('PATCH', `/users/${id(user.id)}`, { body: { claims: patch }, allow: [404] });
        return a.status === 404 ? undefined : body<UserView>(a);
      },
      delete: async (user) => (await call('DELETE', `/users/${id(user.id)}`, { allow: [404] })).status !== 404,
      async setPassword(user, password) {
        const a = await call('POST', `/users/${id(user.id)}/password`, { body: { password }, allow: [404] });
        if (a.status === 404) return undefined;
        const r = body<{ sessions_ended: number; grants_revoked: number }>(a);
        return { sessionsEnded: r.sessions_ended, grantsRevoked: r.grants_revoked };
      },
      async revokeConsent(user, clientId) {
        // A grant's id is <sub>.<client_id> (src/admin/services/grants.ts); none: nothing to withdraw.
        const path = `/grants/${id(`${user.id}.${clientId}`)}`;
        const grant = await get<{ consent: unknown[] }>(path);
        if (!grant) return false;
        const a = await call('DELETE', path, { allow: [404] });
        return a.status !== 404 && grant.item.consent.length > 0;
      },
      async unlock(user) {
        const a = await call('POST', `/users/${id(user.id)}/unlock`, { allow: [404] });
        return a.status === 404 ? undefined : body<{ failures_cleared: boolean }>(a).failures_cleared;
      },
    },
    resources: {
      list: async () => (await all<Resource>('/resources')).map(withoutBuiltIn),
      async find(identifier) {
        const found = await get<Resource>(`/resources/${id(identifier)}`);
        return found && withoutBuiltIn(found.item);
      },
      create: async (resource) => (await call('POST', '/resources', { body: resource, allow: [409] })).status !== 409,
      async update(current, next) {
        const path = `/resources/${id(current.identifier)}`;
        const found = await get<Resource>(path);
        if (!found) throw new CliError(`resource "${current.identifier}" was deleted meanwhile`);
        return replace(path, withoutBuiltIn(found.item), next, found.etag);
      },
    },
    trust: {
      list: () => all<TrustedIssuerView>('/trusted-issuers'),
      async add(entry, replacing) {
        const a = await call('POST', '/trusted-issuers', { body: entry, allow: [409] });
        if (a.status !== 409) return 'created';
        if (!replacing) return undefined;
        const path = `/trusted-issuers/${id(entry.issuer)}`;
        const found = await get<TrustedIssuerView>(path);
        if (!found) throw new CliError(`issuer "${entry.issuer}" was removed meanwhile; run the command again`);
        return replace(path, withoutDates(found.item), entry, found.etag);
      },
      remove: async (issuer) => (await call('DELETE', `/trusted-issuers/${id(issuer)}`, { allow: [404] })).status !== 404,
    },
    keys: {
      list: () => all<KeyView>('/keys'),
      async rotate({ delaySeconds, alg }) {
        const req = { ...(delaySeconds !== undefined ? { delay_seconds: delaySeconds } : {}), ...(alg ? { alg } : {}) };
        return body<KeyRotation>(await call('POST', '/keys/rotate', { body: req }));
      },
    },
  };
}
