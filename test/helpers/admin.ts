import assert from 'node:assert/strict';
import { applyBootstrap, bootstrapSchema } from '../../src/bootstrap.js';
import { basicAuth } from '../support/basic-auth.js';
import { postForm, startServer, type JsonBody, type TestServer } from './server.js';

export const ADMIN_SECRET = 'admin-secret-admin-secret-admin-secret-01';

/** What an admin API call answered. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  body: JsonBody;
}

export interface AdminTestServer extends TestServer {
  /** The admin API's resource identifier: `${issuer}/admin/api`. */
  audience: string;
  /** A client_credentials token of one of the bootstrap's admin clients ('admin', 'reader', 'other'). */
  token(clientId?: 'admin' | 'reader' | 'other'): Promise<string>;
  /** Calls /admin/api/v1<path>; `body` is sent as JSON (a string as is). */
  api(
    method: string,
    path: string,
    opts?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<ApiResponse>;
}

/**
 * A real server with three service clients: `admin` (latchkey:admin), `reader`
 * (latchkey:admin:read) and `other` (an access token for another API), all with ADMIN_SECRET;
 * `extra` is more of the bootstrap file (clients, users, resources), applied with them.
 */
export async function startAdminServer(
  extra: { clients?: unknown[]; users?: unknown[]; resources?: unknown[] } = {},
  opts: Parameters<typeof startServer>[0] = {},
): Promise<AdminTestServer> {
  const server = await startServer(opts);
  const audience = `${server.issuer}/admin/api`;
  const other = 'https://other-api.example.com';
  const svc = (client_id: string, scope: string, audiences: string[]) => ({
    client_id,
    client_secret: ADMIN_SECRET,
    grant_types: ['client_credentials'],
    scope,
    audiences,
  });
  await applyBootstrap(
    server.ctx.db,
    server.ctx.secrets,
    bootstrapSchema.parse({
      resources: [{ identifier: other, scopes: ['other:read'] }, ...(extra.resources ?? [])],
      clients: [
        svc('admin', 'latchkey:admin', [audience]),
        svc('reader', 'latchkey:admin:read', [audience]),
        svc('other', 'other:read', [other]),
        ...(extra.clients ?? []),
      ],
      users: extra.users ?? [],
    }),
  );
  const token = async (clientId: 'admin' | 'reader' | 'other' = 'admin') => {
    const res = await postForm(
      `${server.url}/token`,
      { grant_type: 'client_credentials', resource: clientId === 'other' ? other : audience },
      { authorization: basicAuth(clientId, ADMIN_SECRET) },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.access_token as string;
  };
  let adminToken: string | undefined;
  const api: AdminTestServer['api'] = async (method, path, o = {}) => {
    const bearer = o.token === undefined ? (adminToken ??= await token('admin')) : o.token;
    const headers: Record<string, string> = { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) };
    let body: string | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      headers['content-type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    }
    const res = await fetch(`${server.url}/admin/api/v1${path}`, {
      method,
      headers: { ...headers, ...o.headers },
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : '';
    } catch {
      /* not JSON */
    }
    return { status: res.status, headers: res.headers, body: parsed };
  };
  return Object.assign(server, { audience, token, api });
}
