import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics, one registry per server so several servers can live in one process. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'latchkey_' });
  return {
    registry,
    requests: new Counter({
      name: 'latchkey_http_requests_total',
      help: 'HTTP requests by route, method and status code',
      labelNames: ['route', 'method', 'status'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'latchkey_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    tokensIssued: new Counter({
      name: 'latchkey_tokens_issued_total',
      help: 'Token responses by grant type',
      labelNames: ['grant_type'] as const,
      registers: [registry],
    }),
    clientAuthFailures: new Counter({
      name: 'latchkey_client_auth_failures_total',
      help: 'Failed client authentications',
      registers: [registry],
    }),
    passwordChecks: new Gauge({
      name: 'latchkey_password_checks',
      help: 'Sign-in password checks (argon2) running and waiting for a slot (PASSWORD_VERIFY_CONCURRENCY, PASSWORD_VERIFY_QUEUE)',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
    passwordChecksRefused: new Counter({
      name: 'latchkey_password_checks_refused_total',
      help: 'Sign-ins answered 503 because every password-check slot and waiting place was taken',
      registers: [registry],
    }),
    errors: new Counter({
      name: 'latchkey_oauth_errors_total',
      help: 'OAuth error responses by error code',
      labelNames: ['error'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
