import type { FormParams } from '../domain/form.js';
import type { ClientRecord } from '../domain/client.js';
import type { z } from 'zod';
import type { Clock } from '../clock.js';
import type { JtiPool } from '../tokens/access-token.js';
import type { KeyStore } from '../keys/keystore.js';
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
  /** RFC 6750 Bearer, RFC 9449 §5 DPoP (access token bound to the proof's key), RFC 8693 N_A. */
  token_type: 'Bearer' | 'DPoP' | 'N_A';
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  id_token?: string;
  issued_token_type?: string;
}

export interface GrantDeps {
  clock: Clock;
  /** Access tokens' jti values (one pool per server). */
  jtis: Pick<JtiPool, 'next'>;
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

export interface GrantRequest<P = FormParams> {
  client: ClientRecord;
  /** The parameters, parsed by the grant's own schema (its descriptor's `parameters`). */
  params: P;
  /** When the request reached the endpoint, on this process's monotonic clock (recent-rotations.ts). */
  arrival: ArrivalMark;
  /** The caller's address as the server sees it (after TRUST_PROXY), for security events. */
  ip?: string;
  /**
   * RFC 7638 thumbprint of the key of the request's verified DPoP proof (RFC 9449 §5): the
   * access token issued carries it as `cnf.jkt` and is of token_type DPoP.
   */
  dpopJkt?: string;
}

/**
 * One interface for every grant type (docs/architecture.md): a grant sees its parsed parameters,
 * the authenticated client and the dependencies it declares, never Fastify objects; it returns a
 * token response or throws an OAuthError.
 */
export type GrantHandler<P = FormParams, D = GrantDeps> = (req: GrantRequest<P>, deps: D) => Promise<TokenResponse>;

/** RFC 6749 §2.1: a public client cannot keep a secret (here: token_endpoint_auth_method "none"). */
export type ClientType = 'confidential' | 'public';

export const clientTypeOf = (client: Pick<ClientRecord, 'metadata'>): ClientType =>
  client.metadata.token_endpoint_auth_method === 'none' ? 'public' : 'confidential';

/**
 * What a grant type declares to the token endpoint (as fosite's TokenEndpointHandler and
 * oidc-provider's registerGrantType(name, handler, parameters) do). The registry (registry.ts)
 * is the one table of these; dispatch, discovery and client metadata all read it.
 */
export interface GrantDescriptor<G extends string = string, S extends z.ZodType = z.ZodType, D = GrantDeps> {
  /** The `grant_type` value (RFC 6749 §4.1.3, §4.4.2, §6; an absolute URI for extensions, §4.5). */
  readonly grantType: G;
  /**
   * The grant's parameters: the dispatcher parses the form with this schema (repeated parameters
   * refused, RFC 6749 §3.2) and hands the handler only what it declares.
   */
  readonly parameters: S;
  /**
   * Whether the client must authenticate (RFC 6749 §3.2.1) before the handler runs. "required":
   * a confidential client authenticates with its registered method, a public one identifies
   * itself by client_id. No grant here may skip it (fosite's CanSkipClientAuth is always false).
   */
  readonly clientAuthentication: 'required';
  /** Which client types may use it; registration refuses the others, so does the dispatcher. */
  readonly clientTypes: readonly ClientType[];
  /** Method syntax on purpose: each grant narrows `deps` to the part it uses. */
  handle(request: GrantRequest<z.output<S>>, deps: D): Promise<TokenResponse>;
}

/** Declares a grant with its types inferred (the parameter schema types the handler's params). */
export const defineGrant = <G extends string, S extends z.ZodType, D>(d: GrantDescriptor<G, S, D>): GrantDescriptor<G, S, D> => d;
