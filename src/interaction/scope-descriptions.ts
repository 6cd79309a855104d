/**
 * Plain-words descriptions of scopes for the consent page. The page always shows the scope name
 * beside its description, so a person (or a support desk) can see exactly what is being granted
 * even when the description is only a readable guess.
 */

export interface ScopeDescription {
  name: string;
  description: string;
}

/** OpenID Connect Core §5.4 standard scopes, plus offline_access (§11). */
const STANDARD: ReadonlyMap<string, string> = new Map([
  ['openid', 'Confirm your identity'],
  ['profile', 'See your basic profile details, such as your name and username'],
  ['email', 'See your email address'],
  ['address', 'See your postal address'],
  ['phone', 'See your phone number'],
  ['offline_access', 'Keep access when you are not using it'],
]);

/**
 * A readable fallback for a scope nobody described: "api:read" → "api: read",
 * "orders.write" → "orders: write", "read_reports" → "read reports". URL-like scopes
 * ("https://api.example.com/read") are left as they are: rewriting them would only mislead.
 */
export function fallbackDescription(scope: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(scope) || scope.startsWith('urn:')) return scope;
  const words = (s: string) =>
    s
      .replace(/[_\-.]+/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
  const [, rawHead, rawTail] = /^([A-Za-z0-9_-]+)[:./]([^/].*)$/.exec(scope) ?? [];
  if (rawHead !== undefined && rawTail !== undefined) {
    const head = words(rawHead);
    const tail = words(rawTail.replace(/[:/]+/g, ' '));
    if (head && tail) return `${head}: ${tail}`;
  }
  return words(scope) || scope;
}

/**
 * Describes each requested scope in order, once. The OpenID Connect scopes keep their standard
 * wording (their meaning is fixed by the protocol); any other scope uses the description configured
 * for its resource server, else a readable form of its name.
 */
export function describeScopes(scopes: string[], resourceScopeDescriptions?: Map<string, string>): ScopeDescription[] {
  const seen = new Set<string>();
  const out: ScopeDescription[] = [];
  for (const name of scopes) {
    if (name === '' || seen.has(name)) continue;
    seen.add(name);
    const description = STANDARD.get(name) || resourceScopeDescriptions?.get(name)?.trim() || fallbackDescription(name);
    out.push({ name, description });
  }
  return out;
}
