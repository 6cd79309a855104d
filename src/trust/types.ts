import type { RemoteJwksCache } from '../keys/remote-jwks.js';
import type { ReplayRepository } from '../store/repositories/replay.js';
import type { RevocationsRepository } from '../store/repositories/revocations.js';
import type { UsersRepository } from '../store/repositories/users.js';
import type { TrustedIssuer } from './schema.js';

/** Looks up trusted issuers by their exact `iss` value. */
export interface TrustedIssuerLookup {
  get(issuer: string): Promise<TrustedIssuer | undefined>;
}

/**
 * What the JWT-bearer and token-exchange grants need beyond the other grants' dependencies: one
 * GrantDeps member, so the shared grant types change by one line.
 */
export interface TrustDeps {
  issuers: TrustedIssuerLookup;
  /** jwks_uri fetches: SSRF-safe (JWKS_URI_ALLOW_PRIVATE), bounded, cached. */
  remoteJwks: RemoteJwksCache;
  /** Single-use `jti` of received JWTs, shared by every process. */
  replay: ReplayRepository;
  revocations: RevocationsRepository;
  users: Pick<UsersRepository, 'findByUsername' | 'findById'>;
  clockSkew: number;
  /** JWT_BEARER_MAX_ASSERTION_LIFETIME: the longest a received assertion may live. */
  maxAssertionLifetime: number;
}
