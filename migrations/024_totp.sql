-- Two-step verification with TOTP (RFC 6238) and the account page (issue 15 items 2 and 4).
--
-- user_totp: one authenticator per user. secret_enc is the shared secret encrypted with
-- AES-256-GCM under a key derived from LATCHKEY_SECRET (as signing keys are), the user id as
-- associated data. confirmed_at is NULL while enrolment waits for the first code; last_step is the
-- last RFC 6238 time step accepted: a code is accepted only by
-- `UPDATE ... SET last_step = $step WHERE last_step < $step`, so one code (or an older one) can
-- never be used twice, whichever process sees it.
CREATE TABLE user_totp (
  user_id       text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  secret_enc    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  confirmed_at  timestamptz,
  last_step     bigint NOT NULL DEFAULT -1
);

-- Ten single-use recovery codes per user, stored as SHA-256 hashes (server-made secrets,
-- docs/security.md); used_at is set by one compare-and-set UPDATE, so each works once.
CREATE TABLE user_recovery_codes (
  user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash  text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  used_at    timestamptz,
  PRIMARY KEY (user_id, code_hash)
);

-- How the person proved who they are (RFC 8176 amr values), kept with the browser session so that
-- a later request asking for a second factor (acr_values, a client's require_mfa) can tell whether
-- it was given (step-up), and with each code so its ID token states it. Existing sessions and codes
-- were made with a password.
ALTER TABLE sessions ADD COLUMN amr jsonb NOT NULL DEFAULT '["pwd"]';
ALTER TABLE authorization_codes ADD COLUMN amr jsonb;

-- A sign-in waiting for its second factor: the user whose password was right (or whose session
-- needs step-up), until mfa_until. Only the browser the interaction is bound to can finish it.
ALTER TABLE interactions ADD COLUMN mfa_user_id text REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE interactions ADD COLUMN mfa_until timestamptz;
-- How the person signed in for this interaction (copied from the session), for the code it issues.
ALTER TABLE interactions ADD COLUMN amr jsonb;
