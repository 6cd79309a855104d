-- Audit events (issue 14 item 4): every change made through the admin API (written in the same
-- transaction as the change), and the security events (sign-ins and their failures, lockouts,
-- consent, refresh-token reuse, code replay, key rotation, client-authentication failures).
-- `actor` is who did it ({client_id?, sub?, ip?}), `target` what it was done to ({type, id}),
-- `detail` what changed (before/after), never a secret or a hash. `client_id` and `subject` are
-- the client and the user concerned, copied out of them so the API's filters use an index.
-- Rows older than AUDIT_RETENTION_DAYS are purged by src/store/cleanup.ts.
CREATE TABLE audit_events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  time       timestamptz NOT NULL DEFAULT now(),
  type       text NOT NULL,
  actor      jsonb NOT NULL DEFAULT '{}'::jsonb,
  target     jsonb,
  detail     jsonb NOT NULL DEFAULT '{}'::jsonb,
  client_id  text,
  subject    text
);
CREATE INDEX audit_events_time ON audit_events (time);
CREATE INDEX audit_events_type ON audit_events (type, id);
CREATE INDEX audit_events_client ON audit_events (client_id, id) WHERE client_id IS NOT NULL;
CREATE INDEX audit_events_subject ON audit_events (subject, id) WHERE subject IS NOT NULL;
