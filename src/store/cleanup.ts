import type { Clock } from '../clock.js';
import { onlyRow, type Db } from './db.js';

/** Serialises cleanup across processes: whoever holds it this round purges, the others skip. */
const CLEANUP_LOCK = 7_357_003;
const BATCH = 1000;

/**
 * Expired rows, table by table. Each batch is one short statement on at most BATCH rows, so a
 * purge never holds locks long enough to stall requests. Grants go last and only once every
 * token that names them has expired (their expires_at is set to outlive their tokens).
 */
const PURGES: { table: string; where: string; param?: 'auditCutoff' }[] = [
  { table: 'authorization_codes', where: 'expires_at < $1' },
  { table: 'refresh_tokens', where: 'expires_at < $1' },
  { table: 'interactions', where: 'expires_at < $1' },
  { table: 'device_codes', where: 'expires_at < $1' },
  { table: 'pushed_authorization_requests', where: 'expires_at < $1' },
  { table: 'sessions', where: 'expires_at < $1' },
  { table: 'console_sessions', where: 'idle_until < $1' },
  { table: 'revoked_tokens', where: 'expires_at < $1' },
  { table: 'replay', where: 'expires_at < $1' },
  { table: 'dpop_proofs', where: 'expires_at < $1' },
  // Rate-limit windows are at most a day long.
  { table: 'rate_limits', where: "window_start < $1::timestamptz - interval '1 day'" },
  { table: 'grants', where: 'expires_at < $1' },
  // Audit events past AUDIT_RETENTION_DAYS ($1 is then now minus the retention).
  { table: 'audit_events', where: 'time < $1', param: 'auditCutoff' },
];

/** How long audit events are kept (AUDIT_RETENTION_DAYS); the default when not said. */
export interface CleanupOptions {
  auditRetentionDays?: number;
}

/**
 * Deletes expired rows; returns how many per table, or undefined when another process is
 * purging right now. Each batch is its own short transaction, so the embedded database (one
 * connection) serves requests between batches.
 */
export async function purgeExpired(db: Db, now: Date, opts: CleanupOptions = {}): Promise<Record<string, number> | undefined> {
  const counts: Record<string, number> = {};
  const auditCutoff = new Date(now.getTime() - (opts.auditRetentionDays ?? 90) * 86_400_000);
  for (const { table, where, param } of PURGES) {
    counts[table] = 0;
    for (;;) {
      const deleted = await db.transaction(async (tx) => {
        const r = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [CLEANUP_LOCK]);
        if (!onlyRow(r).ok) return undefined;
        return (
          await tx.query(`DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE ${where} LIMIT ${BATCH})`, [
            param === 'auditCutoff' ? auditCutoff : now,
          ])
        ).rowCount;
      });
      if (deleted === undefined) return undefined;
      counts[table] += deleted;
      if (deleted < BATCH) break;
    }
  }
  return counts;
}

/** Runs purgeExpired every `intervalSeconds` (with jitter, so processes do not line up). */
export function startCleanup(
  db: Db,
  clock: Clock,
  intervalSeconds: number,
  onError: (err: unknown) => void,
  onDone?: (counts: Record<string, number>) => void,
  opts: CleanupOptions = {},
) {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    const jitter = 0.8 + Math.random() * 0.4;
    timer = setTimeout(run, intervalSeconds * 1000 * jitter);
    timer.unref();
  };
  const run = () => {
    purgeExpired(db, new Date(clock.now()), opts)
      .then((counts) => counts && onDone?.(counts))
      .catch(onError)
      .finally(schedule);
  };
  schedule();
  return {
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
