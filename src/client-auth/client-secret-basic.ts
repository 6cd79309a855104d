import { invalidClient } from '../oauth/errors.js';

/**
 * RFC 6749 §2.3.1: client_id and client_secret are each form-urlencoded (RFC 6749 Appendix B)
 * and then joined with ":" and base64-encoded as in RFC 7617. So "+" means a space and "%3A" a
 * colon inside either part.
 */
export function parseBasicCredentials(header: string): { clientId: string; secret: string } {
  const encoded = header.slice('basic '.length).trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw invalidClient('the Authorization header is not valid Basic credentials (expected base64 of client_id:client_secret)', true);
  }
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidClient('the Basic credentials have no ":" between client_id and client_secret', true);
  try {
    const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    const clientId = formDecode(decoded.slice(0, colon));
    const secret = formDecode(decoded.slice(colon + 1));
    if (!clientId) throw invalidClient('the Basic credentials carry an empty client_id', true);
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    if (/[\u0000-\u001f\u007f]/.test(clientId) || secret.includes('\u0000')) {
      throw invalidClient('the Basic credentials contain control characters', true);
    }
    return { clientId, secret };
  } catch (err) {
    if (err instanceof URIError) {
      throw invalidClient('the Basic credentials are not form-urlencoded as RFC 6749 §2.3.1 requires (bad % escape)', true);
    }
    throw err;
  }
}
