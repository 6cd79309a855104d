import type { FastifyRequest } from 'fastify';
import type { Clock } from '../../clock.js';
import type { KeyStore } from '../../keys/keystore.js';
import type { Resource } from '../../oauth/client-metadata.js';
import type { ResourcesRepository } from '../../store/repositories/resources.js';
import type { AccessTokenVerifierDeps } from '../../tokens/own-access-token.js';
import { verifyOwnAccessToken } from '../../tokens/own-access-token.js';
import { AdminError } from '../services/errors.js';
import type { Actor } from '../services/audit.js';

/** Read and write everything the admin API offers. */
export const ADMIN_SCOPE = 'latchkey:admin';
/** Read only: GET (and HEAD) requests. */
export const ADMIN_READ_SCOPE = 'latchkey:admin:read';

/** The admin API's resource identifier (RFC 8707), the `aud` its tokens carry. */
export const adminAudience = (issuer: string): string => `${issuer}/admin/api`;

/** The built-in resource a client names in `audiences` to get admin API tokens. */
export function adminResource(issuer: string): Resource {
  return {
    identifier: adminAudience(issuer),
    name: 'Latchkey admin API',
    scopes: [ADMIN_SCOPE, ADMIN_READ_SCOPE],
    scope_descriptions: {
      [ADMIN_SCOPE]: 'Manage this Latchkey server: clients, users, resources, keys and audit events',
      [ADMIN_READ_SCOPE]: "Read this Latchkey server's configuration and audit events",
    },
  };
}

/**
 * Ensures the built-in resource exists, at every start-up (idempotent: nothing is written when it
 * is already as defined; an issuer change adds the new identifier). Its definition is Latchkey's:
 * the admin API refuses to change or delete it.
 */
export async function ensureAdminResource(resources: Pick<ResourcesRepository, 'upsert'>, issuer: string) {
  return resources.upsert(adminResource(issuer));
}

export interface AdminAuthDeps {
  issuer: string;
  clock: Clock;
  keystore: KeyStore;
  statuses: AccessTokenVerifierDeps['statuses'];
}

/** RFC 6750 §3: the challenge of every 401 and 403, with the scope the request needs. */
function challenge(error: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | undefined, description: string, scope: string) {
  const parts = ['Bearer realm="latchkey"'];
  if (error) parts.push(`error="${error}"`, `error_description="${description.replace(/["\\]/g, '')}"`);
  parts.push(`scope="${scope}"`);
  return { 'www-authenticate': parts.join(', ') };
}

/** Whether the method only reads (RFC 9110 §9.2.1 safe methods). */
const isRead = (method: string) => method === 'GET' || method === 'HEAD';

/**
 * Who may call the admin API: a live access token of ours (src/tokens/own-access-token.ts: not
 * revoked, its client not deleted), issued for the admin API's audience, with `latchkey:admin`,
 * or `latchkey:admin:read` for reads. The token's client (and user, when a person signed in) is
 * the actor every audit event names. Tokens are taken from the Authorization header only.
 */
export async function authenticateAdmin(req: FastifyRequest, deps: AdminAuthDeps): Promise<Actor> {
  const needed = isRead(req.method) ? ADMIN_READ_SCOPE : ADMIN_SCOPE;
  const header = req.headers.authorization;
  if (header === undefined) {
    throw new AdminError(
      'unauthorized',
      'an access token is required: send "Authorization: Bearer <token>"',
      [],
      challenge(undefined, '', needed),
    );
  }
  const [, token] = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header) ?? [];
  if (token === undefined) {
    const why = 'the Authorization header must be "Bearer <access token>"';
    throw new AdminError('unauthorized', why, [], challenge('invalid_request', why, needed));
  }
  const verdict = await verifyOwnAccessToken(token, deps, deps.clock.now());
  if (!verdict.live) {
    const why = {
      invalid: 'the access token is invalid',
      expired: 'the access token has expired',
      revoked: 'the access token has been revoked',
      client_deleted: 'the client this access token was issued to has been deleted',
    }[verdict.reason];
    throw new AdminError('unauthorized', why, [], challenge('invalid_token', why, needed));
  }
  const claims = verdict.claims;
  const audience = adminAudience(deps.issuer);
  const aud = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
  if (!aud.includes(audience)) {
    const why = `the access token is not meant for the admin API (its audience must be ${audience})`;
    throw new AdminError('forbidden', why, [], challenge('insufficient_scope', why, needed));
  }
  const scopes = (claims.scope ?? '').split(' ');
  const allowed = scopes.includes(ADMIN_SCOPE) || (needed === ADMIN_READ_SCOPE && scopes.includes(ADMIN_READ_SCOPE));
  if (!allowed) {
    const why =
      needed === ADMIN_SCOPE && scopes.includes(ADMIN_READ_SCOPE)
        ? `the access token has ${ADMIN_READ_SCOPE}, which only reads; changes need ${ADMIN_SCOPE}`
        : `the access token lacks the scope ${needed}`;
    throw new AdminError('forbidden', why, [], challenge('insufficient_scope', why, needed));
  }
  // A person's token has their sub; a client's own (client_credentials) has the client's id.
  return {
    client_id: claims.client_id,
    ...(claims.sub !== claims.client_id ? { sub: claims.sub } : {}),
    ip: req.ip,
  };
}
