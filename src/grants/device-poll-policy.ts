import type { DeviceCode, PollRecord } from '../store/repositories/device-codes.js';

/** RFC 8628 §3.5: each slow_down raises the interval by this much. */
export const SLOW_DOWN_STEP_SECONDS = 5;

/**
 * One poll of the token endpoint with a device code (RFC 8628 §3.4–3.5), decided from the code as
 * stored. Pure: src/grants/device-code.ts reads the code under its row lock, stores `record` and
 * acts on the verdict.
 *
 * The polling policy, written down:
 * - A poll is too fast when less than the code's interval has passed since the last poll that
 *   was answered normally (authorization_pending, access_denied, tokens). A slow_down answer does
 *   not restart that clock: a client that, after a slow_down, waits the interval it was told is
 *   answered normally, whatever it sent in between.
 * - Too fast: slow_down. The interval rises by 5 s on the first slow_down after a normal answer
 *   only; further too-fast polls before the next normal answer get slow_down at the same
 *   interval. So the interval cannot run away from a client: a poller that waits at least the
 *   interval the server last told it is answered normally, and one that restarts with the
 *   interval of the device authorization response is still answered normally at least once per
 *   (interval + 5 s), so an approved code reaches it. (RFC 8628 asks for +5 s "for this and all
 *   subsequent requests"; raising again for polls the client sent before it could act on the
 *   answer would only starve it.)
 * - An approved code is consumed by the normal answer that carries the tokens: once.
 */
export type PollVerdict =
  | { kind: 'refuse'; reason: 'not_found' | 'other_client' | 'consumed' | 'expired' }
  | { kind: 'slow_down'; interval: number; record: PollRecord }
  | { kind: 'pending' | 'denied'; record: PollRecord }
  | { kind: 'approved'; code: DeviceCode & { userId: string }; record: PollRecord };

export function judgePoll(code: DeviceCode | undefined, clientId: string, now: Date): PollVerdict {
  if (!code) return { kind: 'refuse', reason: 'not_found' };
  if (code.clientId !== clientId) return { kind: 'refuse', reason: 'other_client' };
  if (code.status === 'consumed') return { kind: 'refuse', reason: 'consumed' };
  if (code.expiresAt <= now) return { kind: 'refuse', reason: 'expired' };

  if (code.lastPolledAt && now.getTime() - code.lastPolledAt.getTime() < code.intervalSeconds * 1000) {
    const interval = code.slowedDownAt ? code.intervalSeconds : code.intervalSeconds + SLOW_DOWN_STEP_SECONDS;
    return {
      kind: 'slow_down',
      interval,
      record: { intervalSeconds: interval, lastPolledAt: code.lastPolledAt, slowedDownAt: now, status: code.status },
    };
  }
  const answered = { intervalSeconds: code.intervalSeconds, lastPolledAt: now, slowedDownAt: null };
  if (code.status === 'pending' || code.status === 'denied') return { kind: code.status, record: { ...answered, status: code.status } };
  // Approved: the decision recorded who approved it (deleting the user deletes the row).
  const { userId } = code;
  if (userId === null) throw new Error('an approved device code has no user');
  return { kind: 'approved', code: { ...code, userId }, record: { ...answered, status: 'consumed' } };
}
