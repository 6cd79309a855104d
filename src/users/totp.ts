/**
 * TOTP second factor (RFC 6238 over RFC 4226 HOTP, with `otpauth`): secrets, the otpauth:// URI
 * authenticator apps read, code checks that name the time step used (so the caller can refuse a
 * replay in one SQL statement), and recovery codes.
 *
 * Parameters are the ones every authenticator app supports: SHA-1, 6 digits, 30-second steps
 * (RFC 6238 §4, §5.2), a 160-bit secret (RFC 4226 §4 recommends 160 bits). A code is accepted
 * for the current step and one step either side (RFC 6238 §5.2 allows a window for clock drift
 * and the time it takes to type).
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { decryptPrivateKey, encryptPrivateKey } from '../keys/encryption.js';

export const TOTP_PERIOD = 30;
export const TOTP_DIGITS = 6;
export const TOTP_WINDOW = 1;
export const RECOVERY_CODE_COUNT = 10;

/** The AES-GCM associated data: a sealed secret belongs to one user's row and cannot be moved. */
const aad = (userId: string) => `totp:${userId}`;

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

export const sealTotpSecret = (key: Buffer, userId: string, base32: string): string => encryptPrivateKey(key, aad(userId), base32);
export const openTotpSecret = (key: Buffer, userId: string, sealed: string): string => decryptPrivateKey(key, aad(userId), sealed);

function totp(base32: string, issuer = 'Latchkey', label = 'account'): TOTP {
  return new TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD,
    secret: Secret.fromBase32(base32),
  });
}

/** The Key URI Format authenticator apps scan: otpauth://totp/ISSUER:LABEL?secret=…&issuer=… */
export function totpUri(base32: string, issuer: string, label: string): string {
  return totp(base32, issuer, label).toString();
}

/** The RFC 6238 time step of `nowMs`. */
export const timeStep = (nowMs: number): number => Math.floor(nowMs / 1000 / TOTP_PERIOD);

/** Whether `code` is right at `nowMs` (± TOTP_WINDOW steps): the step it belongs to, or undefined. */
export function matchingStep(base32: string, code: string, nowMs: number): number | undefined {
  const normalized = code.replace(/\s/g, '');
  if (!/^\d{6}$/.test(normalized)) return undefined;
  const delta = totp(base32).validate({ token: normalized, timestamp: nowMs, window: TOTP_WINDOW });
  return delta === null ? undefined : timeStep(nowMs) + delta;
}

/** The code for `nowMs` (tests and nothing else need it, but it is the same computation). */
export const totpCode = (base32: string, nowMs: number): string => totp(base32).generate({ timestamp: nowMs });

/** Recovery codes: 10 characters of an unambiguous alphabet (≈ 50 bits), shown as XXXXX-XXXXX. */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const chars = Array.from({ length: 10 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/** Whether what was typed looks like a recovery code (rather than a six-digit code). */
export const looksLikeRecoveryCode = (typed: string): boolean => /^[a-z0-9]{5}-?[a-z0-9]{5}$/i.test(typed.trim());

/** The stored form: SHA-256 over the user id and the code without dash or case (server-made secret). */
export function hashRecoveryCode(userId: string, code: string): string {
  const normalized = code.trim().toLowerCase().replace(/-/g, '');
  return createHash('sha256').update(`latchkey recovery v1\0${userId}\0${normalized}`).digest('base64url');
}

/** A random value of the same shape, hashed, so that a wrong guess costs what a right one does. */
export const dummyWork = (): string => hashRecoveryCode('', randomBytes(8).toString('hex'));
