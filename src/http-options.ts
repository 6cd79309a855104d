import type { Config } from './config.js';

/**
 * How often Node looks for requests that overran HEADERS_TIMEOUT or REQUEST_TIMEOUT. Node's
 * default (30 s) would let a 10 s bound stretch to 40; a check a second costs one walk over the
 * open connections.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/** Who may set X-Forwarded-For, as Fastify's `trustProxy` takes it. */
export type TrustProxy = false | string[] | ((address: string, hop: number) => boolean);

/**
 * TRUST_PROXY as Fastify takes it. A hop count becomes a function: Fastify ignores a bare number
 * (it trusts no hop at all). With `n` hops, the peer and the n-1 addresses it appended are
 * proxies, and the client is the n-th address from the right of X-Forwarded-For; whatever the
 * client itself wrote further left is never used.
 */
export function trustProxyOption(trust: Config['trustProxy']): TrustProxy {
  if (trust === false) return false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return [...trust];
}

/** Fastify options that bound what a connection may hold: no request may keep a socket forever. */
export function connectionLimits(config: Config) {
  return {
    trustProxy: trustProxyOption(config.trustProxy),
    connectionTimeout: config.connectionTimeout * 1000,
    requestTimeout: config.requestTimeout * 1000,
    keepAliveTimeout: config.keepAliveTimeout * 1000,
    maxRequestsPerSocket: config.maxRequestsPerSocket,
  };
}

/** Options for Node's http.createServer (Fastify's `http`), where only they can be set. */
export function nodeServerLimits(config: Config) {
  return {
    headersTimeout: config.headersTimeout * 1000,
    requestTimeout: config.requestTimeout * 1000,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  };
}
