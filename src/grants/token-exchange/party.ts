import type { TrustedJwt } from '../../trust/verify-trusted.js';
import type { Act } from './delegation.js';

/** A verified subject or actor token, reduced to what the exchange needs. */
export interface Party {
  /** What the token is: decides which rules apply to it (subject-token.ts, delegation.ts). */
  kind: 'access_token' | 'id_token' | 'trusted_jwt';
  /** The `sub` of Latchkey tokens for this party (a user's id for a Latchkey username). */
  sub: string;
  /** `iss` and `sub` as the token said them (for may_act). */
  iss: string;
  rawSub: string;
  /** For `act`: the foreign issuer when `sub` is a trusted issuer's identifier used verbatim. */
  foreignIss?: string;
  exp: number;
  /** The scopes the token carries (an ID token: none, it authorizes nothing). */
  scopes: string[];
  act: Act | undefined;
  mayAct: unknown;
  /** The grant the token was issued under: the exchanged token carries it and dies with it. */
  grantId?: string;
  authTime?: number;
  /** Our access tokens: the client it was issued to and its audiences (the subject audience rule). */
  clientId?: string;
  audiences?: readonly string[];
  /** A trusted issuer's JWT, single-use: its jti is recorded when the exchange succeeds. */
  trusted?: TrustedJwt;
}

export type Role = 'subject' | 'actor';
