/**
 * RFC 7662 §4: the introspection endpoint must not tell just any client about any token — a
 * token's claims (who, which client, what scope) are the business of the client that holds it
 * and of the resource server it is meant for. So a client learns about an access token only when
 *   - the token was issued to it (`client_id`), or
 *   - one of the token's audiences is among the client's registered `audiences`: it is (or
 *     speaks for) a resource server the token is for.
 * Everyone else gets `{"active": false}`, exactly as for a token that does not exist, so asking
 * reveals nothing (§2.2). Refresh tokens are reported only to the client they were issued to.
 */
export function mayIntrospectAccessToken(
  caller: { clientId: string; audiences: readonly string[] },
  token: { client_id: string; aud: string | readonly string[] },
): boolean {
  if (token.client_id === caller.clientId) return true;
  const audiences = typeof token.aud === 'string' ? [token.aud] : token.aud;
  return audiences.some((a) => caller.audiences.includes(a));
}
