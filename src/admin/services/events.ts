import type { Queryable } from '../../store/db.js';
import { auditEventsRepository, type AuditEventRecord } from '../../store/repositories/audit-events.js';

export interface EventView {
  id: string;
  time: string;
  type: string;
  actor: Record<string, unknown>;
  target: { type: string; id: string } | null;
  detail: Record<string, unknown>;
}

export const eventView = (e: AuditEventRecord): EventView => ({
  id: e.id,
  time: e.time.toISOString(),
  type: e.type,
  actor: e.actor as Record<string, unknown>,
  target: e.target,
  detail: e.detail,
});

export interface EventQuery {
  type?: string | undefined;
  subject?: string | undefined;
  clientId?: string | undefined;
  since?: Date | undefined;
  /** The id of the last event of the previous page. */
  after?: string | undefined;
  limit: number;
}

/** Audit events, newest first (src/admin/services/audit.ts writes them). */
export function eventsService(db: Queryable) {
  const repo = auditEventsRepository(db);
  return {
    /** `limit + 1` rows, so the caller can tell whether another page follows. */
    async list(q: EventQuery): Promise<AuditEventRecord[]> {
      return repo.list({
        type: q.type,
        subject: q.subject,
        clientId: q.clientId,
        since: q.since,
        beforeId: q.after,
        limit: q.limit + 1,
      });
    },
  };
}

export type EventsService = ReturnType<typeof eventsService>;
