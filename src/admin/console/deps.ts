import type { Clock } from '../../clock.js';
import type { Db } from '../../store/db.js';
import type { AdminServices } from '../services/index.js';
import type { Actor } from '../services/audit.js';
import { CONSOLE_CLIENT_ID } from './console-client.js';
import type { Registry } from '../../clients/registry.js';
import type { Config } from '../../config.js';
import type { KeyStore } from '../../keys/keystore.js';
import type { ServerSecrets } from '../../keys/secret.js';
import type { SecurityEvents } from '../../observability/security-events.js';
import type { Repositories } from '../../store/repositories/index.js';
import type { User } from '../../store/repositories/users.js';
import { csrfToken } from '../../interaction/csrf.js';
import { safeEqual } from '../../interaction/session.js';
import { AuthorizationPageError } from '../../interaction/authorization-request.js';
import type { ConsoleSession } from './session.js';
import { ADMIN_ROLE, hasRole } from '../../users/roles.js';

/** What the console uses, handed over by the composition root (src/server.ts). */
export interface ConsoleDeps {
  config: Config;
  clock: Clock;
  secrets: ServerSecrets;
  registry: Registry;
  keystore: KeyStore;
  events: SecurityEvents;
  repos: Pick<Repositories, 'users' | 'consoleSessions' | 'clients' | 'keys'>;
  /** Writes that must be audited in the same transaction (admin/services/audit.ts). */
  db: Db;
  /** The admin API's service layer, called in-process with the operator as the audit actor. */
  services: AdminServices;
}

/** The signed-in operator of a console request. */
export interface Operator {
  user: User;
  session: ConsoleSession;
  /** The CSRF token of this console session's forms. */
  csrf: string;
}

/** Who did it, for audit events: the console client and the signed-in operator. */
export const actorOf = (op: Operator, ip: string): Actor => ({ client_id: CONSOLE_CLIENT_ID, sub: op.user.id, ip });

export const isAdmin = (user: Pick<User, 'roles'>): boolean => hasRole(user.roles, ADMIN_ROLE);

/** Every console form's token: bound to the console session (csrf.ts's HMAC, purpose "console"). */
export const consoleCsrf = (deps: Pick<ConsoleDeps, 'secrets'>, session: ConsoleSession): string =>
  csrfToken(deps, session.cookie, 'console');

/** Throws a readable 403 unless `submitted` is this console session's CSRF token. */
export function checkConsoleCsrf(deps: Pick<ConsoleDeps, 'secrets'>, session: ConsoleSession, submitted: unknown): void {
  if (typeof submitted !== 'string' || !safeEqual(submitted, consoleCsrf(deps, session))) {
    throw new AuthorizationPageError(
      'This form has expired',
      'The form was not sent from the console, or your console session changed since it was shown. Reload the page and try again.',
      403,
    );
  }
}
