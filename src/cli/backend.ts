import type { ClientView } from '../admin/services/clients.js';
import type { KeyView } from '../admin/services/keys.js';
import type { UserView } from '../admin/services/users.js';
import type { SigningAlg } from '../keys/algorithms.js';
import type { ClientMetadataInput, Resource } from '../oauth/client-metadata.js';
import type { TrustedIssuer } from '../trust/schema.js';
import type { UserClaims } from '../users/claims.js';

/**
 * The port the CLI's commands are written against (issue 14 item 6): each command parses its
 * arguments, calls these operations and prints the result, whichever backend answers.
 *
 * - `database` (backend-db.ts): the database opened directly with LATCHKEY_SECRET, as before:
 *   bootstrap and recovery, the default without LATCHKEY_URL.
 * - `api` (backend-api.ts): a running Latchkey's admin API (/admin/api/v1) with a
 *   client_credentials token; the server validates, stores and audits.
 *
 * Items are the admin API's views (src/admin/services/*), so both backends return the same
 * shapes and a command's --json output does not depend on the mode. "Not found" is `undefined`
 * or `false`, for the command to word; a refusal the backend cannot express that way is a
 * CliError carrying the reason (the database's, or the API's problem detail).
 */
export interface AdminBackend {
  readonly mode: 'database' | 'api';
  /** When running servers see a change to clients, resources or trusted issuers (for text output). */
  readonly propagation: string;
  readonly clients: {
    list(): Promise<ClientView[]>;
    find(clientId: string): Promise<ClientView | undefined>;
    /** Registers RFC 7591 metadata; a client that authenticates with a secret gets one, returned here once. */
    create(input: ClientMetadataInput): Promise<{ client: ClientView; clientSecret: string | undefined }>;
    delete(clientId: string): Promise<boolean>;
    /** A new secret; the replaced one keeps working for `overlapSeconds` (0: stops now). */
    rotateSecret(
      clientId: string,
      overlapSeconds: number,
    ): Promise<{ clientSecret: string; previousSecretExpiresAt: string | null } | undefined>;
  };
  readonly users: {
    list(): Promise<UserView[]>;
    /** By username (whatever its case) or, failing that, by id (the sub). */
    find(usernameOrId: string): Promise<UserView | undefined>;
    /** undefined: the username is taken (usernames ignore case). */
    create(user: { username: string; password: string; claims: UserClaims; roles: string[] }): Promise<UserView | undefined>;
    setRoles(user: UserView, roles: string[]): Promise<boolean>;
    /** Applies a JSON merge patch (RFC 7396) to the user's claims; undefined when the user is gone. */
    setClaims(user: UserView, patch: Record<string, unknown>): Promise<UserView | undefined>;
    delete(user: UserView): Promise<boolean>;
    /** Ends the user's sessions and revokes their grants; undefined when the user is gone. */
    setPassword(user: UserView, password: string): Promise<{ sessionsEnded: number; grantsRevoked: number } | undefined>;
    /** Withdraws the consent to the client and revokes the grants to it; whether a consent was remembered. */
    revokeConsent(user: UserView, clientId: string): Promise<boolean>;
    /** Clears the account's sign-in lockout; whether failures were counted. undefined when the user is gone. */
    unlock(user: UserView): Promise<boolean | undefined>;
  };
  readonly resources: {
    list(): Promise<Resource[]>;
    find(identifier: string): Promise<Resource | undefined>;
    /** false: it exists already. */
    create(resource: Resource): Promise<boolean>;
    /** Replaces `current` (as `find` returned it) with `next`. */
    update(current: Resource, next: Resource): Promise<'updated' | 'unchanged'>;
  };
  readonly trust: {
    list(): Promise<TrustedIssuerView[]>;
    /** undefined: the issuer is trusted already and `replace` is false. */
    add(entry: TrustedIssuer, replace: boolean): Promise<'created' | 'updated' | 'unchanged' | undefined>;
    remove(issuer: string): Promise<boolean>;
  };
  readonly keys: {
    list(): Promise<KeyView[]>;
    /** `delaySeconds` undefined: the server's KEY_ROTATION_DELAY. */
    rotate(opts: { delaySeconds: number | undefined; alg: SigningAlg | undefined }): Promise<KeyRotation>;
  };
}

export type TrustedIssuerView = TrustedIssuer & { created_at: string; updated_at: string };

export interface KeyRotation {
  delay_seconds: number;
  retention_seconds: number;
  keys: { alg: string; kid: string; active_from: string; retired: string[]; retired_publish_until: string }[];
}
