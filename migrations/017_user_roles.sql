-- User roles (issue 14 item 5): plain strings such as "admin", released in access tokens only when
-- a resource asks for them (resources.access_token_claims) and read by the admin console, which
-- lets in only users holding "admin". jsonb like every other array, so PGlite and pg read it alike.
ALTER TABLE users ADD COLUMN roles jsonb NOT NULL DEFAULT '[]'::jsonb;
