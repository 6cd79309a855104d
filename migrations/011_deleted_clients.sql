-- Tombstones of deleted clients. Access tokens are stateless JWTs: deleting a client cannot
-- reach the ones it already holds, so every check of our own access tokens (introspection,
-- userinfo, token exchange) refuses a token whose client_id has a tombstone, unless the id was
-- registered again after the deletion and the token was issued to that new client (issued at or
-- after its creation, in a later second than the deletion). Kept for good: one small row per
-- deleted id, and deleting the same id again moves deleted_at forward.
CREATE TABLE deleted_clients (
  client_id   text PRIMARY KEY,
  deleted_at  timestamptz NOT NULL DEFAULT now()
);
