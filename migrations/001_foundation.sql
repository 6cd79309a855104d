-- Latchkey foundation: clients, resources, signing keys, revocations, replay cache, rate limits.
-- Plain SQL shared by PGlite and PostgreSQL. Arrays are jsonb so both drivers read them alike.

CREATE TABLE clients (
  client_id    text PRIMARY KEY,
  -- HMAC-SHA256 of the secret keyed from LATCHKEY_SECRET: a dump alone cannot test guesses.
  secret_hash  text,
  metadata     jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE resources (
  identifier        text PRIMARY KEY,
  scopes            jsonb NOT NULL DEFAULT '[]'::jsonb,
  access_token_ttl  integer,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE signing_keys (
  kid              text PRIMARY KEY,
  alg              text NOT NULL,
  public_jwk       jsonb NOT NULL,
  -- AES-256-GCM under a key derived from LATCHKEY_SECRET, bound to kid as associated data.
  private_jwk_enc  text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  -- signs from this instant on (rotation publishes first, signs later)
  active_from      timestamptz NOT NULL,
  -- stops signing at this instant (a newer key took over)
  retired_at       timestamptz,
  -- leaves the JWKS after this instant: every token it signed has expired by then
  publish_until    timestamptz
);
CREATE INDEX signing_keys_alg_idx ON signing_keys (alg, active_from);

-- Revoked JWT access tokens by jti, kept until the token would have expired anyway.
CREATE TABLE revoked_tokens (
  jti         text PRIMARY KEY,
  client_id   text NOT NULL,
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at);

-- Seen assertion ids (RFC 7523 §3 item 7): INSERT … ON CONFLICT DO NOTHING decides replays.
CREATE TABLE replay (
  key         text PRIMARY KEY,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX replay_expires_idx ON replay (expires_at);

-- Fixed-window counters shared by every process (failed client authentication, later logins).
CREATE TABLE rate_limits (
  key           text PRIMARY KEY,
  window_start  timestamptz NOT NULL,
  count         integer NOT NULL
);
CREATE INDEX rate_limits_window_idx ON rate_limits (window_start);
