import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PENDING_AUDIT_WRITES, persistSecurityEvents } from '../../src/admin/services/audit.js';
import type { SecurityEvent } from '../../src/observability/security-events.js';
import type { AuditEventsRepository } from '../../src/store/repositories/audit-events.js';

describe('security events stored as audit events', () => {
  it('a flood of events never queues more than the bound of writes; the rest are still logged', async () => {
    // The attack: unauthenticated requests with wrong client secrets, each emitting
    // client_auth.failure, faster than the database takes inserts.
    const releases: (() => void)[] = [];
    let inserts = 0;
    const slowRepo = {
      insert: () => {
        inserts++;
        return new Promise<void>((resolve) => releases.push(resolve));
      },
    } as unknown as AuditEventsRepository;
    const logged: SecurityEvent[] = [];
    let dropped = 0;
    const events = persistSecurityEvents(
      { emit: (e) => logged.push(e) },
      slowRepo,
      (err) => assert.fail(String(err)),
      () => dropped++,
    );
    const flood = 5000;
    for (let i = 0; i < flood; i++) {
      events.emit({ type: 'client_auth.failure', clientId: 'svc', ip: '203.0.113.9', details: { reason: 'invalid_secret' } });
    }
    assert.equal(logged.length, flood, 'every event is a log line');
    assert.equal(inserts, MAX_PENDING_AUDIT_WRITES, 'no more writes under way than the bound');
    assert.equal(dropped, flood - MAX_PENDING_AUDIT_WRITES);

    // Once the database catches up, events are stored again.
    for (const release of releases.splice(0)) release();
    await events.flush();
    events.emit({ type: 'login.lockout', userId: 'u1' });
    assert.equal(inserts, MAX_PENDING_AUDIT_WRITES + 1);
    for (const release of releases.splice(0)) release();
    await events.flush();
  });
});
