/**
 * pino options: JSON logs, with every credential and token redacted wherever it appears in a
 * logged object (headers, bodies, error details).
 */
const SECRET_FIELDS = [
  'client_secret',
  'client_assertion',
  'assertion',
  'access_token',
  'refresh_token',
  'id_token',
  'token',
  'subject_token',
  'actor_token',
  'code',
  'code_verifier',
  'device_code',
  'password',
  'secret',
];

export function loggerOptions(level: string) {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        'headers.authorization',
        ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `body.${f}`]),
      ],
      censor: '[redacted]',
    },
    serializers: {
      req(req: { method: string; url: string; id: string; ip?: string; headers: Record<string, unknown> }) {
        // The query string of browser endpoints may carry codes and state: log the path only.
        return { id: req.id, method: req.method, path: req.url.split('?')[0], ip: req.ip, userAgent: req.headers['user-agent'] };
      },
    },
  };
}
