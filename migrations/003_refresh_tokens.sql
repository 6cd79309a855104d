-- Refresh tokens: one row per token, a family per grant. Stored only as hashes.

CREATE TABLE refresh_tokens (
  token_hash      text PRIMARY KEY,
  grant_id        text NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
  client_id       text NOT NULL,
  user_id         text REFERENCES users (id) ON DELETE CASCADE,
  -- the scopes and resources of the grant: a refresh may narrow them per access token, never widen
  scopes          jsonb NOT NULL,
  resources       jsonb NOT NULL,
  auth_time       timestamptz,
  nonce           text,
  created_at      timestamptz NOT NULL,
  -- idle expiry: min(last use + REFRESH_TOKEN_IDLE_TTL, the grant's absolute expiry)
  expires_at      timestamptz NOT NULL,
  -- set, once, by the refresh that rotated this token out; its successor's hash
  rotated_at      timestamptz,
  successor_hash  text,
  revoked_at      timestamptz
);
CREATE INDEX refresh_tokens_grant_idx ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
CREATE INDEX grants_user_client_idx ON grants (user_id, client_id);
