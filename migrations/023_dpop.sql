-- DPoP (RFC 9449, issue 16 item 5).

-- Each proof's jti is single use (§11.1) across every process sharing this database: one
-- INSERT … ON CONFLICT DO NOTHING per proof decides it. The key is a hash of the proof key's
-- thumbprint and the jti, so one client's jti values cannot collide with another's. A row is
-- kept past the end of the proof's iat window (tokens/dpop-proof.ts), then purged by the cleanup;
-- a leftover expired row can only refuse a proof whose iat is outside the window anyway.
CREATE TABLE dpop_proofs (
  key         text PRIMARY KEY,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX dpop_proofs_expires_idx ON dpop_proofs (expires_at);

-- §10: a code requested with dpop_jkt is redeemed only with a proof of that key.
ALTER TABLE authorization_codes ADD COLUMN dpop_jkt text;

-- §5: a public client's refresh tokens are bound to the key of the proof that obtained them;
-- rotation copies the binding to the successor. NULL: not bound (confidential clients, or no
-- DPoP at all).
ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt text;
