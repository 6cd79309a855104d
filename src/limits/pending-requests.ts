import type { Config } from '../config.js';
import { addressKey, type Bucket } from './failure-limiter.js';

/**
 * Which endpoint stores the pending request: /authorize (an interaction), /device_authorization (a
 * device code) or /par (a pushed authorization request).
 */
export type PendingRequestKind = 'authorize' | 'device_authorization' | 'par';

/**
 * The buckets bounding how many pending-request rows anonymous callers can make the server store
 * (5000 anonymous /authorize requests once made 38 MB of them): per address (IPv6 per /64) and per
 * client, each endpoint on its own. Reserved (the limiter's `reserve`) before the row is written
 * and never given back: what they bound is rows created, whatever becomes of them.
 */
export function pendingRequestBuckets(
  config: Pick<Config, 'authorizationRequestLimitIp' | 'authorizationRequestLimitClient'>,
  kind: PendingRequestKind,
  clientId: string,
  ip: string,
): Bucket[] {
  return [
    { key: `${kind}:ip:${addressKey(ip)}`, limit: config.authorizationRequestLimitIp },
    { key: `${kind}:client:${clientId}`, limit: config.authorizationRequestLimitClient },
  ];
}
