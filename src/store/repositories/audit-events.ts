import { onlyRow, type Queryable } from '../db.js';

export interface AuditActor {
  client_id?: string;
  sub?: string;
  ip?: string;
}

export interface AuditTarget {
  type: string;
  id: string;
}

export interface NewAuditEvent {
  type: string;
  actor: AuditActor;
  target?: AuditTarget | undefined;
  detail?: Record<string, unknown>;
  /** The client concerned (for the client_id filter). */
  clientId?: string | undefined;
  /** The user concerned, their sub (for the subject filter). */
  subject?: string | undefined;
}

export interface AuditEventRecord {
  id: string;
  time: Date;
  type: string;
  actor: AuditActor;
  target: AuditTarget | null;
  detail: Record<string, unknown>;
}

export interface AuditEventFilter {
  type?: string | undefined;
  subject?: string | undefined;
  clientId?: string | undefined;
  since?: Date | undefined;
  /** Only events older than this id (keyset pagination, newest first). */
  beforeId?: string | undefined;
  limit: number;
}

interface Row {
  id: string;
  time: Date;
  type: string;
  actor: AuditActor;
  target: AuditTarget | null;
  detail: Record<string, unknown>;
}

export function auditEventsRepository(db: Queryable) {
  return {
    async insert(e: NewAuditEvent): Promise<string> {
      const r = await db.query<{ id: string }>(
        `INSERT INTO audit_events (type, actor, target, detail, client_id, subject) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id::text AS id`,
        [
          e.type,
          JSON.stringify(e.actor),
          e.target ? JSON.stringify(e.target) : null,
          JSON.stringify(e.detail ?? {}),
          e.clientId ?? null,
          e.subject ?? null,
        ],
      );
      return onlyRow(r).id;
    },

    /** Newest first; each filter narrows (they combine with AND). */
    async list(f: AuditEventFilter): Promise<AuditEventRecord[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, v: unknown) => {
        params.push(v);
        where.push(sql.replace('?', `$${params.length}`));
      };
      if (f.type !== undefined) add('type = ?', f.type);
      if (f.subject !== undefined) add('subject = ?', f.subject);
      if (f.clientId !== undefined) add('client_id = ?', f.clientId);
      if (f.since !== undefined) add('time >= ?', f.since);
      if (f.beforeId !== undefined) add('id < ?::bigint', f.beforeId);
      params.push(f.limit);
      const r = await db.query<Row>(
        `SELECT id::text AS id, time, type, actor, target, detail FROM audit_events
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY audit_events.id DESC LIMIT $${params.length}`,
        params,
      );
      return r.rows;
    },
  };
}

export type AuditEventsRepository = ReturnType<typeof auditEventsRepository>;
