import type { FormParams } from '../domain/form.js';
import type { ClientRecord } from '../domain/client.js';
import type { Clock } from '../clock.js';
import type { ServerSecrets } from '../keys/secret.js';
import type { RemoteJwksCache } from '../keys/remote-jwks.js';
import type { AuthMethod } from '../oauth/client-metadata.js';
import type { ReplayRepository } from '../store/repositories/replay.js';

export interface ClientAuthInput {
  authorization: string | undefined;
  params: FormParams;
  ip: string;
  /**
   * This endpoint's URL when a client assertion may also name it as `aud` (RFC 9126 §2: the
   * pushed authorization request endpoint); the issuer and token endpoint are always accepted.
   */
  endpointUrl?: string;
}

export interface AuthenticatedClient {
  client: ClientRecord;
  method: AuthMethod;
}

export interface ClientAuthDeps {
  clock: Clock;
  secrets: ServerSecrets;
  replay: ReplayRepository;
  remoteJwks: RemoteJwksCache;
  issuer: string;
  /** The token endpoint URL: the one `aud` of a client assertion besides the issuer (private-key-jwt.ts). */
  tokenEndpoint: string;
  clockSkew: number;
  assertionMaxLifetime: number;
}

/** What the request carried, before anything was verified. */
export type Credentials =
  | { method: 'client_secret_basic'; clientId: string; secret: string }
  | { method: 'client_secret_post'; clientId: string; secret: string }
  | { method: 'private_key_jwt'; clientId: string; assertion: string }
  | { method: 'none'; clientId: string };

/**
 * A failed client authentication, for the `client_auth.failure` security event and the metric:
 * identifiers and a reason code, never the secret or assertion that was sent.
 */
export interface ClientAuthFailure {
  /** The client_id the request claimed (it may name no client). */
  clientId: string;
  ip: string;
  method: Credentials['method'];
  reason: 'rate_limited' | 'unknown_client' | 'method_mismatch' | 'invalid_credentials';
}
