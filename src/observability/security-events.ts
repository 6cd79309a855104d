/**
 * Security events: one structured log line each (never a secret: no tokens, passwords, secrets or
 * codes — identifiers only), so an operator can alert on them and a SIEM can ingest them. The
 * admin plane later stores the same events as audit records; producers only see this port.
 */

/** Every kind of event, named `<subject>.<what happened>`. */
export type SecurityEventType =
  | 'refresh_token.reuse'
  | 'authorization_code.replay'
  | 'client_auth.failure'
  | 'login.success'
  | 'login.failure'
  | 'login.lockout'
  | 'consent.granted'
  | 'consent.revoked'
  | 'key.rotated'
  | 'user.password_changed'
  | 'user.roles_changed'
  | 'user.claims_changed'
  | 'console.sign_in'
  | 'console.sign_in_refused'
  | 'console.sign_out'
  | 'mfa.success'
  | 'mfa.failure'
  | 'totp.enrolled'
  | 'totp.removed'
  | 'recovery_codes.regenerated'
  | 'recovery_code.used'
  | 'account.sessions_ended';

export interface SecurityEvent {
  type: SecurityEventType;
  /** The client concerned, when there is one. */
  clientId?: string;
  /** The user concerned (their `sub`), when known. */
  userId?: string;
  /** The caller's address as the server sees it (after TRUST_PROXY). */
  ip?: string;
  /** Event-specific identifiers (a grant id, a key id, a reason code); never secrets. */
  details?: Record<string, string | number | boolean | readonly string[]>;
}

export interface SecurityEvents {
  emit(event: SecurityEvent): void;
}

/** The minimal logger surface the sink needs (pino and Fastify's logger both fit). */
export interface EventLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** Events that suggest an attack are logged at warn, the rest at info. */
const WARN: ReadonlySet<SecurityEventType> = new Set([
  'refresh_token.reuse',
  'authorization_code.replay',
  'client_auth.failure',
  'login.failure',
  'login.lockout',
  'console.sign_in_refused',
  'mfa.failure',
]);

/** Writes each event as one log line: `{"event": type, ...}` with the message "security event". */
export function logSecurityEvents(log: EventLogger): SecurityEvents {
  return {
    emit(e) {
      const line = {
        event: e.type,
        ...(e.clientId !== undefined ? { client_id: e.clientId } : {}),
        ...(e.userId !== undefined ? { user_id: e.userId } : {}),
        ...(e.ip !== undefined ? { ip: e.ip } : {}),
        ...e.details,
      };
      if (WARN.has(e.type)) log.warn(line, 'security event');
      else log.info(line, 'security event');
    },
  };
}

/** A sink that keeps events in memory: for tests, and for code paths with no logger. */
export function collectSecurityEvents(): SecurityEvents & { readonly events: SecurityEvent[] } {
  const events: SecurityEvent[] = [];
  return { events, emit: (e) => void events.push(e) };
}
