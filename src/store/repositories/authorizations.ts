import type { Queryable } from '../db.js';

/**
 * What a user has given one client, as the admin API's `grants` collection shows it: the consent
 * remembered (resource → scopes; '' is the OpenID scopes) and the token families still alive (the
 * `grants` rows: each holds a refresh token chain and the access tokens carrying its `gid`).
 * Withdrawing it is consentsRepository.revoke, the same statement as `latchkey users revoke-consent`.
 */
export interface Authorization {
  userId: string;
  username: string;
  clientId: string;
  consent: { resource: string; scopes: string[]; updatedAt: Date }[];
  families: { id: string; createdAt: Date; expiresAt: Date }[];
}

interface Row {
  user_id: string;
  username: string;
  client_id: string;
  consent: { resource: string; scopes: string[]; updated_at: string }[];
  families: { id: string; created_at: string; expires_at: string }[];
}

export interface AuthorizationQuery {
  userId?: string | undefined;
  clientId?: string | undefined;
  /** The (user, client) of the last item of the previous page. */
  after?: { userId: string; clientId: string } | undefined;
  limit: number;
  now: Date;
}

/** One statement: the pairs, then each pair's consent rows and live families as JSON. */
const SELECT = `
  WITH pairs AS (
    SELECT user_id, client_id FROM consents
    UNION
    SELECT user_id, client_id FROM grants WHERE user_id IS NOT NULL AND revoked_at IS NULL AND expires_at > $1
  )
  SELECT p.user_id, u.username, p.client_id,
    COALESCE((SELECT jsonb_agg(jsonb_build_object('resource', c.resource, 'scopes', c.scopes, 'updated_at', c.updated_at) ORDER BY c.resource)
              FROM consents c WHERE c.user_id = p.user_id AND c.client_id = p.client_id), '[]'::jsonb) AS consent,
    COALESCE((SELECT jsonb_agg(jsonb_build_object('id', g.id, 'created_at', g.created_at, 'expires_at', g.expires_at) ORDER BY g.created_at, g.id)
              FROM grants g WHERE g.user_id = p.user_id AND g.client_id = p.client_id AND g.revoked_at IS NULL AND g.expires_at > $1),
             '[]'::jsonb) AS families
  FROM pairs p JOIN users u ON u.id = p.user_id`;

const toAuthorization = (r: Row): Authorization => ({
  userId: r.user_id,
  username: r.username,
  clientId: r.client_id,
  consent: r.consent.map((c) => ({ resource: c.resource, scopes: c.scopes, updatedAt: new Date(c.updated_at) })),
  families: r.families.map((f) => ({ id: f.id, createdAt: new Date(f.created_at), expiresAt: new Date(f.expires_at) })),
});

export function authorizationsRepository(db: Queryable) {
  return {
    /** `limit` authorizations in (user, client) order after `after`, filtered by user and/or client. */
    async page(q: AuthorizationQuery): Promise<Authorization[]> {
      const r = await db.query<Row>(
        `${SELECT}
         WHERE ($2::text IS NULL OR p.user_id = $2) AND ($3::text IS NULL OR p.client_id = $3)
           AND ($4::text IS NULL OR (p.user_id, p.client_id) > ($4::text, $5::text))
         ORDER BY p.user_id, p.client_id LIMIT $6`,
        [q.now, q.userId ?? null, q.clientId ?? null, q.after?.userId ?? null, q.after?.clientId ?? null, q.limit],
      );
      return r.rows.map(toAuthorization);
    },

    /** The user's authorization of the client; undefined when there is neither consent nor a live family. */
    async get(userId: string, clientId: string, now: Date): Promise<Authorization | undefined> {
      const r = await db.query<Row>(`${SELECT} WHERE p.user_id = $2 AND p.client_id = $3`, [now, userId, clientId]);
      return r.rows[0] ? toAuthorization(r.rows[0]) : undefined;
    },
  };
}
