import type { Queryable } from '../db.js';

/** A user's authenticator: the encrypted secret, whether enrolment was confirmed, the last step used. */
export interface TotpRecord {
  userId: string;
  secretEnc: string;
  createdAt: Date;
  confirmedAt: Date | null;
  lastStep: number;
}

interface Row {
  user_id: string;
  secret_enc: string;
  created_at: Date;
  confirmed_at: Date | null;
  last_step: string | number;
}

const toRecord = (r: Row): TotpRecord => ({
  userId: r.user_id,
  secretEnc: r.secret_enc,
  createdAt: r.created_at,
  confirmedAt: r.confirmed_at,
  lastStep: Number(r.last_step),
});

/**
 * TOTP authenticators (RFC 6238) and recovery codes (issue 15 items 2 and 7).
 *
 * Contract: everything that consumes something is one statement, safe across processes.
 * `acceptStep` records a time step only if it is later than the last one accepted (a code is
 * good once: RFC 6238 §5.2 "MUST NOT accept the second attempt of the same OTP");
 * `useRecoveryCode` marks one unused code used; `confirm` activates a pending enrolment (only the
 * secret that was shown) and writes its recovery codes; `regenerateRecoveryCodes` replaces them;
 * `remove` deletes the authenticator and its codes. Secrets arrive encrypted; codes as hashes.
 */
export interface TotpRepository {
  find(userId: string): Promise<TotpRecord | undefined>;
  /** Starts (or restarts) an enrolment; false when an authenticator is already confirmed. */
  startEnrolment(userId: string, secretEnc: string, now: Date): Promise<boolean>;
  confirm(userId: string, secretEnc: string, step: number, now: Date, recoveryCodeHashes: string[]): Promise<boolean>;
  acceptStep(userId: string, step: number): Promise<boolean>;
  useRecoveryCode(userId: string, codeHash: string, now: Date): Promise<boolean>;
  regenerateRecoveryCodes(userId: string, codeHashes: string[], now: Date): Promise<boolean>;
  unusedRecoveryCodes(userId: string): Promise<number>;
  remove(userId: string): Promise<boolean>;
}

export function totpRepository(db: Queryable): TotpRepository {
  return {
    async find(userId) {
      const r = await db.query<Row>('SELECT user_id, secret_enc, created_at, confirmed_at, last_step FROM user_totp WHERE user_id = $1', [
        userId,
      ]);
      return r.rows[0] ? toRecord(r.rows[0]) : undefined;
    },

    async startEnrolment(userId, secretEnc, now) {
      const r = await db.query(
        `INSERT INTO user_totp (user_id, secret_enc, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET secret_enc = EXCLUDED.secret_enc, created_at = EXCLUDED.created_at
           WHERE user_totp.confirmed_at IS NULL
         RETURNING 1`,
        [userId, secretEnc, now],
      );
      return r.rowCount > 0;
    },

    // One statement: the enrolment becomes active, the confirming code's step is used, and the
    // recovery codes are written, or nothing happens (another tab confirmed or restarted it).
    async confirm(userId, secretEnc, step, now, recoveryCodeHashes) {
      const r = await db.query<{ n: number }>(
        `WITH confirmed AS (
           UPDATE user_totp SET confirmed_at = $4, last_step = $3
            WHERE user_id = $1 AND secret_enc = $2 AND confirmed_at IS NULL
           RETURNING user_id
         ), cleared AS (
           DELETE FROM user_recovery_codes WHERE user_id IN (SELECT user_id FROM confirmed)
         ), written AS (
           INSERT INTO user_recovery_codes (user_id, code_hash, created_at)
           SELECT c.user_id, h, $4 FROM confirmed c, jsonb_array_elements_text($5::jsonb) AS h
           RETURNING 1
         )
         SELECT (SELECT count(*) FROM confirmed)::int AS n, (SELECT count(*) FROM written)::int AS w`,
        [userId, secretEnc, step, now, JSON.stringify(recoveryCodeHashes)],
      );
      return (r.rows[0]?.n ?? 0) > 0;
    },

    async acceptStep(userId, step) {
      const r = await db.query(
        'UPDATE user_totp SET last_step = $2 WHERE user_id = $1 AND confirmed_at IS NOT NULL AND last_step < $2 RETURNING 1',
        [userId, step],
      );
      return r.rowCount > 0;
    },

    async useRecoveryCode(userId, codeHash, now) {
      const r = await db.query(
        `UPDATE user_recovery_codes SET used_at = $3
          WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL
            AND EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = $1 AND t.confirmed_at IS NOT NULL)
         RETURNING 1`,
        [userId, codeHash, now],
      );
      return r.rowCount > 0;
    },

    async regenerateRecoveryCodes(userId, codeHashes, now) {
      const r = await db.query<{ n: number }>(
        `WITH owner AS (
           SELECT user_id FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL FOR UPDATE
         ), cleared AS (
           DELETE FROM user_recovery_codes WHERE user_id IN (SELECT user_id FROM owner)
         ), written AS (
           INSERT INTO user_recovery_codes (user_id, code_hash, created_at)
           SELECT o.user_id, h, $3 FROM owner o, jsonb_array_elements_text($2::jsonb) AS h
           RETURNING 1
         )
         SELECT (SELECT count(*) FROM written)::int AS n`,
        [userId, JSON.stringify(codeHashes), now],
      );
      return (r.rows[0]?.n ?? 0) > 0;
    },

    async unusedRecoveryCodes(userId) {
      const r = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM user_recovery_codes WHERE user_id = $1 AND used_at IS NULL', [
        userId,
      ]);
      return r.rows[0]?.n ?? 0;
    },

    async remove(userId) {
      const r = await db.query(
        `WITH codes AS (DELETE FROM user_recovery_codes WHERE user_id = $1)
         DELETE FROM user_totp WHERE user_id = $1 RETURNING 1`,
        [userId],
      );
      return r.rowCount > 0;
    },
  };
}
