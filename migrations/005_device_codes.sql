-- Device authorization grant (RFC 8628).

CREATE TABLE device_codes (
  device_code_hash  text PRIMARY KEY,
  -- normalised: 8 characters of BCDFGHJKLMNPQRSTVWXZ, no dash
  user_code         text NOT NULL,
  client_id         text NOT NULL,
  scopes            jsonb NOT NULL,
  resources         jsonb NOT NULL,
  -- the polling interval in force for this code; slow_down adds 5 s (RFC 8628 §3.5)
  interval_seconds  integer NOT NULL,
  last_polled_at    timestamptz,
  -- pending → approved | denied → consumed
  status            text NOT NULL DEFAULT 'pending',
  user_id           text REFERENCES users (id) ON DELETE CASCADE,
  auth_time         timestamptz,
  created_at        timestamptz NOT NULL,
  expires_at        timestamptz NOT NULL
);
-- A user code names one live device code; expired ones are replaced or purged.
CREATE UNIQUE INDEX device_codes_user_code_idx ON device_codes (user_code);
CREATE INDEX device_codes_expires_idx ON device_codes (expires_at);
