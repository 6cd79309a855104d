import { z } from 'zod';
import { epochSeconds } from '../../clock.js';
import { invalidRequest, invalidScope, invalidTarget } from '../../oauth/errors.js';
import { repeatable, required } from '../../oauth/params.js';
import { resolveTarget } from '../../oauth/targets.js';
import { buildAccessTokenClaims, signAccessToken, tokenTypeFor } from '../../tokens/access-token.js';
import { signJwt } from '../../tokens/sign.js';
import { recordTrustedJwt } from '../../trust/verify-trusted.js';
import { boundScopes, requestedScopes, requireConfidentialClient } from '../jwt-bearer.js';
import { defineGrant, type GrantHandler } from '../types.js';
import { accessTokenUserClaims } from '../user-tokens.js';
import { checkActorTokenType, readActorToken } from './actor-token.js';
import { issuedAct } from './delegation.js';
import { checkSubjectTokenType, readSubjectToken } from './subject-token.js';
import { ISSUED_JWT_TTL, ISSUED_TYPES, TOKEN_TYPE } from './token-types.js';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

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

/**
 * RFC 8693. A client presents a subject_token (a Latchkey access or ID token, or a trusted
 * issuer's JWT) and optionally an actor_token, and receives a token for the subject:
 * - with an actor_token, a delegated token whose `act` claim names the actor, nesting the subject
 *   token's own `act` (a chain, §4.1); the actor is the calling client or a party its policy
 *   names, never the subject, and the one `may_act` names if the subject token has it (§4.4);
 * - without one, an impersonation token — only for clients whose metadata has
 *   `token_exchange_impersonation: true`, and never when the subject token carries `may_act`.
 * The subject token must be meant for the calling client (subject-token.ts); `audience` /
 * `resource` must be among the client's audiences (invalid_target); the scope may only narrow the
 * subject token's, and an ID token grants none (OIDC Core §2: it tells its client who the user
 * is, it authorizes nothing; RFC 8693 §5 leaves what to issue to the server's policy). The token
 * lives no longer than the subject (and actor) token and carries the subject's grant id (`gid`),
 * so whatever ends that grant — revoking consent, a password change, refresh-token reuse, deleting
 * the client — ends it too. Bad, expired, revoked or unacceptable subject/actor tokens answer
 * invalid_request (§2.2.2).
 */
export const tokenExchange: GrantHandler<z.output<typeof parameters>> = async ({ client, params: p, dpopJkt }, deps) => {
  requireConfidentialClient(client, TOKEN_EXCHANGE);
  if (p.actor_token !== undefined && p.actor_token_type === undefined) {
    throw invalidRequest('actor_token_type is required when actor_token is sent (RFC 8693 §2.1)');
  }
  if (p.actor_token === undefined && p.actor_token_type !== undefined) {
    throw invalidRequest('actor_token_type was sent without actor_token');
  }
  checkSubjectTokenType(p.subject_token_type);
  if (p.actor_token_type !== undefined) checkActorTokenType(p.actor_token_type);
  if (p.actor_token !== undefined && p.actor_token === p.subject_token) {
    throw invalidRequest('actor_token is the subject_token itself; the actor must be the party acting for the subject (RFC 8693 §2.1)');
  }
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
  const subject = await readSubjectToken(p.subject_token, p.subject_token_type, client, deps, now);
  // Both or neither (checked above).
  const actor =
    p.actor_token !== undefined && p.actor_token_type !== undefined
      ? await readActorToken(p.actor_token, p.actor_token_type, subject, client, deps, now)
      : undefined;
  if (!actor && subject.mayAct !== undefined) {
    throw invalidRequest('the subject_token says who may act for its subject ("may_act"): send that party\'s token as actor_token');
  }
  if (!actor && client.metadata.token_exchange_impersonation !== true) {
    throw invalidRequest(
      `client "${client.clientId}" may not impersonate (its metadata does not set token_exchange_impersonation: true); send an actor_token and actor_token_type to obtain a delegated token`,
    );
  }

  if (subject.kind === 'id_token' && requested?.length) {
    throw invalidScope(
      `an ID token grants no scope: it tells client "${client.clientId}" who the user is and authorizes nothing (OIDC Core §2); exchange an access token the user granted for scoped tokens, or leave out "scope"`,
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

  const act = issuedAct(actor, subject.act);
  // The subject's claims that the target resources ask for (access_token_claims), when it is a
  // Latchkey user: an ID token's subject, a user's access token (one issued under a grant; a
  // client's own token has none), a trusted issuer's JWT naming a Latchkey user.
  const userId =
    subject.kind === 'id_token' || (subject.kind === 'access_token' && subject.grantId !== undefined)
      ? subject.sub
      : subject.kind === 'trusted_jwt' && subject.trusted?.local === true
        ? subject.sub
        : undefined;
  const userClaims = await accessTokenUserClaims(deps, userId, target.audiences);
  const key = deps.keystore.signingKey(deps.accessTokenSigningAlg);
  const claims = buildAccessTokenClaims(
    {
      issuer: deps.issuer,
      subject: subject.sub,
      audiences: target.audiences,
      clientId: client.clientId,
      scopes: target.scopes,
      issuedAt: iat,
      ttl,
      ...(subject.grantId ? { grantId: subject.grantId } : {}),
      // RFC 9449 §5: only an access token is bound; an issued JWT (N_A) is not presented with proofs.
      ...(dpopJkt && issuedType === TOKEN_TYPE.access_token ? { dpopJkt } : {}),
      extra: {
        ...userClaims,
        ...(subject.authTime !== undefined ? { auth_time: subject.authTime } : {}),
        ...(act ? { act } : {}),
      },
    },
    deps.jtis.next(),
  );
  const token =
    issuedType === TOKEN_TYPE.access_token
      ? signAccessToken(claims, key)
      : // RFC 8693 issued_token_type jwt: the same claims, typ "JWT", so it is never taken for an access token.
        signJwt(claims, key, 'JWT');
  return {
    access_token: token,
    issued_token_type: issuedType,
    // RFC 8693 §2.2.1: N_A when the issued token is not an access token.
    token_type: issuedType === TOKEN_TYPE.access_token ? tokenTypeFor(dpopJkt) : 'N_A',
    expires_in: ttl,
    ...(target.scopes.length ? { scope: target.scopes.join(' ') } : {}),
  };
};

/** The registry entry (grants/index.ts). */
export const tokenExchangeGrant = defineGrant({
  grantType: TOKEN_EXCHANGE,
  parameters,
  clientAuthentication: 'required',
  clientTypes: ['confidential'],
  handle: tokenExchange,
});
