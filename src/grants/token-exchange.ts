import { CompactSign, decodeJwt, type JWTPayload } from 'jose';
import { z } from 'zod';
import { epochSeconds } from '../clock.js';
import type { SigningKey } from '../keys/keystore.js';
import { invalidRequest, invalidTarget } from '../oauth/errors.js';
import { repeatable, required } from '../oauth/params.js';
import { parseScope } from '../oauth/scopes.js';
import { resolveTarget } from '../oauth/targets.js';
import type { ClientRecord } from '../store/repositories/clients.js';
import { audienceClaim, buildAccessTokenClaims, newJti, signAccessToken } from '../tokens/access-token.js';
import { verifyOwnJwt } from '../tokens/verify-own.js';
import { JwtRejected, MAX_RECEIVED_JWT_LENGTH } from '../trust/received-jwt.js';
import { recordTrustedJwt, verifyTrustedJwt, type TrustedJwt } from '../trust/verify-trusted.js';
import { boundScopes, requestedScopes, requireConfidentialClient } from './jwt-bearer.js';
import { defineGrant, type GrantDeps, type GrantHandler } from './types.js';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** RFC 8693 §3 token type identifiers. */
export const TOKEN_TYPE = {
  access_token: 'urn:ietf:params:oauth:token-type:access_token',
  id_token: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const;

/** What subject_token / actor_token may be. */
const ACCEPTED_TYPES: readonly string[] = [TOKEN_TYPE.access_token, TOKEN_TYPE.id_token, TOKEN_TYPE.jwt];
/** What requested_token_type may ask for. */
const ISSUED_TYPES: readonly string[] = [TOKEN_TYPE.access_token, TOKEN_TYPE.jwt];

/**
 * Lifetime of an issued token of type jwt. Such a JWT is typically presented as a JWT-bearer
 * assertion to another domain's authorization server (identity chaining), where assertions live
 * minutes: five minutes is what this server accepts by default.
 */
export const ISSUED_JWT_TTL = 300;

/** How deep a delegation chain (nested `act`) may be. */
const MAX_ACT_DEPTH = 10;

export const parameters = z.object({
  subject_token: required('subject_token'),
  subject_token_type: required('subject_token_type'),
  actor_token: z.string().min(1, 'the "actor_token" parameter must not be empty').optional(),
  actor_token_type: z.string().min(1, 'the "actor_token_type" parameter must not be empty').optional(),
  requested_token_type: z.string().min(1, 'the "requested_token_type" parameter must not be empty').optional(),
  scope: z.string().optional(),
  resource: repeatable,
  audience: repeatable,
});

/** RFC 8693 §4.1: the actor, and before it the prior actors, of a delegated token. */
interface Act {
  sub?: string;
  iss?: string;
  client_id?: string;
  act?: Act;
}

/** A verified subject or actor token, reduced to what the exchange needs. */
interface Party {
  /** The `sub` of Latchkey tokens for this party (a user's id for a Latchkey username). */
  sub: string;
  /** `iss` and `sub` as the token said them (for may_act). */
  iss: string;
  rawSub: string;
  /** For `act`: the foreign issuer when `sub` is a trusted issuer's identifier used verbatim. */
  foreignIss?: string;
  exp: number;
  /** The scopes the token carries; undefined when it carries none to narrow (an ID token). */
  scopes: string[] | undefined;
  act: Act | undefined;
  mayAct: unknown;
  grantId?: string;
  authTime?: number;
  /** A trusted issuer's JWT, single-use: its jti is recorded when the exchange succeeds. */
  trusted?: TrustedJwt;
}

type Role = 'subject' | 'actor';

/**
 * RFC 8693. A client presents a subject_token (a Latchkey access or ID token, or a trusted
 * issuer's JWT) and optionally an actor_token, and receives a token for the subject:
 * - with an actor_token, a delegated token whose `act` claim names the actor, nesting the subject
 *   token's own `act` (a chain, RFC 8693 §4.1); a `may_act` claim in the subject token must name
 *   the actor (§4.4);
 * - without one, an impersonation token — only for clients whose metadata has
 *   `token_exchange_impersonation: true`, and never when the subject token carries `may_act`.
 * `audience` / `resource` must be among the client's audiences (invalid_target); the scope may only
 * narrow the subject token's; the token lives no longer than the subject (and actor) token and
 * carries the subject token's grant id, so revoking that grant revokes it too. Bad, expired,
 * revoked or unacceptable subject/actor tokens answer invalid_request (§2.2.2).
 */
export const tokenExchange: GrantHandler<z.output<typeof parameters>> = async ({ client, params: p }, deps) => {
  requireConfidentialClient(client, TOKEN_EXCHANGE);
  if (p.actor_token !== undefined && p.actor_token_type === undefined) {
    throw invalidRequest('actor_token_type is required when actor_token is sent (RFC 8693 §2.1)');
  }
  if (p.actor_token === undefined && p.actor_token_type !== undefined) {
    throw invalidRequest('actor_token_type was sent without actor_token');
  }
  checkTokenType('subject', p.subject_token_type);
  if (p.actor_token_type !== undefined) checkTokenType('actor', p.actor_token_type);
  const issuedType = p.requested_token_type ?? TOKEN_TYPE.access_token;
  if (!ISSUED_TYPES.includes(issuedType)) {
    throw invalidRequest(
      `requested_token_type "${issuedType}" is not supported; Latchkey issues ${TOKEN_TYPE.access_token} (the default) or ${TOKEN_TYPE.jwt}`,
    );
  }
  const requested = requestedScopes(p.scope);
  const audiences = client.metadata.audiences;
  for (const a of p.audience) {
    if (!audiences.includes(a)) {
      throw invalidTarget(
        `client "${client.clientId}" may not obtain tokens for audience "${a}"` +
          (audiences.length ? `; its audiences are: ${audiences.join(', ')}` : '; it has no audiences registered'),
      );
    }
  }

  const now = deps.clock.now();
  const subject = await readToken('subject', p.subject_token, p.subject_token_type, client, deps, now);
  // Both or neither (checked above).
  const actor =
    p.actor_token !== undefined && p.actor_token_type !== undefined
      ? await readToken('actor', p.actor_token, p.actor_token_type, client, deps, now)
      : undefined;

  if (subject.mayAct !== undefined) {
    if (!actor) {
      throw invalidRequest('the subject_token says who may act for its subject ("may_act"): send that party\'s token as actor_token');
    }
    const problem = mayActProblem(subject.mayAct, actor);
    if (problem) throw invalidRequest(problem);
  }
  if (!actor && client.metadata.token_exchange_impersonation !== true) {
    throw invalidRequest(
      `client "${client.clientId}" may not impersonate (its metadata does not set token_exchange_impersonation: true); send an actor_token and actor_token_type to obtain a delegated token`,
    );
  }

  const clientScopes = boundScopes(
    client,
    requested,
    subject.scopes,
    (s, bound) => `scope may only narrow: "${s}" is not in the subject_token's scope (${bound.join(' ') || 'none'})`,
  );
  const target = resolveTarget({
    clientId: client.clientId,
    clientAudiences: audiences,
    clientScopes,
    requestedResources: [...new Set([...p.resource, ...p.audience])],
    requestedScopes: requested,
    resources: await deps.registry.resourceMap(),
    defaultTtl: deps.accessTokenTtl,
  });

  const iat = epochSeconds(deps.clock);
  if (subject.exp <= iat) throw invalidRequest('subject_token has expired');
  if (actor && actor.exp <= iat) throw invalidRequest('actor_token has expired');
  const ttl = Math.min(
    target.ttl,
    subject.exp - iat,
    ...(actor ? [actor.exp - iat] : []),
    ...(issuedType === TOKEN_TYPE.jwt ? [ISSUED_JWT_TTL] : []),
  );

  // Trusted issuers' JWTs are single-use; recorded last, so a refused exchange burns nothing.
  for (const [role, party] of [
    ['subject', subject],
    ['actor', actor],
  ] as const) {
    if (party?.trusted && !(await recordTrustedJwt(deps.trust, party.trusted, now))) {
      throw invalidRequest(`${role}_token rejected: its "jti" has been used before; every JWT from a trusted issuer is used once`);
    }
  }

  const act: Act | undefined = actor
    ? { sub: actor.sub, ...(actor.foreignIss ? { iss: actor.foreignIss } : {}), ...(subject.act ? { act: subject.act } : {}) }
    : subject.act;
  const key = deps.keystore.signingKey(deps.accessTokenSigningAlg);
  let token: string;
  if (issuedType === TOKEN_TYPE.access_token) {
    token = await signAccessToken(
      buildAccessTokenClaims({
        issuer: deps.issuer,
        subject: subject.sub,
        audiences: target.audiences,
        clientId: client.clientId,
        scopes: target.scopes,
        issuedAt: iat,
        ttl,
        ...(subject.grantId ? { grantId: subject.grantId } : {}),
        extra: { ...(subject.authTime !== undefined ? { auth_time: subject.authTime } : {}), ...(act ? { act } : {}) },
      }),
      key,
    );
  } else {
    token = await signJwt(
      {
        iss: deps.issuer,
        sub: subject.sub,
        aud: audienceClaim(target.audiences),
        client_id: client.clientId,
        jti: newJti(),
        iat,
        exp: iat + ttl,
        ...(target.scopes.length ? { scope: target.scopes.join(' ') } : {}),
        ...(act ? { act } : {}),
      },
      key,
    );
  }
  return {
    access_token: token,
    issued_token_type: issuedType,
    // RFC 8693 §2.2.1: N_A when the issued token is not an access token.
    token_type: issuedType === TOKEN_TYPE.access_token ? 'Bearer' : 'N_A',
    expires_in: ttl,
    ...(target.scopes.length ? { scope: target.scopes.join(' ') } : {}),
  };
};

function checkTokenType(role: Role, type: string): void {
  if (!ACCEPTED_TYPES.includes(type)) {
    throw invalidRequest(`${role}_token_type "${type}" is not supported; use one of ${ACCEPTED_TYPES.join(', ')}`);
  }
}

/** Verifies a subject or actor token of the given type; invalid_request names what is wrong. */
async function readToken(role: Role, token: string, type: string, client: ClientRecord, deps: GrantDeps, now: number): Promise<Party> {
  const bad = (why: string) => invalidRequest(`${role}_token ${why}`);
  if (token.length > MAX_RECEIVED_JWT_LENGTH) throw bad(`is longer than ${MAX_RECEIVED_JWT_LENGTH} characters`);
  if (type === TOKEN_TYPE.access_token) return ownAccessToken(token, deps, now, bad);
  if (type === TOKEN_TYPE.id_token) return ownIdToken(token, client, deps, now, bad);

  // urn:ietf:params:oauth:token-type:jwt: a JWT from a trusted issuer, or one of our access tokens.
  let iss: unknown;
  try {
    iss = decodeJwt(token).iss;
  } catch {
    throw bad('is not a JWT');
  }
  if (iss === deps.issuer) {
    return ownAccessToken(token, deps, now, (why) =>
      bad(`${why} (a Latchkey ID token is exchanged with ${role}_token_type ${TOKEN_TYPE.id_token})`),
    );
  }
  let trusted: TrustedJwt;
  try {
    trusted = await verifyTrustedJwt(token, client, { issuer: deps.issuer, now, trust: deps.trust });
  } catch (err) {
    if (err instanceof JwtRejected) throw bad(`rejected: ${err.reason}`);
    throw err;
  }
  const { payload } = trusted;
  const issuerScopes = parseScope(trusted.trusted.scope) ?? [];
  const tokenScopes = typeof payload.scope === 'string' ? parseScope(payload.scope) : undefined;
  return {
    sub: trusted.subject,
    iss: payload.iss,
    rawSub: payload.sub,
    ...(trusted.local ? {} : { foreignIss: payload.iss }),
    exp: payload.exp,
    // What the issuer may grant, narrowed by the scope the JWT itself carries (if any).
    scopes: tokenScopes ? issuerScopes.filter((s) => tokenScopes.includes(s)) : issuerScopes,
    act: readAct(payload.act, bad),
    mayAct: payload.may_act,
    trusted,
  };
}

/** A Latchkey access token (RFC 9068 typ at+jwt): signature, issuer, expiry, not revoked. */
async function ownAccessToken(token: string, deps: GrantDeps, now: number, bad: (why: string) => Error): Promise<Party> {
  const v = await verifyOwnJwt(token, deps.keystore, { issuer: deps.issuer, now, typ: 'at+jwt' });
  if (!v) throw bad(expiredOr(token, deps.issuer, now, 'is not a valid access token issued by this server'));
  const p = v.payload;
  if (typeof p.sub !== 'string' || !p.sub) throw bad('has no "sub" claim');
  const grantId = typeof p.gid === 'string' ? p.gid : undefined;
  if (await deps.trust.revocations.isRevoked(String(p.jti), grantId)) throw bad('has been revoked');
  return {
    sub: p.sub,
    iss: deps.issuer,
    rawSub: p.sub,
    exp: p.exp,
    scopes: typeof p.scope === 'string' ? p.scope.split(' ') : [],
    act: readAct(p.act, bad),
    mayAct: p.may_act,
    ...(grantId ? { grantId } : {}),
    ...(typeof p.auth_time === 'number' ? { authTime: p.auth_time } : {}),
  };
}

/**
 * A Latchkey ID token: signature, issuer, expiry, and addressed to the presenting client (an ID
 * token is meant for its client alone; another client holding it holds it by mistake or theft).
 * ID tokens carry no jti and cannot be revoked: the exchanged token never outlives it, and the
 * user must still exist.
 */
async function ownIdToken(token: string, client: ClientRecord, deps: GrantDeps, now: number, bad: (why: string) => Error): Promise<Party> {
  const v = await verifyOwnJwt(token, deps.keystore, { issuer: deps.issuer, now, typ: 'JWT', requireJti: false });
  if (!v) throw bad(expiredOr(token, deps.issuer, now, 'is not a valid ID token issued by this server'));
  const p = v.payload;
  const aud = Array.isArray(p.aud) ? p.aud : [p.aud];
  if (!aud.includes(client.clientId) || p.azp !== client.clientId) {
    throw bad(`was not issued to client "${client.clientId}"; only the client an ID token was issued to may exchange it`);
  }
  if (typeof p.sub !== 'string' || !(await deps.trust.users.findById(p.sub))) throw bad('names a user who no longer exists');
  return {
    sub: p.sub,
    iss: deps.issuer,
    rawSub: p.sub,
    exp: p.exp,
    scopes: undefined,
    act: undefined,
    mayAct: p.may_act,
    ...(typeof p.auth_time === 'number' ? { authTime: p.auth_time } : {}),
  };
}

/** "has expired" for one of our tokens past its exp (a clearer reason than "not valid"). */
function expiredOr(token: string, issuer: string, now: number, otherwise: string): string {
  let payload: JWTPayload;
  try {
    payload = decodeJwt(token);
  } catch {
    return otherwise;
  }
  return payload.iss === issuer && typeof payload.exp === 'number' && payload.exp * 1000 <= now ? 'has expired' : otherwise;
}

/** The `act` claim of a received token, reduced to identifying members; malformed is refused. */
function readAct(v: unknown, bad: (why: string) => Error, depth = 0): Act | undefined {
  if (v === undefined) return undefined;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad('has a malformed "act" claim (RFC 8693 §4.1: a JSON object)');
  if (depth >= MAX_ACT_DEPTH) throw bad(`has a delegation chain ("act") deeper than ${MAX_ACT_DEPTH}`);
  const o = v as Record<string, unknown>;
  const act: Act = {};
  for (const k of ['sub', 'iss', 'client_id'] as const) if (typeof o[k] === 'string') act[k] = o[k];
  if (!act.sub && !act.client_id) throw bad('has an "act" claim that identifies no actor (no "sub")');
  const prior = readAct(o.act, bad, depth + 1);
  if (prior) act.act = prior;
  return act;
}

/**
 * RFC 8693 §4.4: `may_act` names the party allowed to act for the subject. With an `iss`, the
 * actor token's own `iss` and `sub` must match; without, the actor's `sub` as Latchkey names it.
 */
function mayActProblem(mayAct: unknown, actor: Party): string | undefined {
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

const encoder = new TextEncoder();

/** A JWT that is not an access token (RFC 8693 issued_token_type jwt): typ "JWT", never "at+jwt". */
function signJwt(claims: JWTPayload, key: SigningKey): Promise<string> {
  return new CompactSign(encoder.encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .sign(key.privateKey);
}

/** The registry entry (grants/registry.ts). */
export const tokenExchangeGrant = defineGrant({
  grantType: TOKEN_EXCHANGE,
  parameters,
  clientAuthentication: 'required',
  clientTypes: ['confidential'],
  handle: tokenExchange,
});
