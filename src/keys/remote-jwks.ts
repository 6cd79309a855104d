import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { isPrivateAddress } from './private-address.js';
import type { JSONWebKeySet } from 'jose';
import type { Clock } from '../clock.js';
import { TtlCache } from '../platform/ttl-cache.js';

/**
 * Fetches and caches a JWKS from a jwks_uri (client keys for private_key_jwt). Bounded in time
 * and size, and by default refuses private, loopback and link-local addresses — checked on the
 * address actually connected to, so DNS rebinding cannot slip past — so that registering a
 * jwks_uri is no SSRF lever (JWKS_URI_ALLOW_PRIVATE lifts that for development).
 */
export { isPrivateAddress } from './private-address.js';

export class JwksFetchError extends Error {
  override name = 'JwksFetchError';
  /** Stable, for logs and callers (the message may change). */
  readonly code = 'jwks_fetch_failed';
}

const MAX_BYTES = 256 * 1024;
const TIMEOUT_MS = 5000;

export function fetchJwks(uri: string, allowPrivate: boolean): Promise<JSONWebKeySet> {
  const url = new URL(uri);
  const lib = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
  if (!lib) return Promise.reject(new JwksFetchError(`jwks_uri ${uri}: only http(s) is supported`));
  const safeLookup = (
    hostname: string,
    options: object,
    cb: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) {
        cb(err, '', 0);
        return;
      }
      const bad = !allowPrivate && addresses.find((a) => isPrivateAddress(a.address));
      if (bad) {
        cb(
          Object.assign(new Error(`jwks_uri host ${hostname} resolves to a private address (${bad.address})`), { code: 'EPRIVATE' }),
          '',
          0,
        );
        return;
      }
      const [first] = addresses;
      if ((options as { all?: boolean }).all) cb(null, addresses);
      else if (first) cb(null, first.address, first.family);
      // dns.lookup reports no address as ENOTFOUND; should it ever answer an empty list, say the same.
      else cb(Object.assign(new Error(`jwks_uri host ${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
    });
  };
  return new Promise((resolve, reject) => {
    if (!allowPrivate && isIP(url.hostname.replace(/^\[|\]$/g, '')) && isPrivateAddress(url.hostname.replace(/^\[|\]$/g, ''))) {
      reject(new JwksFetchError(`jwks_uri ${uri} points at a private address`));
      return;
    }
    const req = lib.get(url, { lookup: safeLookup, timeout: TIMEOUT_MS, headers: { accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new JwksFetchError(`jwks_uri ${uri} answered HTTP ${res.statusCode}`));
        return;
      }
      let size = 0;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BYTES) {
          req.destroy(new JwksFetchError(`jwks_uri ${uri} returned more than ${MAX_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { keys?: unknown } | null;
          if (!body || !Array.isArray(body.keys)) throw new Error('no "keys" array');
          resolve(body as JSONWebKeySet);
        } catch (err) {
          reject(new JwksFetchError(`jwks_uri ${uri} did not return a JWK Set: ${(err as Error).message}`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new JwksFetchError(`jwks_uri ${uri} did not answer within ${TIMEOUT_MS} ms`)));
    req.on('error', (err) => reject(err instanceof JwksFetchError ? err : new JwksFetchError(`jwks_uri ${uri}: ${err.message}`)));
  });
}

/** Caches each jwks_uri for `ttl`; a kid miss refetches at most once per `cooldown`. */
export class RemoteJwksCache {
  private readonly entries: TtlCache<string, JSONWebKeySet>;

  constructor(
    private readonly clock: Clock,
    private readonly allowPrivate: boolean,
    ttlMs = 5 * 60_000,
    private readonly cooldownMs = 30_000,
  ) {
    this.entries = new TtlCache(clock, { ttlMs, maxEntries: 10_000 });
  }

  get(uri: string, wantKid?: string): Promise<JSONWebKeySet> {
    return this.entries.getOrLoad(
      uri,
      () => fetchJwks(uri, this.allowPrivate),
      (hit) =>
        wantKid !== undefined && !hit.value.keys.some((k) => k.kid === wantKid) && this.clock.now() - hit.storedAt >= this.cooldownMs,
    );
  }
}
