import type { ClientRecord } from '../../domain/client.js';
import { decodeJwt } from 'jose';
import { verifyOwnAccessToken, pastExpiry } from '../../tokens/own-access-token.js';
import { verifyOwnJwt } from '../../tokens/verify-own.js';
import { JwtRejected, MAX_RECEIVED_JWT_LENGTH } from '../../trust/received-jwt.js';
import { verifyTrustedJwt, type TrustedJwt } from '../../trust/verify-trusted.js';
import { parseScope } from '../../oauth/scopes.js';
import type { GrantDeps } from '../types.js';
import { readAct } from './delegation.js';
import type { Party, Role } from './party.js';
import { TOKEN_TYPE } from './token-types.js';

export type Refuse = (why: string) => Error;

/** Only what is common to subject and actor tokens: length, then the reader of the token's type. */
export function checkLength(token: string, bad: Refuse): void {
  if (token.length > MAX_RECEIVED_JWT_LENGTH) throw bad(`is longer than ${MAX_RECEIVED_JWT_LENGTH} characters`);
}

/**
 * One of our access tokens, through the one verifier (tokens/own-access-token.ts): signature,
 * issuer, typ at+jwt, expiry, not revoked, its grant alive, its client not deleted.
 */
export async function ownAccessToken(token: string, deps: GrantDeps, now: number, bad: Refuse): Promise<Party> {
  const verdict = await verifyOwnAccessToken(
    token,
    { keystore: deps.keystore, issuer: deps.issuer, statuses: deps.trust.revocations },
    now,
  );
  if (!verdict.live) {
    throw bad(
      {
        invalid: 'is not a valid access token issued by this server',
        expired: 'has expired',
        revoked: 'has been revoked',
        client_deleted: 'was issued to a client that has since been deleted',
      }[verdict.reason],
    );
  }
  const p = verdict.claims;
  return {
    kind: 'access_token',
    sub: p.sub,
    iss: deps.issuer,
    rawSub: p.sub,
    exp: p.exp,
    scopes: p.scope !== undefined ? p.scope.split(' ') : [],
    act: readAct(p.act, bad),
    mayAct: p.may_act,
    clientId: p.client_id,
    audiences: typeof p.aud === 'string' ? [p.aud] : p.aud,
    ...(p.gid !== undefined ? { grantId: p.gid } : {}),
    ...(p.auth_time !== undefined ? { authTime: p.auth_time } : {}),
  };
}

/**
 * One of our ID tokens: signature, issuer, expiry, addressed to the presenting client (an ID
 * token is meant for its client alone; another client holding it holds it by mistake or theft),
 * naming the grant it was issued under (`gid`), which must still be alive — as must the client:
 * revoking consent, a password change or deleting the client ends what the ID token may do.
 * It authorizes nothing: `scopes` is empty (subject-token.ts).
 */
export async function ownIdToken(token: string, client: ClientRecord, deps: GrantDeps, now: number, bad: Refuse): Promise<Party> {
  const v = await verifyOwnJwt(token, deps.keystore, { issuer: deps.issuer, now, typ: 'JWT', requireJti: false });
  if (!v) throw bad(pastExpiry(token, deps.issuer, now) ? 'has expired' : 'is not a valid ID token issued by this server');
  const p = v.payload;
  const aud = Array.isArray(p.aud) ? p.aud : [p.aud];
  if (!aud.includes(client.clientId) || p.azp !== client.clientId) {
    throw bad(`was not issued to client "${client.clientId}"; only the client an ID token was issued to may exchange it`);
  }
  if (typeof p.sub !== 'string' || !p.sub) throw bad('has no "sub" claim');
  if (typeof p.gid !== 'string' || !p.gid) {
    throw bad('names no grant ("gid"): it was issued before ID tokens carried one; sign the user in again for a new ID token');
  }
  const status = await deps.trust.revocations.accessTokenStatus({
    jti: undefined,
    grantId: p.gid,
    clientId: client.clientId,
    subject: p.sub,
    issuedAt: p.iat,
  });
  if (status === 'revoked') throw bad("has been revoked: the grant it was issued under (the user's sign-in to this client) was revoked");
  if (status === 'client_deleted') throw bad('was issued to a client that has since been deleted');
  if (!(await deps.trust.users.findById(p.sub))) throw bad('names a user who no longer exists');
  return {
    kind: 'id_token',
    sub: p.sub,
    iss: deps.issuer,
    rawSub: p.sub,
    exp: p.exp,
    scopes: [],
    act: undefined,
    mayAct: p.may_act,
    grantId: p.gid,
    ...(typeof p.auth_time === 'number' ? { authTime: p.auth_time } : {}),
  };
}

/**
 * urn:ietf:params:oauth:token-type:jwt: a JWT from a trusted issuer (every check of
 * trust/verify-trusted.ts), or one of our access tokens.
 */
export async function jwtToken(role: Role, token: string, client: ClientRecord, deps: GrantDeps, now: number, bad: Refuse): Promise<Party> {
  let iss: unknown;
  try {
    iss = decodeJwt(token).iss;
  } catch {
    throw bad('is not a JWT');
  }
  if (iss === deps.issuer) {
    return ownAccessToken(token, deps, now, (why) =>
      bad(`${why}${role === 'subject' ? ` (a Latchkey ID token is exchanged with subject_token_type ${TOKEN_TYPE.id_token})` : ''}`),
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
    kind: 'trusted_jwt',
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
