/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), space-delimited. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function isScopeToken(s: string): boolean {
  return SCOPE_TOKEN.test(s);
}

/** Parses a scope parameter into distinct tokens, in order; undefined for an invalid value. */
export function parseScope(raw: string): string[] | undefined {
  if (raw === '') return [];
  const parts = raw.split(' ');
  if (parts.some((p) => !isScopeToken(p))) return undefined;
  return [...new Set(parts)];
}
