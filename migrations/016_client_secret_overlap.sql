-- Client secret rotation with an overlap period (issue 14 item 3, POST /admin/api/v1/clients/{id}/secret):
-- the secret replaced by a rotation keeps working until previous_secret_expires_at, so the client
-- can be redeployed with the new one without downtime. Only its hash is kept, like secret_hash.
-- A rotation without overlap (the CLI's rotate-secret) clears both columns.
ALTER TABLE clients ADD COLUMN previous_secret_hash text;
ALTER TABLE clients ADD COLUMN previous_secret_expires_at timestamptz;
