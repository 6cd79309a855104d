import type { TrustDeps } from './types.js';

/**
 * How an asserted `sub` becomes the `sub` of a Latchkey token. When it is the username of a
 * Latchkey user, the token's `sub` is that user's id — the same `sub` the user has in ID tokens,
 * /userinfo and tokens from the authorization code flow, so a resource server sees one identity
 * (usernames compare ignoring case, as at login). Any other value is used verbatim: a partner's
 * own identifier for someone Latchkey does not know.
 */
export async function localSubject(users: TrustDeps['users'], asserted: string): Promise<{ sub: string; userId?: string }> {
  const user = await users.findByUsername(asserted);
  return user ? { sub: user.id, userId: user.id } : { sub: asserted };
}
