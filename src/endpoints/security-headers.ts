import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/**
 * The headers every response carries (docs/security.md item 10), set by helmet in an onRequest
 * hook. API responses have nothing to frame, load or sniff: CSP `default-src 'none';
 * frame-ancestors 'none'`; pages replace the CSP with their own (src/interaction/pages.ts).
 * Helmet's other defaults (Cross-Origin-*-Policy, Origin-Agent-Cluster, X-DNS-Prefetch-Control,
 * X-Download-Options, X-Permitted-Cross-Domain-Policies, X-XSS-Protection) are off: we never sent
 * them, and Cross-Origin-Resource-Policy would be one more thing for cross-origin API callers.
 * HSTS only when the issuer is https (RFC 6797 §7.2: not sent over plain HTTP).
 *
 * helmet itself rather than @fastify/helmet: the plugin rebuilt helmet's middleware (parsing the
 * CSP directives again) and ran two promise hooks on every request, 3.4% of the token
 * endpoint's CPU profile; here the middleware is built once and runs in one callback hook.
 */
export function securityHeaders(app: FastifyInstance, opts: { https: boolean }): void {
  const setHeaders = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] } },
    frameguard: { action: 'deny' },
    noSniff: true,
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: opts.https ? { maxAge: 31536000, includeSubDomains: true, preload: false } : false,
    crossOriginEmbedderPolicy: false,
    crossOriginOpenerPolicy: false,
    crossOriginResourcePolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xPoweredBy: false,
    xXssProtection: false,
  });
  app.addHook('onRequest', (req, reply, done) => {
    setHeaders(req.raw, reply.raw, () => {
      done();
    });
  });
}
