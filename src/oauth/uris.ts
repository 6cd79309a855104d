/** URI rules shared by registration and request validation (docs/security.md items 1 and 3). */

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}

/**
 * Why a redirect URI may not be registered, or undefined when it may. RFC 6749 §3.1.2 (absolute,
 * no fragment), RFC 9700 §2.1 / §4.1.3, RFC 8252 §7 (custom schemes and loopback for native apps).
 */
export function redirectUriProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `"${raw}" is not an absolute URI`;
  }
  if (raw.includes('#')) return `"${raw}" has a fragment; redirect URIs must not contain one (RFC 6749 §3.1.2)`;
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return `"${raw}" uses the ${url.protocol} scheme, which is never allowed`;
  if (/[\s<>"\\^`{|}]/.test(raw)) return `"${raw}" contains characters that must be percent-encoded`;
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return `"${raw}" uses plain http; use https (plain http is allowed only on loopback: 127.0.0.1, [::1], localhost)`;
  }
  if ((url.protocol === 'http:' || url.protocol === 'https:') && url.username) {
    return `"${raw}" contains user information before the host, which is not allowed`;
  }
  return undefined;
}

/** RFC 8707 §2: a resource indicator is an absolute URI without a fragment. */
export function resourceIndicatorProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `"${raw}" is not an absolute URI`;
  }
  if (raw.includes('#')) return `"${raw}" has a fragment; resource indicators must not contain one (RFC 8707 §2)`;
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return `"${raw}" uses the ${url.protocol} scheme, which is not allowed`;
  return undefined;
}
