import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { hashClientSecret, type ServerSecrets } from './keys/secret.js';
import { clientMetadataSchema, describeIssues, resourceSchema } from './oauth/client-metadata.js';
import type { Db } from './store/db.js';
import { clientsRepository } from './store/repositories/clients.js';
import { resourcesRepository } from './store/repositories/resources.js';
import { trustedIssuersRepository } from './store/repositories/trusted-issuers.js';
import { trustedIssuerSchema } from './trust/schema.js';
import { usersRepository } from './store/repositories/users.js';
import { bootstrapUserSchema } from './users/schema.js';
import { PasswordHasher, verifyPassword } from './users/password.js';

/** docs/contract.md "Bootstrap file". Unknown top-level members are refused (a typo is a mistake). */
export const bootstrapSchema = z
  .strictObject({
    clients: z.array(clientMetadataSchema).default([]),
    resources: z.array(resourceSchema).default([]),
    users: z.array(bootstrapUserSchema).default([]),
    trusted_issuers: z.array(trustedIssuerSchema).default([]),
  })
  .superRefine((b, ctx) => {
    b.clients.forEach((c, i) => {
      const m = c.token_endpoint_auth_method;
      if ((m === 'client_secret_basic' || m === 'client_secret_post') && !c.client_secret) {
        ctx.addIssue({
          code: 'custom',
          path: ['clients', i, 'client_secret'],
          message: `a client using ${m} needs a client_secret of at least 32 characters`,
        });
      }
    });
    const dup = (list: string[], what: string, path: string) => {
      const seen = new Set<string>();
      list.forEach((v, i) => {
        if (seen.has(v)) ctx.addIssue({ code: 'custom', path: [path, i], message: `${what} "${v}" appears twice` });
        seen.add(v);
      });
    };
    dup(
      b.clients.map((c) => c.client_id),
      'client_id',
      'clients',
    );
    dup(
      b.resources.map((r) => r.identifier),
      'resource',
      'resources',
    );
    dup(
      b.users.map((u) => u.username.toLowerCase()),
      'username',
      'users',
    );
    dup(
      b.trusted_issuers.map((t) => t.issuer),
      'issuer',
      'trusted_issuers',
    );
  });

export type Bootstrap = z.output<typeof bootstrapSchema>;

export class BootstrapError extends Error {
  override name = 'BootstrapError';
  /** Stable, for logs and callers (the message may change). */
  readonly code = 'bootstrap_invalid';
}

/**
 * The file holds client secrets and passwords: a notice when users other than its owner may read
 * or change it (it is still applied — it may be a read-only mount the operator cannot chmod).
 */
export function bootstrapFileNotice(path: string): string | undefined {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return undefined; // readBootstrapFile says why it cannot be read
  }
  if ((mode & 0o077) === 0) return undefined;
  return `bootstrap file ${path} is open to other users (mode 0${(mode & 0o777).toString(8)}) and holds client secrets and passwords: chmod 600 it`;
}

/** Refuses what the schema cannot know is wrong: trusting this server's own issuer (its tokens are ours already). */
function checkAgainstServer(b: Bootstrap, issuer: string): string | undefined {
  const own = b.trusted_issuers.findIndex((t) => t.issuer === issuer);
  if (own < 0) return undefined;
  return `trusted_issuers[${own}].issuer: ${issuer} is this server's own issuer; its tokens are trusted already (remove the entry)`;
}

export function readBootstrapFile(path: string, server: { issuer: string }): Bootstrap {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (err) {
    throw new BootstrapError(`cannot read bootstrap file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new BootstrapError(`bootstrap file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const r = bootstrapSchema.safeParse(json);
  if (!r.success) throw new BootstrapError(`bootstrap file ${path}: ${describeIssues(r.error)}`);
  const problem = checkAgainstServer(r.data, server.issuer);
  if (problem) throw new BootstrapError(`bootstrap file ${path}: ${problem}`);
  return r.data;
}

type Outcome = 'created' | 'updated' | 'unchanged';

export interface ApplyResult {
  clients: Record<string, Outcome>;
  resources: Record<string, Outcome>;
  users: Record<string, Outcome>;
  trusted_issuers: Record<string, Outcome>;
}

/**
 * Idempotent upsert in one transaction: the whole file applies or nothing does, and applying
 * the same file again changes no row.
 */
export async function applyBootstrap(
  db: Db,
  secrets: ServerSecrets,
  b: Bootstrap,
  /** New password hashes: the server and the CLI pass the configured PASSWORD_HASH_* parameters. */
  passwords: PasswordHasher = new PasswordHasher(),
): Promise<ApplyResult> {
  // argon2 runs before the transaction, never inside it: hashing while holding the rows' locks made
  // processes that bootstrap together (a rolling deploy, WORKERS' primaries, the cluster tests)
  // wait on each other past DB_STATEMENT_TIMEOUT_MS. What was read here is checked again inside the
  // transaction; only a row another process changed in between is verified under the lock.
  const plans = await planPasswords(usersRepository(db), b.users, passwords);
  return db.transaction(async (tx) => {
    const clients = clientsRepository(tx);
    const resources = resourcesRepository(tx);
    const users = usersRepository(tx);
    const result: ApplyResult = { clients: {}, resources: {}, users: {}, trusted_issuers: {} };
    for (const r of b.resources) result.resources[r.identifier] = await resources.upsert(r);
    for (const c of b.clients) {
      const { client_secret, ...metadata } = c;
      result.clients[c.client_id] = await clients.upsert(
        c.client_id,
        metadata,
        client_secret ? hashClientSecret(secrets, client_secret) : null,
      );
    }
    for (const u of b.users) {
      const plan = plans.get(u.username);
      const existing = await users.findByUsername(u.username);
      if (!existing) {
        await users.insert(u.username, plan?.fresh ?? (await passwords.hash(u.password)), u.claims, u.roles ?? []);
        result.users[u.username] = 'created';
        continue;
      }
      // A fresh salt would make every re-application a change: re-hash only a changed password.
      const passwordHash =
        plan && plan.seenHash === existing.passwordHash
          ? plan.fresh
          : (await verifyPassword(existing.passwordHash, u.password))
            ? undefined
            : (plan?.fresh ?? (await passwords.hash(u.password)));
      const claimsChanged = JSON.stringify(sortKeys(existing.claims)) !== JSON.stringify(sortKeys(u.claims));
      const rolesChanged = u.roles !== undefined && JSON.stringify(existing.roles) !== JSON.stringify(u.roles);
      if (passwordHash || claimsChanged || rolesChanged) {
        await users.update(existing.id, {
          ...(passwordHash ? { passwordHash } : {}),
          ...(claimsChanged ? { claims: u.claims } : {}),
          ...(rolesChanged && u.roles ? { roles: u.roles } : {}),
        });
        result.users[u.username] = 'updated';
      } else {
        result.users[u.username] = 'unchanged';
      }
    }
    const trusted = trustedIssuersRepository(tx);
    for (const t of b.trusted_issuers) result.trusted_issuers[t.issuer] = await trusted.upsert(t);
    return result;
  });
}

interface PasswordPlan {
  /** The stored hash this plan was made against (undefined: no such user then). */
  seenHash: string | undefined;
  /** A new hash of the file's password, or undefined when the stored hash already matches it. */
  fresh: string | undefined;
}

/** Outside any transaction: which users' passwords need a new hash, hashed now. */
async function planPasswords(
  users: ReturnType<typeof usersRepository>,
  wanted: Bootstrap['users'],
  passwords: PasswordHasher,
): Promise<Map<string, PasswordPlan>> {
  const plans = new Map<string, PasswordPlan>();
  for (const u of wanted) {
    const existing = await users.findByUsername(u.username);
    const matches = existing ? await verifyPassword(existing.passwordHash, u.password) : false;
    plans.set(u.username, {
      seenHash: existing?.passwordHash,
      fresh: matches ? undefined : await passwords.hash(u.password),
    });
  }
  return plans;
}

/** JSON with object keys in order, so equal claims compare equal whatever order jsonb keeps. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
