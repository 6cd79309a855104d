import type { Queryable } from '../../store/db.js';
import {
  auditEventsRepository,
  type AuditActor,
  type AuditEventsRepository,
  type AuditTarget,
} from '../../store/repositories/audit-events.js';
import type { SecurityEvent, SecurityEvents } from '../../observability/security-events.js';

/** Who made a change: the admin token's client, and its user when a person signed in. */
export type Actor = AuditActor;

/** Member names whose values are never written to an audit event (secrets and what derives from them). */
const SECRET_NAME = /^(client_secret|secret|token|access_token|refresh_token|code)$|password|hash$|private_key|^(d|p|q|dp|dq|qi|k)$/i;

/** A copy without secrets, hashes or private key material, at any depth. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([k]) => !SECRET_NAME.test(k))
        .map(([k, v]) => [k, redact(v)]),
    );
  }
  return value;
}

export interface Change {
  /** `<target type>.<what happened>`, e.g. client.created. */
  type: string;
  actor: Actor;
  target: AuditTarget;
  before?: unknown;
  after?: unknown;
  /** Other facts (e.g. an overlap period); never secrets. */
  extra?: Record<string, unknown>;
  /** The client concerned when the target is not a client (e.g. the client a user's grant was for): for the client_id filter. */
  clientId?: string;
}

/**
 * Records an admin change. Call it with the transaction's own connection, so the event is
 * written exactly when the change is: both commit or neither does.
 */
export async function recordChange(tx: Queryable, c: Change): Promise<void> {
  await auditEventsRepository(tx).insert({
    type: c.type,
    actor: c.actor,
    target: c.target,
    detail: {
      ...(c.before !== undefined ? { before: redact(c.before) } : {}),
      ...(c.after !== undefined ? { after: redact(c.after) } : {}),
      ...(c.extra ? (redact(c.extra) as Record<string, unknown>) : {}),
    },
    clientId: c.target.type === 'client' ? c.target.id : (c.clientId ?? c.actor.client_id),
    subject: c.target.type === 'user' ? c.target.id : c.actor.sub,
  });
}

/** What a security event is about, as an audit target. */
function targetOf(e: SecurityEvent): AuditTarget | undefined {
  if (e.type === 'key.rotated' && typeof e.details?.kid === 'string') return { type: 'key', id: e.details.kid };
  if (e.userId !== undefined) return { type: 'user', id: e.userId };
  if (e.clientId !== undefined) return { type: 'client', id: e.clientId };
  return undefined;
}

/**
 * At most this many security events are being stored at once. Producers include unauthenticated
 * requests (a flood of wrong client secrets emits client_auth.failure per request): without a
 * bound, each would queue an INSERT for the pool's 10 connections and starve the requests that
 * need the database (seen: 1.4 million queued writes in 40 s, then 503s for everyone).
 */
export const MAX_PENDING_AUDIT_WRITES = 256;

/**
 * Security events go on being log lines (`next`), and are also stored as audit events. The store
 * is written after the fact (producers emit synchronously, often outside any transaction); a
 * failed write is logged and never fails the request. `flush()` waits for the writes under way.
 * Past MAX_PENDING_AUDIT_WRITES writes under way, an event is only logged, not stored, and
 * `onDropped` is told (the log line is the record of last resort).
 */
export function persistSecurityEvents(
  next: SecurityEvents,
  repo: AuditEventsRepository,
  onError: (err: unknown) => void,
  onDropped: (e: SecurityEvent) => void = () => undefined,
  maxPending = MAX_PENDING_AUDIT_WRITES,
): SecurityEvents & { flush(): Promise<void> } {
  const pending = new Set<Promise<void>>();
  return {
    emit(e) {
      next.emit(e);
      if (pending.size >= maxPending) {
        onDropped(e);
        return;
      }
      const write = repo
        .insert({
          type: e.type,
          actor: {
            ...(e.clientId !== undefined ? { client_id: e.clientId } : {}),
            ...(e.userId !== undefined ? { sub: e.userId } : {}),
            ...(e.ip !== undefined ? { ip: e.ip } : {}),
          },
          target: targetOf(e),
          detail: redact(e.details ?? {}) as Record<string, unknown>,
          clientId: e.clientId,
          subject: e.userId,
        })
        .then(
          () => undefined,
          (err: unknown) => onError(err),
        )
        .finally(() => pending.delete(write));
      pending.add(write);
    },
    async flush() {
      await Promise.all([...pending]);
    },
  };
}
