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
  /** Waiting for this user's second factor (their password was right, or their session needs step-up) until `mfaUntil`. */
  mfaUserId: string | null;
  mfaUntil: Date | null;
  /** How the person signed in (RFC 8176), set with the user. */
  amr: string[] | null;
}

interface Row {
  id: string;
  browser_hash: string;
  client_id: string;
  request: AuthorizationRequest | DeviceRequest;
  user_id: string | null;
  auth_time: Date | null;
  expires_at: Date;
  mfa_user_id: string | null;
  mfa_until: Date | null;
  amr: string[] | null;
}

const toInteraction = (r: Row): Interaction => ({
  id: r.id,
  browserHash: r.browser_hash,
  clientId: r.client_id,
  request: r.request,
  userId: r.user_id,
  authTime: r.auth_time,
  expiresAt: r.expires_at,
  mfaUserId: r.mfa_user_id,
  mfaUntil: r.mfa_until,
  amr: r.amr,
});

export function interactionsRepository(db: Queryable) {
  return {
    async create(i: Omit<Interaction, 'userId' | 'authTime' | 'mfaUserId' | 'mfaUntil' | 'amr'>): Promise<void> {
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

    async setUser(id: string, userId: string, authTime: Date, amr: readonly string[]): Promise<void> {
      await db.query('UPDATE interactions SET user_id = $2, auth_time = $3, amr = $4, mfa_user_id = NULL, mfa_until = NULL WHERE id = $1', [
        id,
        userId,
        authTime,
        JSON.stringify(amr),
      ]);
    },

    /** The sign-in now waits for `userId`'s second factor until `until` (no user is set yet). */
    async awaitSecondFactor(id: string, userId: string, until: Date): Promise<void> {
      await db.query('UPDATE interactions SET mfa_user_id = $2, mfa_until = $3 WHERE id = $1', [id, userId, until]);
    },

    /** Takes the interaction once: a double-submitted form cannot finish it twice. */
    async take(id: string): Promise<Interaction | undefined> {
      const r = await db.query<Row>('DELETE FROM interactions WHERE id = $1 RETURNING *', [id]);
      return r.rows[0] ? toInteraction(r.rows[0]) : undefined;
    },
  };
}

export type InteractionsRepository = ReturnType<typeof interactionsRepository>;
