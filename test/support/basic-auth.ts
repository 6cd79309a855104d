/**
 * The Authorization header of client_secret_basic. RFC 6749 §2.3.1: client_id and secret are
 * each encoded with application/x-www-form-urlencoded (a space as "+") before they are joined by
 * ":" and base64-encoded, so that a ":" in either survives.
 */
export function basicAuth(clientId: string, secret: string): string {
  const formEncode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(secret)}`).toString('base64')}`;
}
