-- Which claims of the user a resource's access tokens carry (issue 14 item 5, RFC 9068 §2.2.3.1):
-- e.g. ["roles", "email", "department"]. Nothing unless the resource asks: claim release is opt-in
-- per resource. A column of its own (not inside scopes) so the repository's upsert compares it
-- like the other settings; jsonb like every other array, so PGlite and pg read it alike.
--
-- Users' custom claims need no migration: they live in users.claims beside the standard ones
-- (one JSON document, validated by one schema that tells them apart by name), so the admin API's
-- merge patch, the bootstrap file and the CLI edit both kinds the same way, member by member.
ALTER TABLE resources ADD COLUMN access_token_claims jsonb NOT NULL DEFAULT '[]'::jsonb;
