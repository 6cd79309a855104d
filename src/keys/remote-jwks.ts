import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { isPrivateAddress } from './private-address.js';
import { createRemoteJWKSet, customFetch, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../clock.js';
import { TtlCache } from '../platform/ttl-cache.js';

/**
 * Fetches a JWKS from a jwks_uri (client keys for private_key_jwt). Bounded in time
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

/**
 * A jose remote key set per jwks_uri (jose's createRemoteJWKSet, RFC 7517 §5), kept in the TTL
 * cache. jose does the caching and the kid-miss refetch: `cacheMaxAge` 5 minutes,
 * `cooldownDuration` 30 s, `timeoutDuration` 5 s. The fetch itself is ours (`[customFetch]`), because
 * jose's default fetch would follow a jwks_uri to any address: fetchJwks checks the address actually
 * connected to and caps the body at 256 KiB, which jose has no option for. jose's cache runs on the
 * system clock (Date.now), not the injected Clock.
 */
export class RemoteJwksCache {
  private readonly sets: TtlCache<string, JWTVerifyGetKey>;

  constructor(
    clock: Clock,
    private readonly allowPrivate: boolean,
    private readonly ttlMs = 5 * 60_000,
    private readonly cooldownMs = 30_000,
  ) {
    // The entry only bounds memory (jose's set keeps its keys fresh itself); an idle uri's set is
    // dropped after an hour and a new one fetches again when next used.
    this.sets = new TtlCache(clock, { ttlMs: 60 * 60_000, maxEntries: 10_000 });
  }

  /**
   * The key resolver for `uri`, for jwtVerify. A failure to read the JWKS rejects with
   * `unreadable(error)`; jose's key-selection errors (no or several matching keys) pass through.
   */
  keys(uri: string, unreadable: (err: Error) => Error): JWTVerifyGetKey {
    let set = this.sets.entry(uri)?.value;
    if (!set) {
      set = createRemoteJWKSet(new URL(uri), {
        cacheMaxAge: this.ttlMs,
        cooldownDuration: this.cooldownMs,
        timeoutDuration: TIMEOUT_MS,
        [customFetch]: (url: string) => jwksResponse(url, this.allowPrivate),
      });
      this.sets.set(uri, set);
    }
    const remote = set;
    return async (header, token) => {
      try {
        return await remote(header, token);
      } catch (err) {
        if (
          err instanceof errors.JWKSNoMatchingKey ||
          err instanceof errors.JWKSMultipleMatchingKeys ||
          err instanceof errors.JOSENotSupported
        )
          throw err;
        throw unreadable(err instanceof Error ? err : new Error(String(err)));
      }
    };
  }
}

/** fetchJwks as the Response jose's customFetch expects; its errors (SSRF refusal, size, timeout) propagate as they are. */
async function jwksResponse(url: string, allowPrivate: boolean): Promise<Response> {
  const jwks = await fetchJwks(url, allowPrivate);
  return new Response(JSON.stringify(jwks), { status: 200, headers: { 'content-type': 'application/json' } });
}
