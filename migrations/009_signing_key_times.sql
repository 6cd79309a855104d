-- Signing key times as the server uses them. Rotations before this version retired only keys
-- with no retired_at yet, so overlapping rotations left (a) a key that was still pending with a
-- retired_at before its active_from, and (b) a key whose recorded retired_at lies after the
-- moment a newer key took over. The key store picks the newest started key either way; this
-- makes the rows say the same, so `latchkey keys list` shows what the server does. Rotations now
-- write such times themselves (retired_at = GREATEST(active_from, the successor's start)).

-- (a) Superseded before it ever signed: it stops at the instant it would have started.
UPDATE signing_keys SET retired_at = active_from WHERE retired_at < active_from;

-- (b) A key stops signing when the next key of its algorithm that does sign starts.
UPDATE signing_keys AS k
   SET retired_at = n.next_start
  FROM (SELECT s.kid,
               (SELECT min(l.active_from) FROM signing_keys l
                 WHERE l.alg = s.alg AND l.active_from > s.active_from
                   AND (l.retired_at IS NULL OR l.retired_at > l.active_from)) AS next_start
          FROM signing_keys s) AS n
 WHERE k.kid = n.kid
   AND n.next_start IS NOT NULL
   AND k.retired_at IS DISTINCT FROM k.active_from
   AND (k.retired_at IS NULL OR k.retired_at > n.next_start);
