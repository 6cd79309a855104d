/**
 * Redirect URI matching (docs/security.md item 1, RFC 9700 §2.1, §4.1.3): exact string comparison,
 * with one exception — a native app's loopback redirect may use any port (RFC 8252 §7.3), and
 * only on the IP literals 127.0.0.1 and [::1]. No normalisation of any kind: a changed case,
 * trailing slash, added query, dot segment or encoding difference is a different URI.
 */
const LOOPBACK_IP = /^http:\/\/(127\.0\.0\.1|\[::1\])(:\d{1,5})?(\/[^?#]*)?(\?[^#]*)?$/;

function withoutPort(uri: string): string | undefined {
  const m = LOOPBACK_IP.exec(uri);
  if (!m) return undefined;
  return `http://${m[1]}${m[3] ?? ''}${m[4] ?? ''}`;
}

export function matchRedirectUri(registered: readonly string[], requested: string): boolean {
  if (registered.includes(requested)) return true;
  const req = withoutPort(requested);
  if (req === undefined) return false;
  return registered.some((r) => withoutPort(r) === req);
}
