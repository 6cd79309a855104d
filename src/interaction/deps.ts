import type { Clock } from '../clock.js';
import type { Registry } from '../clients/registry.js';
import type { Config } from '../config.js';
import type { KeyStore } from '../keys/keystore.js';
import type { ServerSecrets } from '../keys/secret.js';
import type { Metrics } from '../observability/metrics.js';
import type { SecurityEvents } from '../observability/security-events.js';
import type { Repositories } from '../store/repositories/index.js';
import type { Transaction } from '../store/transaction.js';
import type { RequestObjectDeps } from '../trust/request-object.js';

/**
 * What the browser side (authorize, sign-in and consent pages, device page, sign-out) needs:
 * no client authentication, no token-endpoint grants. Built by the composition root.
 */
export interface InteractionDeps {
  config: Config;
  clock: Clock;
  /** All-or-nothing writes (the grant and its code): repositories bound to one transaction. */
  transaction: Transaction;
  secrets: Pick<ServerSecrets, 'csrfKey' | 'totpKey'>;
  keystore: KeyStore;
  registry: Registry;
  metrics: Pick<Metrics, 'errors' | 'passwordChecks' | 'passwordChecksRefused'>;
  events: SecurityEvents;
  repos: Pick<Repositories, 'users' | 'sessions' | 'interactions' | 'consents' | 'deviceCodes' | 'rateLimits' | 'pushedRequests' | 'totp'>;
  /** Verifying signed request objects at /authorize (RFC 9101). */
  requestObjects: RequestObjectDeps;
}
