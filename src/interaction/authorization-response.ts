import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { RedirectTarget } from './authorization-request.js';
import { renderPage } from './pages.js';

/**
 * Sends an authorization response (success or error) to a redirect URI already known good, in
 * the requested response mode, always with `iss` (RFC 9207) and `state` when one was sent.
 * 303 See Other, so a POSTed form (login, consent) is never re-POSTed (RFC 9700 §4.12).
 */
export async function sendAuthorizationResponse(
  reply: FastifyReply,
  issuer: string,
  target: RedirectTarget,
  params: Record<string, string>,
): Promise<FastifyReply> {
  const all: Record<string, string> = { ...params, ...(target.state !== undefined ? { state: target.state } : {}), iss: issuer };
  if (target.responseMode === 'form_post') {
    const nonce = randomBytes(16).toString('base64url');
    return renderPage(
      reply,
      'form-post',
      {
        action: target.redirectUri,
        params: Object.entries(all).map(([name, value]) => ({ name, value })),
        nonce,
      },
      { scriptNonce: nonce },
    );
  }
  const qs = new URLSearchParams(all).toString();
  const url =
    target.responseMode === 'fragment'
      ? `${target.redirectUri}#${qs}`
      : `${target.redirectUri}${target.redirectUri.includes('?') ? '&' : '?'}${qs}`;
  return reply.code(303).header('location', url).header('cache-control', 'no-store').send();
}
