import type { Queryable } from '../db.js';

export type DeviceCodeStatus = 'pending' | 'approved' | 'denied' | 'consumed';

export interface DeviceCode {
  deviceCodeHash: string;
  userCode: string;
  clientId: string;
  scopes: string[];
  resources: string[];
  intervalSeconds: number;
  /** The last poll answered normally (pending, denied or tokens). */
  lastPolledAt: Date | null;
  /** The slow_down answered since lastPolledAt, if any. */
  slowedDownAt: Date | null;
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
  slowed_down_at: Date | null;
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
  slowedDownAt: r.slowed_down_at,
  status: r.status,
  userId: r.user_id,
  authTime: r.auth_time,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

/** What one poll changes on its code: the facts the polling policy keeps. */
export type PollRecord = Pick<DeviceCode, 'intervalSeconds' | 'lastPolledAt' | 'slowedDownAt' | 'status'>;

/**
 * Device codes (RFC 8628 §3.2–3.5), stored as the hash of the device code plus the user code.
 *
 * Contract: the repository stores and fetches; the polling policy (interval, slow_down, single
 * use) is src/grants/device-poll-policy.ts. `decide` records the person's decision once: only a
 * pending, live code changes, in one statement. `findForUpdate` must run inside a transaction
 * (src/store/transaction.ts): it locks the code's row until the transaction ends, so of any
 * number of concurrent polls, in any processes, each sees the previous one's `recordPoll`.
 */
export interface DeviceCodesRepository {
  /** Inserts a code unless its user code names a live one (an expired holder is replaced). False: pick another user code. */
  create(c: Omit<DeviceCode, 'lastPolledAt' | 'slowedDownAt' | 'status' | 'userId' | 'authTime'>): Promise<boolean>;
  findLiveByUserCode(userCode: string, now: Date): Promise<DeviceCode | undefined>;
  findByHash(hash: string): Promise<DeviceCode | undefined>;
  decide(hash: string, decision: 'approved' | 'denied', userId: string, authTime: Date, now: Date): Promise<boolean>;
  findForUpdate(hash: string): Promise<DeviceCode | undefined>;
  recordPoll(hash: string, record: PollRecord): Promise<void>;
}

export function deviceCodesRepository(db: Queryable): DeviceCodesRepository {
  return {
    /**
     * Inserts a device code unless its user code names a live one; an expired holder of the
     * same user code is replaced. False means "pick another user code".
     */
    async create(c) {
      const r = await db.query(
        `INSERT INTO device_codes (device_code_hash, user_code, client_id, scopes, resources, interval_seconds, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (user_code) DO UPDATE SET
           device_code_hash = EXCLUDED.device_code_hash, client_id = EXCLUDED.client_id, scopes = EXCLUDED.scopes,
           resources = EXCLUDED.resources, interval_seconds = EXCLUDED.interval_seconds, last_polled_at = NULL, slowed_down_at = NULL,
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

    async findLiveByUserCode(userCode, now) {
      const r = await db.query<Row>('SELECT * FROM device_codes WHERE user_code = $1 AND expires_at > $2', [userCode, now]);
      return r.rows[0] ? toCode(r.rows[0]) : undefined;
    },

    async findByHash(hash) {
      const r = await db.query<Row>('SELECT * FROM device_codes WHERE device_code_hash = $1', [hash]);
      return r.rows[0] ? toCode(r.rows[0]) : undefined;
    },

    async decide(hash, decision, userId, authTime, now) {
      const r = await db.query(
        `UPDATE device_codes SET status = $2, user_id = $3, auth_time = $4
          WHERE device_code_hash = $1 AND status = 'pending' AND expires_at > $5 RETURNING 1`,
        [hash, decision, userId, authTime, now],
      );
      return r.rowCount > 0;
    },

    async findForUpdate(hash) {
      const r = await db.query<Row>('SELECT * FROM device_codes WHERE device_code_hash = $1 FOR UPDATE', [hash]);
      return r.rows[0] ? toCode(r.rows[0]) : undefined;
    },

    async recordPoll(hash, p) {
      await db.query(
        'UPDATE device_codes SET interval_seconds = $2, last_polled_at = $3, slowed_down_at = $4, status = $5 WHERE device_code_hash = $1',
        [hash, p.intervalSeconds, p.lastPolledAt, p.slowedDownAt, p.status],
      );
    },
  };
}
