/**
 * Consent is per (resource, scope): "read" at one API is not "read" at another,
 * so what a person grants is remembered per resource server, and the consent page names each
 * one. OpenID scopes (OIDC Core §5.4, offline_access §11) concern the person rather than an API;
 * they are kept under NO_RESOURCE. Pure functions: the repository stores, these decide.
 */
import type { Resource } from '../oauth/client-metadata.js';
import { OIDC_SCOPES } from '../users/claims.js';

/** The "resource" of the OpenID scopes (and of an API scope requested with no audience at all). */
export const NO_RESOURCE = '';

/** Resource identifier (or NO_RESOURCE) → the scopes granted or asked for there. */
export type ConsentScopes = ReadonlyMap<string, readonly string[]>;

/**
 * What a request asks the person to grant, per resource: each OpenID scope under NO_RESOURCE;
 * each other scope under every requested resource that defines it (the access token is valid at
 * all of them). A scope none of them defines is asked for under every requested resource, so
 * consent never covers more than was shown.
 */
export function requestedConsent(
  scopes: readonly string[],
  audiences: readonly string[],
  resources: ReadonlyMap<string, Resource>,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (resource: string, scope: string) => {
    const list = out.get(resource) ?? [];
    if (!list.includes(scope)) list.push(scope);
    out.set(resource, list);
  };
  for (const scope of scopes) {
    if (OIDC_SCOPES.has(scope) || audiences.length === 0) {
      add(NO_RESOURCE, scope);
      continue;
    }
    const definers = audiences.filter((a) => resources.get(a)?.scopes.includes(scope));
    for (const a of definers.length ? definers : audiences) add(a, scope);
  }
  return out;
}

/** Whether anything requested has not been granted at that same resource. */
export function consentMissing(requested: ConsentScopes, granted: ConsentScopes): boolean {
  for (const [resource, scopes] of requested) {
    const have = new Set(granted.get(resource) ?? []);
    if (scopes.some((s) => !have.has(s))) return true;
  }
  return false;
}
