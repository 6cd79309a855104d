import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config.js';
import { accountBucketKey, accountLockedUntil } from '../../interaction/login-throttle.js';
import type { Db } from '../../store/db.js';
import { clearRateLimit, readRateLimits } from '../../store/repositories/rate-limits.js';
import { usersRepository, type User } from '../../store/repositories/users.js';
import { totpRepository } from '../../store/repositories/totp.js';
import { userClaimsSchema } from '../../users/claims.js';
import type { PasswordHasher } from '../../users/password.js';
import { changePassword } from '../../users/password-change.js';
import { rolesSchema } from '../../users/roles.js';
import { passwordSchema, usernameSchema } from '../../users/schema.js';
import { checkIfMatch, etagOf } from '../api/etag.js';
import { applyMergePatch } from '../api/merge-patch.js';
import { recordChange, type Actor } from './audit.js';
import { AdminError, invalidBody, invalidField, notFound } from './errors.js';

/** A user as the admin API shows it: never the password hash. `id` is the OIDC `sub`. */
export interface UserView {
  id: string;
  username: string;
  claims: Record<string, unknown>;
  roles: string[];
  created_at: string;
  updated_at: string;
}

export const userView = (u: User): UserView => ({
  id: u.id,
  username: u.username,
  claims: u.claims,
  roles: u.roles,
  created_at: u.createdAt.toISOString(),
  updated_at: u.updatedAt.toISOString(),
});

/** POST /users (docs/contract.md "Admin API"): without a password the user cannot sign in until one is set. */
export const newUserSchema = z.strictObject({
  username: usernameSchema,
  password: passwordSchema.optional().describe('omit it: the user cannot sign in until POST /users/{id}/password sets one'),
  claims: userClaimsSchema.default({}),
  roles: rolesSchema.default([]),
});

/** What a merge patch may produce: the members an operator edits. */
const editableSchema = z.strictObject({ username: usernameSchema, claims: userClaimsSchema, roles: rolesSchema });

/** Members of the view that a patch may repeat unchanged (a client sending back what it read) but not change. */
const READ_ONLY = ['id', 'created_at', 'updated_at'] as const;

export interface UsersServiceDeps {
  db: Db;
  clock: Clock;
  /** Hashes new passwords with the configured PASSWORD_HASH_* parameters. */
  passwords: PasswordHasher;
  /** The sign-in throttle's account limit, to tell which accounts it has locked. */
  throttle: Pick<Config, 'loginFailureLimitAccount' | 'loginFailureWindow'>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const target = (id: string) => ({ type: 'user', id });
const taken = (username: string) =>
  new AdminError('conflict', `a user named "${username}" already exists (usernames ignore case)`, [
    { pointer: '/username', detail: 'already taken' },
  ]);

/**
 * Users: the validation of the bootstrap file and the CLI (src/users/schema.ts), stored with the
 * repository the CLI uses, each change audited in its transaction (never a password or its hash).
 */
export function usersService({ db, clock, passwords, throttle }: UsersServiceDeps) {
  const now = () => new Date(clock.now());
  return {
    /**
     * `limit + 1` users after the cursor's key (lower-cased username): the one named `username`,
     * those `search` finds (sub, or part of the username or email: the console's search box), or all.
     */
    async list(q: {
      username?: string | undefined;
      search?: string | undefined;
      after?: string | undefined;
      limit: number;
    }): Promise<{ view: UserView; key: string }[]> {
      const repo = usersRepository(db);
      const users =
        q.username !== undefined
          ? [await repo.findByUsername(q.username)].filter((u): u is User => u !== undefined && q.after === undefined)
          : q.search !== undefined
            ? await repo.search(q.search, q.after, q.limit + 1)
            : await repo.page(q.after, q.limit + 1);
      return users.map((u) => ({ view: userView(u), key: u.username.toLowerCase() }));
    },

    async get(id: string): Promise<{ user: UserView; etag: string }> {
      const u = await usersRepository(db).findById(id);
      if (!u) throw notFound('user', id);
      const user = userView(u);
      return { user, etag: etagOf(user) };
    },

    async create(input: unknown, actor: Actor): Promise<{ user: UserView; etag: string }> {
      const parsed = newUserSchema.safeParse(input);
      if (!parsed.success) throw invalidBody(parsed.error.issues);
      const { username, password, claims, roles } = parsed.data;
      if (await usersRepository(db).findByUsername(username)) throw taken(username); // before hashing: ~200 ms saved
      // No password: the hash of 256 random bits nobody knows, so sign-in fails like a wrong password (same cost).
      const passwordHash = await passwords.hash(password ?? randomBytes(32).toString('base64url'));
      const user = await db.transaction(async (tx) => {
        const created = await usersRepository(tx).insert(username, passwordHash, claims, roles);
        if (!created) throw taken(username);
        const view = userView(created);
        await recordChange(tx, {
          type: 'user.created',
          actor,
          target: target(created.id),
          after: view,
          extra: { can_sign_in: password !== undefined },
        });
        return view;
      });
      return { user, etag: etagOf(user) };
    },

    /**
     * RFC 7396 merge patch of username, claims (member by member: null removes one) and roles
     * (replaced whole), checked against If-Match inside the transaction that holds the row.
     */
    async update(id: string, patch: unknown, ifMatch: string | undefined, actor: Actor): Promise<{ user: UserView; etag: string }> {
      if (!isObject(patch)) throw invalidField('', 'send a JSON merge patch object (RFC 7396)');
      if ('password' in patch) throw invalidField('/password', `set a password with POST /admin/api/v1/users/${id}/password`);
      const user = await db.transaction(async (tx) => {
        const repo = usersRepository(tx);
        const u = await repo.findForUpdate(id);
        if (!u) throw notFound('user', id);
        const before = userView(u);
        checkIfMatch(ifMatch, etagOf(before));
        for (const k of READ_ONLY) {
          if (k in patch && patch[k] !== before[k]) throw invalidField(`/${k}`, `${k} cannot be changed`);
        }
        const current = { username: u.username, claims: u.claims, roles: u.roles };
        const edits = Object.fromEntries(Object.entries(patch).filter(([k]) => !(READ_ONLY as readonly string[]).includes(k)));
        const parsed = editableSchema.safeParse(applyMergePatch(current, edits));
        if (!parsed.success) throw invalidBody(parsed.error.issues);
        const next = parsed.data;
        if (next.username !== u.username && !(await repo.rename(id, next.username))) throw taken(next.username);
        await repo.update(id, { claims: next.claims, roles: next.roles });
        const updated = await repo.findById(id);
        if (!updated) throw notFound('user', id);
        const after = userView(updated);
        await recordChange(tx, { type: 'user.updated', actor, target: target(id), before, after });
        return after;
      });
      return { user, etag: etagOf(user) };
    },

    /** Deletes the user with their sessions, grants (and so their tokens) and consents. */
    async delete(id: string, ifMatch: string | undefined, actor: Actor): Promise<void> {
      await db.transaction(async (tx) => {
        const repo = usersRepository(tx);
        const u = await repo.findForUpdate(id);
        if (!u) throw notFound('user', id);
        const before = userView(u);
        checkIfMatch(ifMatch, etagOf(before));
        // ON DELETE CASCADE takes their grants: tokens naming a grant that is gone are revoked (revocations.ts).
        if (!(await repo.delete(id))) throw notFound('user', id);
        await recordChange(tx, { type: 'user.deleted', actor, target: target(id), before });
      });
    },

    /**
     * Sets a new password, and takes back what the old one gave (src/users/password-change.ts):
     * every grant revoked, every session ended. The audit event records that it happened, never
     * the password.
     */
    async setPassword(id: string, input: unknown, actor: Actor): Promise<{ sessions_ended: number; grants_revoked: number }> {
      const parsed = z.strictObject({ password: passwordSchema }).safeParse(input);
      if (!parsed.success) throw invalidBody(parsed.error.issues);
      if (!(await usersRepository(db).findById(id))) throw notFound('user', id); // before hashing
      const change = await changePassword(db, id, await passwords.hash(parsed.data.password), now(), (tx, c) =>
        recordChange(tx, {
          type: 'user.password_changed',
          actor,
          target: target(id),
          extra: { sessions_ended: c.sessionsEnded, grants_revoked: c.grantsRevoked },
        }),
      );
      if (!change) throw notFound('user', id);
      return { sessions_ended: change.sessionsEnded, grants_revoked: change.grantsRevoked };
    },

    /**
     * When the sign-in lockout of each of these users ends (their account counter is full within
     * its window: src/interaction/login-throttle.ts); users who are not locked are absent.
     */
    async lockouts(users: readonly Pick<UserView, 'id' | 'username'>[]): Promise<Map<string, Date>> {
      const ids = new Map(users.map((u) => [accountBucketKey(u.username), u.id]));
      const locked = new Map<string, Date>();
      for (const counter of await readRateLimits(db, [...ids.keys()])) {
        const until = accountLockedUntil(throttle, counter, clock.now());
        const id = ids.get(counter.key);
        if (until && id !== undefined) locked.set(id, until);
      }
      return locked;
    },

    /**
     * Clears the sign-in lockout of the account (its failure counter, shared by every process).
     * The per-address counters are not the account's: they stay.
     */
    async unlock(id: string, actor: Actor): Promise<{ failures_cleared: boolean }> {
      return db.transaction(async (tx) => {
        const u = await usersRepository(tx).findById(id);
        if (!u) throw notFound('user', id);
        const cleared = await clearRateLimit(tx, accountBucketKey(u.username));
        await recordChange(tx, { type: 'user.unlocked', actor, target: target(id), extra: { failures_cleared: cleared } });
        return { failures_cleared: cleared };
      });
    },

    /**
     * Removes the user's second factor (TOTP and its recovery codes: a lost phone), so their next
     * sign-in asks for the password only and they can enrol again from /account. Audited in the
     * same transaction.
     */
    async resetSecondFactor(id: string, actor: Actor): Promise<{ totp_removed: boolean }> {
      return db.transaction(async (tx) => {
        const u = await usersRepository(tx).findById(id);
        if (!u) throw notFound('user', id);
        const removed = await totpRepository(tx).remove(id);
        await recordChange(tx, { type: 'user.totp_reset', actor, target: target(id), extra: { totp_removed: removed } });
        return { totp_removed: removed };
      });
    },
  };
}

export type UsersService = ReturnType<typeof usersService>;
