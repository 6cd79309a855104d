-- Facts the grants' policies decide from (src/grants/*-policy.ts). Repositories only store and
-- fetch them; what they mean is decided in the grants.

-- The token request that consumed this code was refused (e.g. redirect_uri did not match), so no
-- token was issued from it: a later presentation of the code says so instead of claiming to
-- revoke tokens (RFC 6749 §4.1.2, §10.5). A short reason code, never request input.
ALTER TABLE authorization_codes ADD COLUMN exchange_failure text;

-- Set when a retry of this token's predecessor inside REFRESH_TOKEN_GRACE replaced it before it
-- was used. Whoever presents it afterwards holds a copy the family moved away from: that is
-- reuse, and revokes the whole grant (RFC 9700 §4.14.2).
ALTER TABLE refresh_tokens ADD COLUMN replaced_at timestamptz;

-- device_codes.last_polled_at now means the last poll answered normally (authorization_pending,
-- access_denied or tokens); slowed_down_at the slow_down answer given since then, if any. The
-- interval rises by 5 s at most once between two answered polls (RFC 8628 §3.5), so a poller that
-- waits at least the interval it was last told is always answered normally.
ALTER TABLE device_codes ADD COLUMN slowed_down_at timestamptz;
