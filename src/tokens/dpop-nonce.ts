import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * DPoP server nonces (RFC 9449 §8), stateless: a nonce is a time window's number and an HMAC of
 * it under a key derived from LATCHKEY_SECRET (keys/secret.ts), so every process sharing the
 * secret issues and accepts the same nonces with nothing stored. A nonce is accepted during its
 * own window and the next one: from WINDOW to 2 × WINDOW seconds after it was issued.
 */
export const NONCE_WINDOW = 300;

const window = (now: number): number => Math.floor(now / 1000 / NONCE_WINDOW);

const mac = (key: Buffer, w: number): Buffer => createHmac('sha256', key).update(`dpop-nonce ${w}`).digest().subarray(0, 16);

export interface DpopNonces {
  /** The nonce to hand out now (the `DPoP-Nonce` header). */
  current(now: number): string;
  /** Whether a nonce sent back in a proof is one this server issued in this window or the previous one. */
  accepts(nonce: string, now: number): boolean;
}

export function dpopNonces(key: Buffer): DpopNonces {
  const issue = (w: number): string => `${w.toString(36)}.${mac(key, w).toString('base64url')}`;
  return {
    current: (now) => issue(window(now)),
    accepts(nonce, now) {
      const m = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})$/.exec(nonce);
      if (!m) return false;
      const w = parseInt(m[1] as string, 36);
      const current = window(now);
      if (w !== current && w !== current - 1) return false;
      return timingSafeEqual(Buffer.from(m[2] as string, 'base64url'), mac(key, w));
    },
  };
}
