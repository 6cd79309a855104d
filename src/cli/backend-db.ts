import { clientView } from '../admin/services/clients.js';
import type { KeyView } from '../admin/services/keys.js';
import { userView } from '../admin/services/users.js';
import { newClientSecret, usesSecret } from '../clients/credentials.js';
import { systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { accountBucketKey } from '../interaction/login-throttle.js';
import { SIGNING_ALGS } from '../keys/algorithms.js';
import { keyStatus } from '../keys/lifecycle.js';
import { rotateKeys } from '../keys/rotation.js';
import { hashClientSecret, type ServerSecrets } from '../keys/secret.js';
import { clientMetadataSchema, describeIssues } from '../oauth/client-metadata.js';
import type { SecurityEvents } from '../observability/security-events.js';
import type { Db } from '../store/db.js';
import { clientsRepository } from '../store/repositories/clients.js';
import { consentsRepository } from '../store/repositories/consents.js';
import { keysRepository } from '../store/repositories/keys.js';
import { clearRateLimit } from '../store/repositories/rate-limits.js';
import { resourcesRepository } from '../store/repositories/resources.js';
import { trustedIssuersRepository } from '../store/repositories/trusted-issuers.js';
import { usersRepository } from '../store/repositories/users.js';
import { applyMergePatch } from '../admin/api/merge-patch.js';
import { userClaimsSchema } from '../users/claims.js';
import { PasswordHasher, passwordHashParameters } from '../users/password.js';
import { changePassword } from '../users/password-change.js';
import type { AdminBackend, TrustedIssuerView } from './backend.js';
import { CliError, UsageError } from './common.js';

export interface DirectDeps {
  config: Config;
  db(): Promise<Db>;
  secrets(): Promise<ServerSecrets>;
  events: SecurityEvents;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * Direct mode: the database, opened with LATCHKEY_SECRET (bootstrap, recovery, the default without
 * LATCHKEY_URL). Changes are told to running servers by nothing but the database: they see them
 * within CLIENT_CACHE_TTL. Security events are written to stderr as log lines, as the server logs
 * them, with `via: "cli"`.
 */
export function databaseBackend(d: DirectDeps): AdminBackend {
  const { config } = d;
  /** The key set of a fresh database is made by whichever process comes first: secrets() does it here. */
  const keysReady = async () => {
    await d.secrets();
    return d.db();
  };
  return {
    mode: 'database',
    propagation: `running servers see the change within CLIENT_CACHE_TTL (${config.clientCacheTtl} s).`,
    clients: {
      async list() {
        const now = Date.now();
        return (await clientsRepository(await d.db()).list()).map((c) => clientView(c, now));
      },
      async find(clientId) {
        const rec = await clientsRepository(await d.db()).find(clientId);
        return rec ? clientView(rec, Date.now()) : undefined;
      },
      async create(input) {
        const parsed = clientMetadataSchema.safeParse(input);
        if (!parsed.success) throw new UsageError(`invalid client: ${describeIssues(parsed.error)}`);
        const { client_secret: given, ...metadata } = parsed.data;
        const secret = usesSecret(metadata.token_endpoint_auth_method) ? (given ?? newClientSecret()) : undefined;
        const db = await d.db();
        const hash = secret ? hashClientSecret(await d.secrets(), secret) : null;
        const repo = clientsRepository(db);
        if (!(await repo.insert(metadata.client_id, metadata, hash))) {
          throw new CliError(`a client with client_id "${metadata.client_id}" already exists`);
        }
        const rec = await repo.find(metadata.client_id);
        const now = new Date();
        // Were it deleted meanwhile, the secret must still be shown: it was committed.
        const client = rec
          ? clientView(rec, now.getTime())
          : clientView({ clientId: metadata.client_id, metadata, secretHash: hash, createdAt: now, updatedAt: now }, now.getTime());
        return { client, clientSecret: secret };
      },
      async delete(clientId) {
        return clientsRepository(await d.db()).delete(clientId);
      },
      async rotateSecret(clientId, overlapSeconds) {
        const secret = newClientSecret();
        const db = await d.db();
        const previous = overlapSeconds > 0 ? new Date(Date.now() + overlapSeconds * 1000) : null;
        const rec = await clientsRepository(db).rotateSecret(clientId, hashClientSecret(await d.secrets(), secret), previous);
        if (!rec) return undefined;
        return { clientSecret: secret, previousSecretExpiresAt: previous && rec.previousSecret ? previous.toISOString() : null };
      },
    },
    users: {
      async list() {
        return (await usersRepository(await d.db()).list()).map(userView);
      },
      async find(nameOrId) {
        const users = usersRepository(await d.db());
        const user = (await users.findByUsername(nameOrId)) ?? (await users.findById(nameOrId));
        return user ? userView(user) : undefined;
      },
      async create({ username, password, claims, roles }) {
        const passwordHash = await new PasswordHasher(passwordHashParameters(config)).hash(password);
        const user = await usersRepository(await d.db()).insert(username, passwordHash, claims, roles);
        return user ? userView(user) : undefined;
      },
      async setRoles(user, roles) {
        if (!(await usersRepository(await d.db()).update(user.id, { roles }))) return false;
        d.events.emit({ type: 'user.roles_changed', userId: user.id, details: { before: user.roles, after: roles, via: 'cli' } });
        return true;
      },
      async setClaims(found, patch) {
        return (await d.db()).transaction(async (tx) => {
          const users = usersRepository(tx);
          const user = await users.findForUpdate(found.id);
          if (!user) return undefined; // deleted meanwhile
          const parsed = userClaimsSchema.safeParse(applyMergePatch(user.claims, patch));
          if (!parsed.success) throw new UsageError(`invalid claims: ${describeIssues(parsed.error)}`);
          const updated = await users.update(user.id, { claims: parsed.data });
          if (!updated) return undefined;
          // The names only: claim values are personal data, kept out of the logs.
          const before = user.claims as Record<string, unknown>;
          const after = parsed.data as Record<string, unknown>;
          const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
            (k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]),
          );
          d.events.emit({ type: 'user.claims_changed', userId: user.id, details: { claims: changed.sort(), via: 'cli' } });
          return userView({ ...user, claims: parsed.data });
        });
      },
      async delete(user) {
        return usersRepository(await d.db()).delete(user.id);
      },
      async setPassword(user, password) {
        const passwordHash = await new PasswordHasher(passwordHashParameters(config)).hash(password);
        const change = await changePassword(await d.db(), user.id, passwordHash, new Date());
        if (!change) return undefined;
        const { sessionsEnded, grantsRevoked } = change;
        d.events.emit({
          type: 'user.password_changed',
          userId: user.id,
          details: { sessions_ended: sessionsEnded, grants_revoked: grantsRevoked, via: 'cli' },
        });
        return { sessionsEnded, grantsRevoked };
      },
      async revokeConsent(user, clientId) {
        const hadConsent = await consentsRepository(await d.db()).revoke(user.id, clientId);
        d.events.emit({ type: 'consent.revoked', userId: user.id, clientId, details: { had_consent: hadConsent, via: 'cli' } });
        return hadConsent;
      },
      async unlock(user) {
        const db = await d.db();
        if (!(await usersRepository(db).findById(user.id))) return undefined;
        return clearRateLimit(db, accountBucketKey(user.username));
      },
    },
    resources: {
      async list() {
        return resourcesRepository(await d.db()).list();
      },
      async find(identifier) {
        return resourcesRepository(await d.db()).find(identifier);
      },
      async create(resource) {
        return resourcesRepository(await d.db()).insert(resource);
      },
      async update(_current, next) {
        const outcome = await resourcesRepository(await d.db()).upsert(next);
        return outcome === 'unchanged' ? 'unchanged' : 'updated';
      },
    },
    trust: {
      async list() {
        return (await trustedIssuersRepository(await d.db()).list()).map((r): TrustedIssuerView => ({
          ...r.metadata,
          created_at: r.createdAt.toISOString(),
          updated_at: r.updatedAt.toISOString(),
        }));
      },
      async add(entry, replace) {
        // The admin API makes the same refusal (src/admin/services/trusted-issuers.ts).
        if (entry.issuer === config.issuer) {
          throw new UsageError(`--issuer ${entry.issuer} is this server's own issuer; its tokens are trusted already`);
        }
        const repo = trustedIssuersRepository(await d.db());
        if (replace) return repo.upsert(entry);
        return (await repo.insert(entry)) ? 'created' : undefined;
      },
      async remove(issuer) {
        return trustedIssuersRepository(await d.db()).delete(issuer);
      },
    },
    keys: {
      async list() {
        const rows = await keysRepository(await keysReady()).listAll();
        const now = Date.now();
        // Each key's status among all of them: the server signs with one key per algorithm.
        return rows.map((k): KeyView => ({
          kid: k.kid,
          alg: k.alg,
          status: keyStatus(k, now, rows),
          created_at: k.created_at.toISOString(),
          active_from: k.active_from.toISOString(),
          retired_at: iso(k.retired_at),
          publish_until: iso(k.publish_until),
          public_jwk: k.public_jwk,
        }));
      },
      async rotate({ delaySeconds, alg }) {
        // Rotating an empty table would leave no key signing until the delay has passed.
        const db = await keysReady();
        const delay = delaySeconds ?? config.keyRotationDelay;
        const rotation = await rotateKeys(
          {
            keys: keysRepository(db),
            resources: resourcesRepository(db),
            kek: (await d.secrets()).keyEncryptionKey,
            clock: systemClock,
            settings: config,
          },
          { delaySeconds: delay, algs: alg ? [alg] : SIGNING_ALGS },
        );
        for (const k of rotation.keys) {
          d.events.emit({
            type: 'key.rotated',
            details: {
              kid: k.kid,
              alg: k.alg,
              signs_from: k.activeFrom.toISOString(),
              retired: k.retired,
              retired_published_until: k.retiredPublishedUntil.toISOString(),
              via: 'cli',
            },
          });
        }
        return {
          delay_seconds: delay,
          retention_seconds: rotation.retentionSeconds,
          keys: rotation.keys.map((r) => ({
            alg: r.alg,
            kid: r.kid,
            active_from: r.activeFrom.toISOString(),
            retired: r.retired,
            retired_publish_until: r.retiredPublishedUntil.toISOString(),
          })),
        };
      },
    },
  };
}
