-- Pushed authorization requests (RFC 9126, issue 16 item 3). A client POSTs its authorization
-- request to /par and gets back request_uri = urn:ietf:params:oauth:request_uri:<256 random bits>;
-- only the SHA-256 of the random part is stored, so a database read does not yield usable
-- request_uris. The row holds the request's parameters as validated at push time (those of the
-- signed request object when one was pushed, RFC 9126 §3) and is bound to the client that pushed
-- it. /authorize takes it with one DELETE … RETURNING (single use across processes, RFC 9126 §4),
-- so two concurrent uses cannot both succeed; the sign-in page it leads to keeps its own copy of
-- the request (interactions), so reloading that page still works. Rows live PAR_TTL seconds.
CREATE TABLE pushed_authorization_requests (
  request_uri_hash text PRIMARY KEY,
  client_id        text NOT NULL,
  params           jsonb NOT NULL,
  -- The parameters came from a verified request object (require_signed_request_object, RFC 9101 §10.5).
  signed           boolean NOT NULL,
  expires_at       timestamptz NOT NULL
);
CREATE INDEX pushed_authorization_requests_expiry_idx ON pushed_authorization_requests (expires_at);
