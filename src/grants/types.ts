import type { Clock } from '../clock.js';
import type { KeyStore } from '../keys/keystore.js';
import type { FormParams } from '../client-auth/types.js';
import type { ClientRecord } from '../store/repositories/clients.js';
import type { Registry } from '../clients/registry.js';
import type { CodesRepository } from '../store/repositories/codes.js';
import type { GrantsRepository } from '../store/repositories/grants.js';
import type { TrustDeps } from '../trust/types.js';
import type { RefreshTokensRepository } from '../store/repositories/refresh-tokens.js';
import type { DeviceCodesRepository } from '../store/repositories/device-codes.js';
import type { SecurityEvents } from '../observability/security-events.js';
import type { Transaction } from '../store/transaction.js';
import type { ArrivalMark, RecentRotations } from './recent-rotations.js';

/** RFC 6749 §5.1 successful token response (plus the members later grants add). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'N_A';
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  id_token?: string;
  issued_token_type?: string;
}

export interface GrantDeps {
  clock: Clock;
  issuer: string;
  keystore: KeyStore;
  registry: Registry;
  accessTokenTtl: number;
  accessTokenSigningAlg: 'ES256' | 'RS256';
  idTokenTtl: number;
  userinfoUrl: string;
  codes: CodesRepository;
  grants: GrantsRepository;
  refreshTokens: RefreshTokensRepository;
  refreshTokenIdleTtl: number;
  refreshTokenAbsoluteTtl: number;
  refreshTokenRotation: boolean;
  refreshTokenGrace: number;
  deviceCodes: DeviceCodesRepository;
  /** Runs writes that must happen together in one transaction (src/store/transaction.ts). */
  transaction: Transaction;
  /** The refresh rotations this process committed, to tell concurrent requests from replays. */
  recentRotations: RecentRotations;
  /** Security events (refresh token reuse, code replay): one log line each. */
  events: SecurityEvents;
  /** JWT-bearer and token exchange: trusted issuers, replay, revocations, users. */
  trust: TrustDeps;
}

export interface GrantRequest {
  client: ClientRecord;
  params: FormParams;
  /** When the request reached the endpoint, on this process's monotonic clock (recent-rotations.ts). */
  arrival: ArrivalMark;
  /** The caller's address as the server sees it (after TRUST_PROXY), for security events. */
  ip?: string;
}

/**
 * One interface for every grant type (DESIGN.md): a grant sees parsed parameters, the
 * authenticated client and its dependencies, never Fastify objects; it returns a token response
 * or throws an OAuthError.
 */
export type GrantHandler = (req: GrantRequest, deps: GrantDeps) => Promise<TokenResponse>;
