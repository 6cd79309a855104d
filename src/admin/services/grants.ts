import type { Clock } from '../../clock.js';
import type { Db } from '../../store/db.js';
import { authorizationsRepository, type Authorization } from '../../store/repositories/authorizations.js';
import { consentsRepository } from '../../store/repositories/consents.js';
import { recordChange, type Actor } from './audit.js';
import { AdminError, notFound } from './errors.js';

/**
 * A user's grant to one client: what they consented to (per resource; `resource: null` holds the
 * OpenID scopes) and the token families still alive. `id` is `<sub>.<client_id>`: a sub never
 * holds a dot (src/store/repositories/users.ts newUserId), so the first dot splits it.
 */
export interface GrantView {
  id: string;
  sub: string;
  username: string;
  client_id: string;
  consent: { resource: string | null; scopes: string[]; updated_at: string }[];
  token_families: { id: string; created_at: string; expires_at: string }[];
}

export const grantId = (sub: string, clientId: string): string => `${sub}.${clientId}`;

/** `<sub>.<client_id>` -> its parts; undefined when it has no dot or an empty part. */
export function parseGrantId(id: string): { sub: string; clientId: string } | undefined {
  const dot = id.indexOf('.');
  if (dot <= 0 || dot === id.length - 1) return undefined;
  return { sub: id.slice(0, dot), clientId: id.slice(dot + 1) };
}

export const grantView = (a: Authorization): GrantView => ({
  id: grantId(a.userId, a.clientId),
  sub: a.userId,
  username: a.username,
  client_id: a.clientId,
  consent: a.consent.map((c) => ({
    resource: c.resource === '' ? null : c.resource,
    scopes: c.scopes,
    updated_at: c.updatedAt.toISOString(),
  })),
  token_families: a.families.map((f) => ({ id: f.id, created_at: f.createdAt.toISOString(), expires_at: f.expiresAt.toISOString() })),
});

const badId = (id: string) =>
  new AdminError('not_found', `there is no grant "${id}" (a grant id is <sub>.<client_id>, as GET /grants lists it)`);

/** Users' grants to clients: listed, and revoked whole (consent withdrawn, every token of it dead). */
export function grantsService({ db, clock }: { db: Db; clock: Clock }) {
  const now = () => new Date(clock.now());
  return {
    /** `limit + 1` grants after the cursor's id, filtered by user (sub) and/or client. */
    async list(q: {
      sub?: string | undefined;
      clientId?: string | undefined;
      after?: string | undefined;
      limit: number;
    }): Promise<GrantView[]> {
      const after = q.after !== undefined ? parseGrantId(q.after) : undefined;
      const rows = await authorizationsRepository(db).page({
        userId: q.sub,
        clientId: q.clientId,
        after: after && { userId: after.sub, clientId: after.clientId },
        limit: q.limit + 1,
        now: now(),
      });
      return rows.map(grantView);
    },

    async get(id: string): Promise<GrantView> {
      const parts = parseGrantId(id);
      if (!parts) throw badId(id);
      const a = await authorizationsRepository(db).get(parts.sub, parts.clientId, now());
      if (!a) throw notFound('grant', id);
      return grantView(a);
    },

    /**
     * Withdraws the consent and revokes every grant the user gave the client, in one statement
     * (consentsRepository.revoke, as `latchkey users revoke-consent`): refresh tokens stop at once,
     * access tokens introspect inactive, and the consent page is shown again next time.
     */
    async revoke(id: string, actor: Actor): Promise<void> {
      const parts = parseGrantId(id);
      if (!parts) throw badId(id);
      await db.transaction(async (tx) => {
        const before = await authorizationsRepository(tx).get(parts.sub, parts.clientId, now());
        if (!before) throw notFound('grant', id);
        await consentsRepository(tx).revoke(parts.sub, parts.clientId);
        await recordChange(tx, {
          type: 'consent.revoked',
          actor,
          target: { type: 'user', id: parts.sub },
          clientId: parts.clientId,
          before: grantView(before),
        });
      });
    },
  };
}

export type GrantsService = ReturnType<typeof grantsService>;
