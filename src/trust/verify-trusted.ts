import type { ClientRecord } from '../domain/client.js';
import { ASYMMETRIC_ALGS } from '../keys/algorithms.js';
import { JwtRejected, replayExpiry, singleAudience, verifyReceivedJwt, type VerifiedJwt } from './received-jwt.js';
import type { TrustedIssuer } from './schema.js';
import { localSubject } from './subject.js';
import type { TrustDeps } from './types.js';

/** A JWT from a trusted issuer that passed every check; its `jti` is not yet recorded. */
export interface TrustedJwt {
  trusted: TrustedIssuer;
  payload: VerifiedJwt['payload'];
  /** The `sub` for Latchkey tokens (see localSubject). */
  subject: string;
  /** Whether `subject` is a Latchkey user's id (else it is the asserted `sub`, verbatim). */
  local: boolean;
  /** Key and lifetime of its `jti` in the replay table. */
  replayKey: string;
  replayUntil: Date;
}

/**
 * The replay-table key of a trusted issuer's JWT. One namespace for JWT-bearer assertions and
 * token-exchange JWTs (a partner's JWT is used once, by whichever grant), distinct from client
 * assertions ("client_assertion:…"); `jti` is unique per issuer, so the key holds both, JSON-encoded
 * so that no (iss, jti) pair can collide with another.
 */
export const trustedReplayKey = (iss: string, jti: string): string => `trusted_jwt:${JSON.stringify([iss, jti])}`;

/**
 * RFC 7523 §3 for a JWT signed by a trusted issuer, presented by `client`: `iss` trusted, the
 * client among the issuer's client_ids (checked before any key is fetched), signature by one of
 * the issuer's registered keys with an allow-listed asymmetric algorithm, `aud` exactly this
 * server's issuer, `exp` not past and at most maxAssertionLifetime ahead (and `exp - iat` no
 * longer), `nbf`/`iat` honoured, `jti` present, `sub` one the issuer may assert. Throws
 * JwtRejected naming the failed check. The caller records the `jti` (firstUse) when it accepts.
 */
export async function verifyTrustedJwt(
  jwt: string,
  client: ClientRecord,
  deps: { issuer: string; now: number; trust: TrustDeps },
): Promise<TrustedJwt> {
  const { trust } = deps;
  let trusted: TrustedIssuer | undefined;
  const verified = await verifyReceivedJwt(jwt, {
    algorithms: ASYMMETRIC_ALGS,
    async keys(_header, unverified) {
      const iss = unverified.iss;
      if (typeof iss !== 'string' || !iss) throw new JwtRejected('the "iss" claim is required');
      trusted = await trust.issuers.get(iss);
      if (!trusted) throw new JwtRejected(`issuer "${iss}" is not a trusted issuer`);
      if (!trusted.client_ids.includes(client.clientId)) {
        throw new JwtRejected(`client "${client.clientId}" is not allowed to present JWTs from issuer "${iss}" (not in its client_ids)`);
      }
      if (trusted.jwks) {
        if (trusted.jwks.keys.length === 0) throw new JwtRejected(`trusted issuer "${iss}" has no registered keys`);
        return trusted.jwks;
      }
      const uri = trusted.jwks_uri;
      // The schema requires jwks or jwks_uri.
      if (!uri) throw new JwtRejected(`trusted issuer "${iss}" has no registered keys`);
      return trust.remoteJwks.keys(uri, (err) => new JwtRejected(`the trusted issuer's jwks_uri could not be read (${err.message})`));
    },
    audience: singleAudience([deps.issuer], `this server's issuer (${deps.issuer})`),
    now: deps.now,
    clockSkew: trust.clockSkew,
    maxLifetime: trust.maxAssertionLifetime,
    boundIssuedAt: true,
    keySource: "the trusted issuer's registered jwks or jwks_uri",
    keyOwner: "the trusted issuer's registered keys",
  });
  // keys() ran and found the issuer, or verification failed.
  const t = trusted;
  if (!t) throw new Error('verifyReceivedJwt returned without resolving keys');
  const { payload } = verified;
  if (payload.sub.length > 255) throw new JwtRejected('"sub" is longer than 255 characters');
  if (!t.allow_any_subject && payload.sub !== t.subject) {
    throw new JwtRejected(`"sub" "${payload.sub}" is not a subject issuer "${t.issuer}" may assert`);
  }
  const { sub, userId } = await localSubject(trust.users, payload.sub);
  return {
    trusted: t,
    payload,
    subject: sub,
    local: userId !== undefined,
    replayKey: trustedReplayKey(payload.iss, payload.jti),
    replayUntil: replayExpiry(payload.exp, trust.clockSkew),
  };
}

/** Records the JWT's `jti`; false when it was seen before (a replay). Atomic across processes. */
export function recordTrustedJwt(trust: TrustDeps, jwt: TrustedJwt, now: number): Promise<boolean> {
  return trust.replay.firstUse(jwt.replayKey, jwt.replayUntil, new Date(now));
}
