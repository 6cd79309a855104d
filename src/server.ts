import { randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import formbody from '@fastify/formbody';
import type { AppContext } from './app.js';
import { OAuthError } from './oauth/errors.js';
import { requestInputs } from './oauth/error-description.js';
import { classifyError } from './endpoints/error-classifier.js';
import { NulCharacterError, parseForm } from './oauth/form.js';
import { connectionLimits, nodeServerLimits } from './http-options.js';
import { loggerOptions } from './observability/logger.js';
import { requestLoggerFactory } from './observability/request-logger.js';
import { discoveryEndpoints } from './endpoints/discovery.js';
import { jwksEndpoint } from './endpoints/jwks.js';
import { tokenEndpoint } from './endpoints/token.js';
import { introspectEndpoint } from './endpoints/introspect.js';
import { revokeEndpoint } from './endpoints/revoke.js';
import { healthEndpoints } from './endpoints/health.js';
import { metricsEndpoint, type MetricsSource } from './endpoints/metrics.js';
import { authorizeEndpoint } from './endpoints/authorize.js';
import { interactionEndpoints } from './endpoints/interaction.js';
import { accountEndpoint } from './endpoints/account.js';
import { userinfoEndpoint } from './endpoints/userinfo.js';
import { endSessionEndpoint } from './endpoints/end-session.js';
import { registerPages } from './interaction/pages.js';
import { corsEndpoints } from './endpoints/cors.js';
import { securityHeaders } from './endpoints/security-headers.js';
import { deviceAuthorizationEndpoint } from './endpoints/device-authorization.js';
import { deviceEndpoint } from './endpoints/device.js';
import { parEndpoint } from './endpoints/par.js';
import type { RequestObjectDeps } from './trust/request-object.js';
import { endpointUrl } from './endpoints/paths.js';
import { RecentRotations } from './grants/recent-rotations.js';
import type { GrantDeps } from './grants/types.js';
import { JtiPool } from './tokens/access-token.js';
import { transactionOn } from './store/transaction.js';
import { GRANTS, type GrantTable } from './grants/index.js';
import type { InteractionDeps } from './interaction/deps.js';
import { consolePlugin } from './admin/console/plugin.js';
import { ADMIN_API_PREFIX, adminApi } from './admin/api/plugin.js';
import { createAdminServices } from './admin/services/index.js';
import { trackRouteMethods } from './endpoints/route-methods.js';
import { dpopVerifier } from './endpoints/dpop.js';
import { dpopNonces } from './tokens/dpop-nonce.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Paths whose errors a person reads: HTML pages, not JSON. */
const BROWSER_PATH = /^\/(authorize|interaction|device|end_session|account|admin(?!\/api(\/|\?|$)))(\/|\?|$)/;

const BAD_REQUEST_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
  '<title>Bad request · Latchkey</title><link rel="stylesheet" href="/assets/latchkey.css"></head><body><main class="card">' +
  '<h1>Bad request</h1><p>%WHY% Go back to the application and start again.</p></main>' +
  '<footer class="site-footer">Latchkey</footer></body></html>';

const BAD_URL_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
  '<title>Invalid link · Latchkey</title><link rel="stylesheet" href="/assets/latchkey.css"></head><body><main class="card">' +
  '<h1>Invalid link</h1><p>The address of this page is not valid. Go back to the application and start again.</p></main>' +
  '<footer class="site-footer">Latchkey</footer></body></html>';

export interface BuildOptions {
  /** The grant registry; the built-in GRANTS unless a test registers more. */
  grants?: GrantTable;
  /** A pino logger instance; false disables logging (tests); unset builds one from config. */
  logger?: false | FastifyBaseLogger;
  /** What /metrics on this port exposes; this process's registry unless a cluster worker's (all workers). */
  metricsSource?: MetricsSource;
}

/** What every grant may use (each grant's handler reads only its part), built once. */
function grantDeps(ctx: AppContext): GrantDeps {
  const { config } = ctx;
  return {
    clock: ctx.clock,
    jtis: new JtiPool(),
    issuer: config.issuer,
    keystore: ctx.keystore,
    registry: ctx.registry,
    accessTokenTtl: config.accessTokenTtl,
    accessTokenSigningAlg: config.accessTokenSigningAlg,
    idTokenTtl: config.idTokenTtl,
    userinfoUrl: endpointUrl(config.issuer, 'userinfo'),
    codes: ctx.repos.codes,
    grants: ctx.repos.grants,
    refreshTokens: ctx.repos.refreshTokens,
    refreshTokenIdleTtl: config.refreshTokenIdleTtl,
    refreshTokenAbsoluteTtl: config.refreshTokenAbsoluteTtl,
    refreshTokenRotation: config.refreshTokenRotation,
    refreshTokenGrace: config.refreshTokenGrace,
    deviceCodes: ctx.repos.deviceCodes,
    transaction: transactionOn(ctx.db),
    recentRotations: new RecentRotations(),
    events: ctx.events,
    trust: ctx.trust,
  };
}

/**
 * The one place API errors are written: the description made safe and free of the request's own
 * values (RFC 6749 §5.2, oauth/error-description.ts); the private detail goes to the log only.
 */
function sendError(reply: FastifyReply, err: OAuthError, metrics: AppContext['metrics'], req?: FastifyRequest): FastifyReply {
  metrics.errors.inc({ error: err.code });
  if (err.detail !== undefined) req?.log.info({ error: err.code, detail: err.detail }, 'request refused');
  return reply
    .code(err.status)
    .headers({ 'cache-control': 'no-store', ...err.headers })
    .send(err.toJSON(req ? requestInputs(req.body, req.query) : []));
}

/** Registers plugins and endpoints on a new Fastify instance. No module-level state. */
export async function buildServer(ctx: AppContext, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const { config, metrics } = ctx;
  const grants = opts.grants ?? GRANTS;
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: opts.logger === false ? false : loggerOptions(config.logLevel) }),
    ...connectionLimits(config),
    bodyLimit: config.bodyLimit,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Path parameters (interaction ids) are validated by their routes; a long one gets their
    // readable error rather than the router's own.
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 8192 },
    // A path that cannot be percent-decoded answers like any other bad input.
    frameworkErrors: (_error: Error, req: { url: string }, reply: FastifyReply) => {
      const browser = BROWSER_PATH.test(req.url);
      reply.code(400).header('cache-control', 'no-store');
      if (browser) {
        void reply
          .header('content-type', 'text/html; charset=utf-8')
          .header('content-security-policy', "default-src 'none'; style-src 'self'; frame-ancestors 'none'")
          .send(BAD_URL_PAGE);
        return;
      }
      metrics.errors.inc({ error: 'invalid_request' });
      void reply.send({
        error: 'invalid_request',
        error_description: 'the request path is not valid percent-encoding',
      });
    },
    // Requests Node's HTTP parser refuses (oversized headers, bad bytes) still get an RFC-style
    // answer, and the connection is closed since the request could not be framed.
    clientErrorHandler: (error, socket) => {
      const err = error as unknown as { code?: string; rawPacket?: Buffer };
      if (err.code === 'ECONNRESET' || !socket.writable) return;
      const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
      // HEADERS_TIMEOUT / REQUEST_TIMEOUT: the request did not arrive in time (RFC 9110 §15.5.9).
      const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
      // What little of the request line could be read decides the kind of answer.
      const [method = '', target = ''] = (err.rawPacket?.toString('latin1', 0, 2048).split('\r\n')[0] ?? '').split(' ');
      const status = tooLarge ? '431 Request Header Fields Too Large' : timeout ? '408 Request Timeout' : '400 Bad Request';
      const why = tooLarge
        ? 'the request headers (or URL) are too large'
        : timeout
          ? `the request did not arrive completely within ${config.requestTimeout} s (headers within ${config.headersTimeout} s)`
          : 'the request is not valid HTTP';
      const browser = BROWSER_PATH.test(target);
      const body = browser
        ? BAD_REQUEST_PAGE.replace(
            '%WHY%',
            tooLarge ? 'The link is too long.' : timeout ? 'The request took too long to arrive.' : 'The request could not be read.',
          )
        : JSON.stringify({ error: 'invalid_request', error_description: why });
      const head = method === 'HEAD';
      socket.end(
        `HTTP/1.1 ${status}\r\n` +
          `Content-Type: ${browser ? 'text/html' : 'application/json'}; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n` +
          `Content-Security-Policy: default-src 'none'; style-src 'self'; frame-ancestors 'none'\r\nConnection: close\r\n\r\n${head ? '' : body}`,
      );
    },
    // HTTP/1.1 without Host is answered by our handlers like any request, not Node's bare 400.
    http: { ...nodeServerLimits(config), requireHostHeader: false },
    // One log line per request (onResponse below), not Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: requestLoggerFactory,
  });

  await app.register(formbody, {
    bodyLimit: config.bodyLimit,
    parser: (body: string) => parseForm(body),
  });

  const https = config.issuer.startsWith('https://');
  // Before the hooks below: a request they refuse (NUL in the URL) still gets the security headers.
  securityHeaders(app, { https });
  // While draining (SIGTERM), each response closes its keep-alive connection, so in-flight
  // requests finish and no idle client keeps the process alive until its keep-alive timeout.
  let draining = false;
  app.addHook('preClose', (done) => {
    draining = true;
    done();
  });
  // The hooks below run on every request: callback style, so no promise is made for them.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done(/%00/i.test(req.url) ? new NulCharacterError() : undefined);
  });
  app.addHook('onSend', (_req, reply, payload, done) => {
    // Security headers: helmet, in its own onRequest hook (src/endpoints/security-headers.ts).
    if (draining) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: req.method, status: String(reply.statusCode) });
    metrics.duration.observe({ route }, reply.elapsedTime / 1000);
    req.log.info(
      {
        method: req.method,
        path: req.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ip: req.ip,
      },
      'request',
    );
    done();
  });

  app.setErrorHandler((error: FastifyError | OAuthError | Error, req, reply) => {
    const c = classifyError(error, { bodyLimit: config.bodyLimit, requestId: req.id });
    if (c.log === 'error') req.log.error({ err: error }, c.logMessage ?? 'unexpected error');
    return sendError(reply, c.oauth, metrics, req);
  });

  // Every route's path as a pattern, to tell "wrong method" (405) from "no such path" (404).
  const allowedMethods = trackRouteMethods(app);
  app.setNotFoundHandler((req, reply) => {
    const allowed = allowedMethods(req.url);
    if (allowed) {
      return sendError(
        reply,
        new OAuthError('invalid_request', `this method is not allowed on this path; use ${allowed.join(' or ')}`, {
          status: 405,
          headers: { allow: allowed.join(', ') },
        }),
        metrics,
      );
    }
    return sendError(
      reply,
      new OAuthError(
        'invalid_request',
        `there is no endpoint at this path; the endpoints are listed at ${config.issuer}/.well-known/openid-configuration`,
        { status: 404 },
      ),
      metrics,
    );
  });

  // An Expect header we do not understand gets a JSON 417, not Node's empty one (RFC 9110 §10.1.1).
  app.server.on('checkExpectation', (_req, res) => {
    const body = JSON.stringify({
      error: 'invalid_request',
      error_description: 'the Expect header is not supported; only 100-continue is',
    });
    res
      .writeHead(417, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
      })
      .end(body);
  });
  await registerPages(app);
  await corsEndpoints(app);
  // Each endpoint gets the options it declares, nothing more (the composition root decides).
  const requestObjects: RequestObjectDeps = {
    issuer: config.issuer,
    remoteJwks: ctx.remoteJwks,
    replay: ctx.repos.replay,
    clockSkew: config.clockSkew,
    maxLifetime: config.assertionMaxLifetime,
  };
  const interaction: InteractionDeps = {
    config,
    clock: ctx.clock,
    transaction: transactionOn(ctx.db),
    secrets: ctx.secrets,
    keystore: ctx.keystore,
    registry: ctx.registry,
    metrics,
    events: ctx.events,
    repos: ctx.repos,
    requestObjects,
  };
  await app.register(discoveryEndpoints, { config, registry: ctx.registry, grants });
  await app.register(authorizeEndpoint, interaction);
  await app.register(interactionEndpoints, interaction);
  // RFC 9449: one verifier for the token endpoint and /userinfo (proofs' jti single use in the database).
  const dpop = dpopVerifier({
    clock: ctx.clock,
    clockSkew: config.clockSkew,
    nonces: dpopNonces(ctx.secrets.dpopNonceKey),
    nonceRequired: config.dpopNonce === 'required',
    proofs: ctx.repos.dpopProofs,
  });
  await app.register(userinfoEndpoint, {
    config,
    clock: ctx.clock,
    keystore: ctx.keystore,
    repos: ctx.repos,
    registry: ctx.registry,
    dpop,
  });
  await app.register(endSessionEndpoint, interaction);
  await app.register(deviceAuthorizationEndpoint, {
    config,
    clock: ctx.clock,
    authenticator: ctx.authenticator,
    registry: ctx.registry,
    repos: ctx.repos,
  });
  await app.register(deviceEndpoint, interaction);
  await app.register(parEndpoint, {
    config,
    clock: ctx.clock,
    authenticator: ctx.authenticator,
    registry: ctx.registry,
    repos: ctx.repos,
    requestObjects,
  });
  await app.register(jwksEndpoint, { config, keystore: ctx.keystore });
  // One set of grant dependencies (jti pool, recent rotations) for /token and the console's
  // in-process code redemption.
  const grantsDeps = grantDeps(ctx);
  await app.register(tokenEndpoint, {
    clock: ctx.clock,
    authenticator: ctx.authenticator,
    metrics,
    grants,
    grantDeps: grantsDeps,
    dpop: { url: endpointUrl(config.issuer, 'token'), verifier: dpop },
  });
  await app.register(introspectEndpoint, {
    config,
    clock: ctx.clock,
    keystore: ctx.keystore,
    authenticator: ctx.authenticator,
    repos: ctx.repos,
  });
  await app.register(revokeEndpoint, {
    config,
    clock: ctx.clock,
    keystore: ctx.keystore,
    authenticator: ctx.authenticator,
    repos: ctx.repos,
  });
  await app.register(healthEndpoints, { db: ctx.db, keystore: ctx.keystore });
  await app.register(metricsEndpoint, { config, metrics: { registry: opts.metricsSource ?? metrics.registry } });
  // One set of admin services for the API and the console: both validate, store and audit alike.
  const adminServices = createAdminServices(ctx);
  await app.register(adminApi, {
    prefix: ADMIN_API_PREFIX,
    services: adminServices,
    bodyLimit: config.bodyLimit,
    auth: { issuer: config.issuer, clock: ctx.clock, keystore: ctx.keystore, statuses: ctx.repos.revocations },
  });
  await app.register(accountEndpoint, { ...interaction, grants: adminServices.grants });
  await app.register(consolePlugin, {
    config,
    clock: ctx.clock,
    secrets: ctx.secrets,
    registry: ctx.registry,
    keystore: ctx.keystore,
    events: ctx.events,
    repos: ctx.repos,
    db: ctx.db,
    services: adminServices,
    grantDeps: grantsDeps,
  });
  return app;
}
