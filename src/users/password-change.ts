import type { Db, Queryable } from '../store/db.js';
import { usersRepository } from '../store/repositories/users.js';

export interface PasswordChange {
  sessionsEnded: number;
  grantsRevoked: number;
}

/**
 * A new password takes back everything the old one let anyone obtain — whoever knew it may hold
 * sessions, refresh tokens and access tokens: in one transaction with the new hash, every grant
 * of the user is revoked (refresh tokens stop, access tokens introspect inactive), codes and
 * sign-ins in progress are dropped, approved device codes not yet collected are denied, and every
 * browser session ends. Undefined when the user no longer exists (nothing changed).
 */
export async function changePassword(
  db: Db,
  userId: string,
  passwordHash: string,
  now: Date,
  /** Runs last in the same transaction (the admin API's audit event: both commit or neither does). */
  alsoInTransaction?: (tx: Queryable, change: PasswordChange) => Promise<void>,
): Promise<PasswordChange | undefined> {
  return db.transaction(async (tx) => {
    const users = usersRepository(tx);
    if (!(await users.update(userId, { passwordHash }))) return undefined;
    const withdrawn = await users.withdrawAccess(userId, now);
    const sessionsEnded = await users.endSessions(userId);
    const change = { sessionsEnded, grantsRevoked: withdrawn.grants };
    await alsoInTransaction?.(tx, change);
    return change;
  });
}
