import type { AuthorizationRequest } from '../../domain/authorization-request.js';
import type { Queryable } from '../db.js';

/** A device flow waiting for the person to sign in and confirm (RFC 8628 §3.3). */
export interface DeviceRequest {
  kind: 'device';
  deviceCodeHash: string;
  userCode: string;
  scopes: string[];
  /** The device code's resources (absent in interactions stored before consent was per resource). */
  resources?: string[];
}

export const isDeviceRequest = (r: AuthorizationRequest | DeviceRequest): r is DeviceRequest => 'kind' in r;

export interface Interaction {
  id: string;
  browserHash: string;
  clientId: string;
  request: AuthorizationRequest | DeviceRequest;
  userId: string | null;
  authTime: Date | null;
  expiresAt: Date;
}

interface Row {
  id: string;
  browser_hash: string;
  client_id: string;
  request: AuthorizationRequest | DeviceRequest;
  user_id: string | null;
  auth_time: Date | null;
  expires_at: Date;
}

const toInteraction = (r: Row): Interaction => ({
  id: r.id,
  browserHash: r.browser_hash,
  clientId: r.client_id,
  request: r.request,
  userId: r.user_id,
  authTime: r.auth_time,
  expiresAt: r.expires_at,
});

export function interactionsRepository(db: Queryable) {
  return {
    async create(i: Omit<Interaction, 'userId' | 'authTime'>): Promise<void> {
      await db.query('INSERT INTO interactions (id, browser_hash, client_id, request, expires_at) VALUES ($1, $2, $3, $4, $5)', [
        i.id,
        i.browserHash,
        i.clientId,
        JSON.stringify(i.request),
        i.expiresAt,
      ]);
    },

    async find(id: string, now: Date): Promise<Interaction | undefined> {
      const r = await db.query<Row>('SELECT * FROM interactions WHERE id = $1 AND expires_at > $2', [id, now]);
      return r.rows[0] ? toInteraction(r.rows[0]) : undefined;
    },

    async setUser(id: string, userId: string, authTime: Date): Promise<void> {
      await db.query('UPDATE interactions SET user_id = $2, auth_time = $3 WHERE id = $1', [id, userId, authTime]);
    },

    /** Takes the interaction once: a double-submitted form cannot finish it twice. */
    async take(id: string): Promise<Interaction | undefined> {
      const r = await db.query<Row>('DELETE FROM interactions WHERE id = $1 RETURNING *', [id]);
      return r.rows[0] ? toInteraction(r.rows[0]) : undefined;
    },
  };
}

export type InteractionsRepository = ReturnType<typeof interactionsRepository>;
