-- A code's or refresh token's user is its grant's user, and the grant's own foreign key already
-- removes them with the user (users → grants → authorization_codes, refresh_tokens, each
-- ON DELETE CASCADE). The second key, straight to users, made every insert lock the user's row
-- FOR KEY SHARE; when one user's grants refresh at once (several devices, or a service account),
-- PostgreSQL turns those shared locks into MultiXacts. Measured on the refresh rotation: ~17% of
-- its server CPU.
ALTER TABLE refresh_tokens DROP CONSTRAINT IF EXISTS refresh_tokens_user_id_fkey;
ALTER TABLE authorization_codes DROP CONSTRAINT IF EXISTS authorization_codes_user_id_fkey;
