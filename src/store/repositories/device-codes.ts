import type { Db, Queryable } from '../db.js';

export type DeviceCodeStatus = 'pending' | 'approved' | 'denied' | 'consumed';

export interface DeviceCode {
  deviceCodeHash: string;
  userCode: string;
  clientId: string;
  scopes: string[];
  resources: string[];
  intervalSeconds: number;
  lastPolledAt: Date | null;
  status: DeviceCodeStatus;
  userId: string | null;
  authTime: Date | null;
  createdAt: Date;
  expiresAt: Date;
}

interface Row {
  device_code_hash: string;
  user_code: string;
  client_id: string;
  scopes: string[];
  resources: string[];
  interval_seconds: number;
  last_polled_at: Date | null;
  status: DeviceCodeStatus;
  user_id: string | null;
  auth_time: Date | null;
  created_at: Date;
  expires_at: Date;
}

const toCode = (r: Row): DeviceCode => ({
  deviceCodeHash: r.device_code_hash,
  userCode: r.user_code,
  clientId: r.client_id,
  scopes: r.scopes,
  resources: r.resources,
  intervalSeconds: r.interval_seconds,
  lastPolledAt: r.last_polled_at,
  status: r.status,
  userId: r.user_id,
  authTime: r.auth_time,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

/** An approved code: decide() recorded who approved it. */
export type ApprovedDeviceCode = DeviceCode & { userId: string };

/** What one poll of the token endpoint found, decided under the code's row lock. */
export type PollOutcome =
  | { kind: 'not_found' | 'other_client' | 'expired' | 'consumed' | 'denied' | 'pending' }
  | { kind: 'slow_down'; interval: number }
  | { kind: 'approved'; code: ApprovedDeviceCode };

export function deviceCodesRepository(db: Db) {
  return {
    /**
     * Inserts a device code unless its user code names a live one; an expired holder of the
     * same user code is replaced. False means "pick another user code".
     */
    async create(c: Omit<DeviceCode, 'lastPolledAt' | 'status' | 'userId' | 'authTime'>): Promise<boolean> {
      const r = await db.query(
        `INSERT INTO device_codes (device_code_hash, user_code, client_id, scopes, resources, interval_seconds, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (user_code) DO UPDATE SET
           device_code_hash = EXCLUDED.device_code_hash, client_id = EXCLUDED.client_id, scopes = EXCLUDED.scopes,
           resources = EXCLUDED.resources, interval_seconds = EXCLUDED.interval_seconds, last_polled_at = NULL,
           status = 'pending', user_id = NULL, auth_time = NULL, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
         WHERE device_codes.expires_at <= EXCLUDED.created_at
         RETURNING 1`,
        [
          c.deviceCodeHash,
          c.userCode,
          c.clientId,
          JSON.stringify(c.scopes),
          JSON.stringify(c.resources),
          c.intervalSeconds,
          c.createdAt,
          c.expiresAt,
        ],
      );
      return r.rowCount > 0;
    },

    async findLiveByUserCode(userCode: string, now: Date): Promise<DeviceCode | undefined> {
      const r = await db.query<Row>('SELECT * FROM device_codes WHERE user_code = $1 AND expires_at > $2', [userCode, now]);
      return r.rows[0] ? toCode(r.rows[0]) : undefined;
    },

    async findByHash(hash: string): Promise<DeviceCode | undefined> {
      const r = await db.query<Row>('SELECT * FROM device_codes WHERE device_code_hash = $1', [hash]);
      return r.rows[0] ? toCode(r.rows[0]) : undefined;
    },

    /** The person's decision, once: only a pending, live code changes. */
    async decide(hash: string, decision: 'approved' | 'denied', userId: string, authTime: Date, now: Date): Promise<boolean> {
      const r = await db.query(
        `UPDATE device_codes SET status = $2, user_id = $3, auth_time = $4
          WHERE device_code_hash = $1 AND status = 'pending' AND expires_at > $5 RETURNING 1`,
        [hash, decision, userId, authTime, now],
      );
      return r.rowCount > 0;
    },

    /**
     * One poll (RFC 8628 §3.4–3.5), in one transaction with the row locked, so the interval and
     * the single use hold however many processes are polled at once.
     */
    async poll(
      hash: string,
      clientId: string,
      now: Date,
      onApproved: (tx: Queryable, code: ApprovedDeviceCode) => Promise<void>,
    ): Promise<PollOutcome> {
      return db.transaction(async (tx) => {
        const r = await tx.query<Row>('SELECT * FROM device_codes WHERE device_code_hash = $1 FOR UPDATE', [hash]);
        const row = r.rows[0];
        if (!row) return { kind: 'not_found' };
        const code = toCode(row);
        if (code.clientId !== clientId) return { kind: 'other_client' };
        if (code.status === 'consumed') return { kind: 'consumed' };
        if (code.expiresAt <= now) return { kind: 'expired' };
        if (code.lastPolledAt && now.getTime() - code.lastPolledAt.getTime() < code.intervalSeconds * 1000) {
          const interval = code.intervalSeconds + 5;
          await tx.query('UPDATE device_codes SET interval_seconds = $2, last_polled_at = $3 WHERE device_code_hash = $1', [
            hash,
            interval,
            now,
          ]);
          return { kind: 'slow_down', interval };
        }
        if (code.status === 'pending') {
          await tx.query('UPDATE device_codes SET last_polled_at = $2 WHERE device_code_hash = $1', [hash, now]);
          return { kind: 'pending' };
        }
        if (code.status === 'denied') {
          await tx.query('UPDATE device_codes SET last_polled_at = $2 WHERE device_code_hash = $1', [hash, now]);
          return { kind: 'denied' };
        }
        // Approved, so decide() set user_id (deleting the user deletes the row).
        const { userId } = code;
        if (userId === null) throw new Error('an approved device code has no user');
        const approved = { ...code, userId };
        await tx.query("UPDATE device_codes SET status = 'consumed', last_polled_at = $2 WHERE device_code_hash = $1", [hash, now]);
        await onApproved(tx, approved);
        return { kind: 'approved', code: approved };
      });
    },
  };
}

export type DeviceCodesRepository = ReturnType<typeof deviceCodesRepository>;
