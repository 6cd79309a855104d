-- Trusted issuers (RFC 7523 §2.1, RFC 8693): who may sign JWT-bearer assertions and token-exchange
-- JWTs, for which subjects and scopes, presented by which clients. The validated entry (keys or
-- jwks_uri, subject or allow_any_subject, scope, client_ids) is kept as jsonb, like client metadata.

CREATE TABLE trusted_issuers (
  issuer      text PRIMARY KEY,
  metadata    jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
