import type { ClientRecord } from '../../domain/client.js';
import { invalidRequest } from '../../oauth/errors.js';
import type { GrantDeps } from '../types.js';
import { actorProblem, mayActProblem } from './delegation.js';
import type { Party } from './party.js';
import { checkLength, jwtToken, ownAccessToken } from './readers.js';
import { ACTOR_TYPES, TOKEN_TYPE } from './token-types.js';

export function checkActorTokenType(type: string): void {
  if (type === TOKEN_TYPE.id_token) {
    throw invalidRequest(
      `actor_token_type ${TOKEN_TYPE.id_token} is not accepted: an ID token says who a user is to its client, while the actor is the party acting (the calling client); use one of ${ACTOR_TYPES.join(', ')}`,
    );
  }
  if (!ACTOR_TYPES.includes(type)) {
    throw invalidRequest(`actor_token_type "${type}" is not supported; use one of ${ACTOR_TYPES.join(', ')}`);
  }
}

/**
 * RFC 8693 §2.1 actor_token: the party that acts for the subject with the issued token. Verified
 * like a subject token of its type, then held to the delegation rules (delegation.ts): it stands
 * for the calling client or a party the client's `token_exchange_actors` names, never for the
 * subject; and when the subject token carries `may_act`, it is the party named there (§4.4).
 */
export async function readActorToken(
  token: string,
  type: string,
  subject: Party,
  client: ClientRecord,
  deps: GrantDeps,
  now: number,
): Promise<Party> {
  const bad = (why: string) => invalidRequest(`actor_token ${why}`);
  checkLength(token, bad);
  const actor =
    type === TOKEN_TYPE.access_token ? await ownAccessToken(token, deps, now, bad) : await jwtToken('actor', token, client, deps, now, bad);
  const problem = actorProblem(actor, subject, { clientId: client.clientId, actors: client.metadata.token_exchange_actors ?? [] });
  if (problem) throw invalidRequest(problem);
  if (subject.mayAct !== undefined) {
    const mayAct = mayActProblem(subject.mayAct, actor);
    if (mayAct) throw invalidRequest(mayAct);
  }
  return actor;
}
