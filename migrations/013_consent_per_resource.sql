-- Consent per (resource, scope) (issue 11 item 8). Until now consent was remembered per user and
-- client as a list of scope names, so consent to "read" at one API also counted as consent to
-- "read" at another API of the same client (prompt=none then issued it silently). Consent is now
-- one row per user, client and resource, holding the scopes granted at that resource. OpenID
-- scopes (openid, profile, email, address, phone, offline_access) concern the person, not an API:
-- they live under the "no resource" marker, the empty string.
--
-- Existing rows are carried over where their meaning is unambiguous, and nothing is widened:
-- - OpenID scopes go to the "no resource" row;
-- - an API scope goes to the one resource, among the client's audiences, that defines it;
-- - an API scope that two or more of the client's resources define is dropped: the old row cannot
--   say which API the person meant, so they are asked again, on a page that names it;
-- - a scope no audience of the client defines any more is dropped (it could not be issued).
-- Resources also get a display name and plain-words descriptions of their scopes for the page.

ALTER TABLE resources ADD COLUMN name text;
ALTER TABLE resources ADD COLUMN scope_descriptions jsonb NOT NULL DEFAULT '{}'::jsonb;

ALTER TABLE consents RENAME TO consents_by_client;

CREATE TABLE consents (
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_id   text NOT NULL,
  -- a resource identifier (RFC 8707), or '' for the OpenID scopes
  resource    text NOT NULL,
  scopes      jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, client_id, resource)
);

WITH granted AS (
  SELECT c.user_id, c.client_id, s.scope, c.updated_at
    FROM consents_by_client c
   CROSS JOIN LATERAL jsonb_array_elements_text(c.scopes) AS s (scope)
),
placed AS (
  -- OpenID scopes: no resource.
  SELECT g.user_id, g.client_id, '' AS resource, g.scope, g.updated_at
    FROM granted g
   WHERE g.scope IN ('openid', 'profile', 'email', 'address', 'phone', 'offline_access')
  UNION ALL
  -- API scopes: the single resource of the client's audiences that defines the scope.
  SELECT g.user_id, g.client_id, m.identifier, g.scope, g.updated_at
    FROM granted g
    JOIN clients cl ON cl.client_id = g.client_id
   CROSS JOIN LATERAL (
     SELECT min(r.identifier) AS identifier, count(*) AS n
       FROM resources r
      WHERE r.scopes ? g.scope
        AND jsonb_typeof(cl.metadata -> 'audiences') = 'array'
        AND cl.metadata -> 'audiences' ? r.identifier
   ) m
   WHERE g.scope NOT IN ('openid', 'profile', 'email', 'address', 'phone', 'offline_access')
     AND m.n = 1
)
INSERT INTO consents (user_id, client_id, resource, scopes, updated_at)
SELECT user_id, client_id, resource, jsonb_agg(DISTINCT scope), max(updated_at)
  FROM placed
 GROUP BY user_id, client_id, resource;

DROP TABLE consents_by_client;

-- One CSRF scheme (issue 12 item 6): every form's token is derived from the browser cookie with
-- the server's CSRF key (interaction/csrf.ts), so interactions no longer store one of their own.
ALTER TABLE interactions DROP COLUMN csrf_token;
