import type { Clock } from '../clock.js';
import type { Queryable } from '../store/db.js';
import type { KeyRow, KeysRepository } from '../store/repositories/keys.js';
import type { ResourcesRepository } from '../store/repositories/resources.js';
import { keyStatus, signingGapOf, type KeyStatus } from './lifecycle.js';
import { keyRetentionSeconds, type LifetimeSettings } from './retention.js';

/** Why a key cannot be retired as asked; `message` says what to do instead. */
export type KeyRetireRefusal = 'not_found' | 'expired' | 'already_retired' | 'no_successor';

export class KeyRetireError extends Error {
  override name = 'KeyRetireError';
  constructor(
    readonly code: KeyRetireRefusal,
    message: string,
  ) {
    super(message);
  }
}

export interface Retirement {
  kid: string;
  alg: string;
  before: KeyRow;
  after: KeyRow;
  statusBefore: KeyStatus;
  statusAfter: KeyStatus;
  /** Removed from /jwks at once: tokens it signed stop verifying. */
  unpublished: boolean;
  /** The key that signs its algorithm now, after the retirement. */
  signingNow: string | undefined;
  /** A rotation's pending successor brought forward to sign now, and when it was to start. */
  promoted: { kid: string; plannedFrom: Date } | undefined;
}

const iso = (t: number | Date) => new Date(t).toISOString();

/** Could `k` sign at some instant from `now` on? (A superseded key never signs: retired_at ≤ active_from.) */
const signsFrom = (k: KeyRow, now: number) =>
  (k.publish_until === null || k.publish_until.getTime() > now) &&
  (k.retired_at === null || k.retired_at.getTime() > Math.max(now, k.active_from.getTime()));

/**
 * Retires one key on purpose — a suspected compromise — rather than by rotation: it stops signing
 * now (a pending key never signs), and stays published while the tokens it signed live (the
 * rotation's retention), or with `unpublish` leaves /jwks now, so every token it signed stops
 * verifying. Another key of its algorithm must sign from now on: one that already may, or a
 * rotation's pending successor, which then starts now instead of at its planned time. Without
 * one it is refused (rotate first), so the server never finds itself without a signing key.
 *
 * One transaction under the key-management lock (the one rotation takes), so concurrent
 * rotations and retirements in any process are decided one after the other on what the others
 * committed. `within` runs in the same transaction (the audit event). Every process follows
 * within KEY_RELOAD_INTERVAL, when its key store re-reads the table.
 */
export async function retireSigningKey(
  deps: { keys: KeysRepository; resources: ResourcesRepository; clock: Clock; settings: LifetimeSettings },
  kid: string,
  opts: { unpublish: boolean },
  within?: (tx: Queryable, r: Retirement) => Promise<void>,
): Promise<Retirement> {
  const retention = keyRetentionSeconds(deps.settings, await deps.resources.maxAccessTokenTtl());
  return deps.keys.withLock(async (tx) => {
    const rows = await deps.keys.listAll(tx);
    const now = deps.clock.now();
    const row = rows.find((k) => k.kid === kid);
    if (!row) throw new KeyRetireError('not_found', `there is no signing key "${kid}"`);
    const statusBefore = keyStatus(row, now, rows);
    if (row.publish_until && row.publish_until.getTime() <= now) {
      throw new KeyRetireError('expired', `key "${kid}" left /jwks at ${iso(row.publish_until)}; there is nothing left to retire`);
    }
    const stopsSigning = signsFrom(row, now);
    if (!stopsSigning && !opts.unpublish) {
      throw new KeyRetireError(
        'already_retired',
        `key "${kid}" is ${statusBefore}: it signs nothing from now on, and stays in /jwks until ${iso(row.publish_until ?? now)} ` +
          'so the tokens it signed keep verifying; to remove it from /jwks now, retire it with unpublish',
      );
    }
    // Stops now, or at its own start if still pending (retired_at ≤ active_from: it never signs);
    // a key that stopped already keeps its time.
    const retiredAt = Math.min(row.retired_at?.getTime() ?? Infinity, Math.max(now, row.active_from.getTime()));
    const publishUntil = opts.unpublish ? now : Math.max(row.publish_until?.getTime() ?? 0, retiredAt + retention * 1000);
    let rowsAfter = rows.map((k) => (k === row ? { ...row, retired_at: new Date(retiredAt), publish_until: new Date(publishUntil) } : k));
    let promoted: Retirement['promoted'];
    if (stopsSigning && signingGapOf(rowsAfter, row.alg, now) !== undefined) {
      // A successor already published by a rotation but not signing yet takes over now rather
      // than at its planned time (resource servers that fetched /jwks since its publication
      // know it); the earliest planned one, as it would have been.
      const next = rowsAfter
        .filter((k) => k.alg === row.alg && k.kid !== kid && k.active_from.getTime() > now && signsFrom(k, now))
        .sort((a, b) => a.active_from.getTime() - b.active_from.getTime())[0];
      if (next) {
        promoted = { kid: next.kid, plannedFrom: next.active_from };
        rowsAfter = rowsAfter.map((k) => (k === next ? { ...k, active_from: new Date(now) } : k));
      }
      const gap = signingGapOf(rowsAfter, row.alg, now);
      if (gap !== undefined) {
        throw new KeyRetireError(
          'no_successor',
          `no other ${row.alg} key would sign ${gap <= now ? 'now' : `from ${iso(gap)}`} if "${kid}" were retired: ` +
            `rotate the ${row.alg} keys first (the new key is published at once and can then take over), then retire this one`,
        );
      }
      if (promoted) await deps.keys.startSigning(tx, promoted.kid, new Date(now));
    }
    const after = await deps.keys.retire(tx, kid, new Date(retiredAt), new Date(publishUntil));
    if (!after) throw new KeyRetireError('not_found', `there is no signing key "${kid}"`);
    rowsAfter = rowsAfter.map((k) => (k.kid === kid ? after : k));
    const signingNow = rowsAfter.find((k) => k.alg === row.alg && keyStatus(k, now, rowsAfter) === 'signing')?.kid;
    const r: Retirement = {
      kid,
      alg: row.alg,
      before: row,
      after,
      statusBefore,
      statusAfter: keyStatus(after, now, rowsAfter),
      unpublished: opts.unpublish,
      signingNow,
      promoted,
    };
    await within?.(tx, r);
    return r;
  });
}
