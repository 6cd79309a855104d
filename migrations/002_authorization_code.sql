-- Authorization code flow with OpenID Connect: users, browser sessions, pending authorization
-- requests, codes, grants and remembered consent.

CREATE TABLE users (
  -- the OpenID `sub`: random, stable across renames, never reused
  id             text PRIMARY KEY,
  username       text NOT NULL,
  -- argon2id (SECURITY.md item 27)
  password_hash  text NOT NULL,
  claims         jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
-- Usernames are unique whatever their case: "Alice" and "alice" are one account.
CREATE UNIQUE INDEX users_username_idx ON users (lower(username));

-- Browser sessions. Only a hash of the cookie value is stored.
CREATE TABLE sessions (
  id_hash     text PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  auth_time   timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- A validated authorization request waiting for the person to log in or consent.
CREATE TABLE interactions (
  id            text PRIMARY KEY,
  -- hash of a cookie set when the interaction began: binds it to that one browser
  browser_hash  text NOT NULL,
  csrf_token    text NOT NULL,
  client_id     text NOT NULL,
  request       jsonb NOT NULL,
  user_id       text REFERENCES users (id) ON DELETE CASCADE,
  auth_time     timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL
);
CREATE INDEX interactions_expires_idx ON interactions (expires_at);

-- One authorization a user gave a client: every token issued from it carries its id (`gid`),
-- so revoking the grant revokes them all.
CREATE TABLE grants (
  id          text PRIMARY KEY,
  client_id   text NOT NULL,
  user_id     text REFERENCES users (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz
);
CREATE INDEX grants_expires_idx ON grants (expires_at);
CREATE INDEX grants_client_idx ON grants (client_id);

CREATE TABLE authorization_codes (
  code_hash       text PRIMARY KEY,
  grant_id        text NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
  client_id       text NOT NULL,
  user_id         text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  redirect_uri    text NOT NULL,
  scopes          jsonb NOT NULL,
  resources       jsonb NOT NULL,
  nonce           text,
  code_challenge  text,
  auth_time       timestamptz NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  -- set once, atomically, by the redemption that wins
  consumed_at     timestamptz
);
CREATE INDEX authorization_codes_expires_idx ON authorization_codes (expires_at);

-- Remembered consent per user and client: the scopes granted so far.
CREATE TABLE consents (
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_id   text NOT NULL,
  scopes      jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, client_id)
);
