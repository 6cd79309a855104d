import type { ClientRecord } from '../domain/client.js';
import { invalidScope } from './errors.js';
import type { Resource } from './client-metadata.js';
import { parseScope } from './scopes.js';
import { resolveTarget } from './targets.js';
import { OIDC_SCOPES } from '../users/claims.js';

/**
 * Pure: the scopes and resources a person is asked to grant (authorization and device requests).
 * Every scope must be registered for the client; resource scopes must also be defined by a
 * resource among the client's audiences (RFC 8707). Without `scope`, the client's registered
 * scopes except offline_access. Throws invalid_scope / invalid_target.
 */
export function requestedScopes(
  client: ClientRecord,
  rawScope: string | undefined,
  requestedResources: readonly string[],
  resources: ReadonlyMap<string, Resource>,
): { scopes: string[]; audiences: string[] } {
  const clientScopes = parseScope(client.metadata.scope) ?? [];
  let scopes: string[];
  if (rawScope === undefined || rawScope === '') {
    scopes = clientScopes.filter((s) => s !== 'offline_access');
  } else {
    const parsed = parseScope(rawScope);
    if (!parsed) throw invalidScope('scope must be scope tokens separated by single spaces (RFC 6749 §3.3)');
    scopes = parsed;
  }
  const unknown = scopes.filter((s) => !clientScopes.includes(s));
  if (unknown.length) throw invalidScope(`scope "${unknown[0]}" is not registered for client "${client.clientId}"`);
  const apiScopes = scopes.filter((s) => !OIDC_SCOPES.has(s));
  let audiences: string[] = [];
  if (requestedResources.length || apiScopes.length) {
    audiences = resolveTarget({
      clientId: client.clientId,
      clientAudiences: client.metadata.audiences,
      clientScopes: clientScopes.filter((s) => !OIDC_SCOPES.has(s)),
      requestedResources,
      requestedScopes: apiScopes,
      resources,
      defaultTtl: 0,
    }).audiences;
  }
  return { scopes, audiences };
}
