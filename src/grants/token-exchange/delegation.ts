/**
 * RFC 8693 delegation, as pure functions: reading `act` (§4.1), honouring `may_act` (§4.4),
 * deciding who may act for whom, and nesting the actors of a chain. No I/O: unit-tested in
 * test/unit/delegation.test.ts.
 */

/** RFC 8693 §4.1: the actor, and before it the prior actors, of a delegated token. */
export interface Act {
  sub?: string;
  iss?: string;
  client_id?: string;
  act?: Act;
}

/** How deep a delegation chain (nested `act`) may be. */
export const MAX_ACT_DEPTH = 10;

/** The `act` claim of a received token, reduced to identifying members; malformed is refused. */
export function readAct(v: unknown, bad: (why: string) => Error, depth = 0): Act | undefined {
  if (v === undefined) return undefined;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad('has a malformed "act" claim (RFC 8693 §4.1: a JSON object)');
  if (depth >= MAX_ACT_DEPTH) throw bad(`has a delegation chain ("act") deeper than ${MAX_ACT_DEPTH}`);
  const o = v as Record<string, unknown>;
  const act: Act = {};
  for (const k of ['sub', 'iss', 'client_id'] as const) {
    const member = o[k];
    if (typeof member === 'string') act[k] = member;
  }
  if (!act.sub && !act.client_id) throw bad('has an "act" claim that identifies no actor (no "sub")');
  const prior = readAct(o.act, bad, depth + 1);
  if (prior) act.act = prior;
  return act;
}

/** The identifying members of a party that `may_act` and the actor policy compare. */
export interface ActorIdentity {
  /** As Latchkey names it: a user's id for a Latchkey user, a client's id for a client. */
  sub: string;
  /** The token's own `iss` and `sub`, for a `may_act` that names an issuer. */
  iss: string;
  rawSub: string;
}

/**
 * RFC 8693 §4.4: `may_act` names the party allowed to act for the subject. With an `iss`, the
 * actor token's own `iss` and `sub` must match; without, the actor's `sub` as Latchkey names it.
 * Returns what is wrong, or undefined.
 */
export function mayActProblem(mayAct: unknown, actor: ActorIdentity): string | undefined {
  if (!mayAct || typeof mayAct !== 'object' || Array.isArray(mayAct)) {
    return 'the subject_token has a malformed "may_act" claim (RFC 8693 §4.4: a JSON object)';
  }
  const m = mayAct as Record<string, unknown>;
  if (typeof m.sub !== 'string') return 'the subject_token\'s "may_act" claim names no "sub"';
  const matches = m.iss !== undefined ? m.iss === actor.iss && m.sub === actor.rawSub : m.sub === actor.sub;
  return matches
    ? undefined
    : `actor_token's subject is not the party the subject_token allows to act for it ("may_act" names ${JSON.stringify(m.sub)}${typeof m.iss === 'string' ? ` of ${JSON.stringify(m.iss)}` : ''})`;
}

/**
 * Who may be the actor of an exchange (RFC 8693 §1.1, §2.1, §5). The actor token stands for the
 * party that will act with the new token — and that is the client calling /token, or a party the
 * client's policy names (its `token_exchange_actors`). Never the subject: a token of the subject
 * presented as the actor (the subject token itself, or another token of the same user) proves
 * nothing about anyone acting and would let impersonation pass for delegation.
 * Returns what is wrong, or undefined.
 */
export function actorProblem(
  actor: ActorIdentity,
  subject: { sub: string },
  client: { clientId: string; actors: readonly string[] },
): string | undefined {
  if (actor.sub === subject.sub) {
    return `actor_token represents the subject itself ("${actor.sub}"); the actor must be the party acting for the subject: the calling client "${client.clientId}"${client.actors.length ? ` or one of its token_exchange_actors` : ''}`;
  }
  if (actor.sub === client.clientId || client.actors.includes(actor.sub)) return undefined;
  return `actor_token represents "${actor.sub}", who is neither the calling client "${client.clientId}" nor a party its policy names (${
    client.actors.length ? `token_exchange_actors: ${client.actors.join(', ')}` : 'it has no token_exchange_actors'
  }); send a token of the client itself as actor_token (RFC 8693 §2.1)`;
}

/**
 * The `act` of the issued token: with an actor, the actor outermost and the subject token's own
 * `act` nested inside it (a chain, RFC 8693 §4.1); without one (impersonation), the subject
 * token's `act` unchanged, so a delegated token is never laundered into one without its actors.
 */
export function issuedAct(actor: { sub: string; foreignIss?: string } | undefined, subjectAct: Act | undefined): Act | undefined {
  if (!actor) return subjectAct;
  return { sub: actor.sub, ...(actor.foreignIss ? { iss: actor.foreignIss } : {}), ...(subjectAct ? { act: subjectAct } : {}) };
}
