import type { ClientRecord } from '../../domain/client.js';
import { invalidRequest } from '../../oauth/errors.js';
import type { GrantDeps } from '../types.js';
import type { Party } from './party.js';
import { checkLength, jwtToken, ownAccessToken, ownIdToken } from './readers.js';
import { SUBJECT_TYPES, TOKEN_TYPE } from './token-types.js';

export function checkSubjectTokenType(type: string): void {
  if (!SUBJECT_TYPES.includes(type)) {
    throw invalidRequest(`subject_token_type "${type}" is not supported; use one of ${SUBJECT_TYPES.join(', ')}`);
  }
}

/**
 * RFC 8693 §2.1 subject_token: who the issued token is about. Verified by its type's reader, then
 * held to what the calling client may exchange (§1.1, §5):
 * - one of our access tokens must be meant for the calling client — issued to it, or for an
 *   audience the client is registered for (a resource server exchanging a token it received) —
 *   so a token for another API cannot be swapped by whoever got hold of it;
 * - an ID token only by the client it was issued to, and it grants no scope (readers.ts);
 * - a trusted issuer's JWT only by a client among the issuer's client_ids (verify-trusted.ts).
 */
export async function readSubjectToken(token: string, type: string, client: ClientRecord, deps: GrantDeps, now: number): Promise<Party> {
  const bad = (why: string) => invalidRequest(`subject_token ${why}`);
  checkLength(token, bad);
  const subject =
    type === TOKEN_TYPE.access_token
      ? await ownAccessToken(token, deps, now, bad)
      : type === TOKEN_TYPE.id_token
        ? await ownIdToken(token, client, deps, now, bad)
        : await jwtToken('subject', token, client, deps, now, bad);
  if (subject.kind === 'access_token') {
    const audiences = subject.audiences ?? [];
    const forClient = subject.clientId === client.clientId || audiences.some((a) => client.metadata.audiences.includes(a));
    if (!forClient) {
      throw bad(
        `is for ${audiences.map((a) => `"${a}"`).join(', ')}, none of which client "${client.clientId}" is registered for, and was not issued to it; a client may exchange only tokens issued to it or meant for its audiences (RFC 8693 §1.1)`,
      );
    }
  }
  return subject;
}
