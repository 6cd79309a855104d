-- Admin console sessions (issue 14 item 7): separate from the single sign-on sessions, so signing
-- out of the console (or its short idle timeout) never signs the person out of their apps, and a
-- console session is never mistaken for one. id_hash is SHA-256 of the cookie (256 random bits).
-- idle_until moves forward on each request, never past expires_at (the absolute limit); both are
-- checked and moved in one UPDATE, so concurrent requests across processes agree.
CREATE TABLE console_sessions (
  id_hash     text PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  idle_until  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX console_sessions_idle_idx ON console_sessions (idle_until);
CREATE INDEX console_sessions_user_idx ON console_sessions (user_id);
