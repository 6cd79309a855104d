import { invalidScope, invalidTarget } from './errors.js';
import type { Resource } from './client-metadata.js';
import { resourceIndicatorProblem } from './uris.js';

export interface TargetInput {
  clientId: string;
  /** The client's registered `audiences`. */
  clientAudiences: readonly string[];
  /** The client's registered `scope`, as tokens. */
  clientScopes: readonly string[];
  /** RFC 8707 `resource` values requested (possibly none). */
  requestedResources: readonly string[];
  /** Requested scopes, or undefined when the `scope` parameter was absent. */
  requestedScopes: readonly string[] | undefined;
  resources: ReadonlyMap<string, Resource>;
  defaultTtl: number;
}

export interface Target {
  audiences: string[];
  scopes: string[];
  ttl: number;
}

/**
 * Pure: decides the audience, scope and lifetime of an access token (RFC 8707, RFC 6749 §3.3).
 * - `resource` values must be among the client's audiences (invalid_target otherwise).
 * - Without `resource`, the audience is the client's resources that define a requested scope,
 *   or the client's only audience.
 * - Every requested scope must be registered for the client and defined by a target resource;
 *   without `scope`, the client gets all of its scopes the targets define.
 * - The lifetime is the shortest of the targets' `access_token_ttl`.
 */
export function resolveTarget(t: TargetInput): Target {
  // A scope the client may never have is the clearest error, whatever the audience turns out to be.
  const clientScopes = new Set(t.clientScopes);
  for (const s of t.requestedScopes ?? []) {
    if (!clientScopes.has(s))
      throw invalidScope(
        `scope "${s}" is not registered for client "${t.clientId}"; its scopes are: ${t.clientScopes.join(' ') || '(none)'}`,
      );
  }
  const allowed = new Set(t.clientAudiences);
  for (const r of t.requestedResources) {
    // A registered audience was checked as a resource indicator when it was registered; only an
    // unknown value needs the (URL-parsing) check, to say precisely what is wrong with it.
    if (!allowed.has(r)) {
      const problem = resourceIndicatorProblem(r);
      if (problem) throw invalidTarget(`resource ${problem}`);
      throw invalidTarget(
        `client "${t.clientId}" may not obtain tokens for resource "${r}"` +
          (t.clientAudiences.length ? `; its audiences are: ${t.clientAudiences.join(', ')}` : '; it has no audiences registered'),
      );
    }
  }

  let audiences = [...new Set(t.requestedResources)];
  if (audiences.length === 0) {
    const scopes = t.requestedScopes;
    if (scopes?.length) {
      audiences = t.clientAudiences.filter((a) => t.resources.get(a)?.scopes.some((s) => scopes.includes(s)));
    }
    if (audiences.length === 0) {
      const [only] = t.clientAudiences;
      if (t.clientAudiences.length === 1 && only !== undefined) audiences = [only];
      else if (t.clientAudiences.length === 0) {
        throw invalidTarget(
          `client "${t.clientId}" has no audiences registered, so there is no resource to issue an access token for; register one in its "audiences"`,
        );
      } else {
        throw invalidTarget(
          `client "${t.clientId}" may obtain tokens for several resources; name one with the "resource" parameter (RFC 8707): ${t.clientAudiences.join(', ')}`,
        );
      }
    }
  }

  const defined = new Set(audiences.flatMap((a) => t.resources.get(a)?.scopes ?? []));
  let scopes: string[];
  if (t.requestedScopes === undefined) {
    scopes = t.clientScopes.filter((s) => defined.has(s));
  } else {
    for (const s of t.requestedScopes) {
      if (!defined.has(s))
        throw invalidScope(
          `scope "${s}" is not defined by ${audiences.length > 1 ? 'the requested resources' : `resource "${audiences[0]}"`}`,
        );
    }
    scopes = [...t.requestedScopes];
  }

  const ttl = Math.min(...audiences.map((a) => t.resources.get(a)?.access_token_ttl ?? t.defaultTtl));
  return { audiences, scopes, ttl };
}
