import type { Clock } from '../../clock.js';
import type { Config } from '../../config.js';
import type { SigningAlg } from '../../keys/algorithms.js';
import { SIGNING_ALGS } from '../../keys/algorithms.js';
import type { KeyStore } from '../../keys/keystore.js';
import { keyStatus, type KeyStatus } from '../../keys/lifecycle.js';
import { rotateKeys } from '../../keys/rotation.js';
import { KeyRetireError, retireSigningKey } from '../../keys/retirement.js';
import type { SecurityEvents } from '../../observability/security-events.js';
import type { Db } from '../../store/db.js';
import { keysRepository, type KeyRow } from '../../store/repositories/keys.js';
import { resourcesRepository } from '../../store/repositories/resources.js';
import { recordChange, type Actor } from './audit.js';
import { AdminError, notFound } from './errors.js';

/** A signing key and its timeline (src/keys/lifecycle.ts): never its private half. */
export interface KeyView {
  kid: string;
  alg: string;
  status: KeyStatus;
  /** Published in /jwks from. */
  created_at: string;
  /** Signs from (a rotation's delay: resource servers fetch it first). */
  active_from: string;
  /** Stops signing at; null while it is the current key of its algorithm. */
  retired_at: string | null;
  /** Leaves /jwks at, once every token it signed has expired; null while current. */
  publish_until: string | null;
  public_jwk: Record<string, unknown>;
  [member: string]: unknown;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A key row as the API shows it, with the status it was given. */
const viewOf = (k: KeyRow, status: KeyStatus): KeyView => ({
  kid: k.kid,
  alg: k.alg,
  status,
  created_at: k.created_at.toISOString(),
  active_from: k.active_from.toISOString(),
  retired_at: iso(k.retired_at),
  publish_until: iso(k.publish_until),
  public_jwk: k.public_jwk,
});

/** A key's timeline without its public key, for audit events. */
const timelineOf = (v: KeyView) => ({
  kid: v.kid,
  alg: v.alg,
  status: v.status,
  created_at: v.created_at,
  active_from: v.active_from,
  retired_at: v.retired_at,
  publish_until: v.publish_until,
});

/** What retiring a key did. */
export interface KeyRetirement {
  key: KeyView;
  /** Removed from /jwks at once. */
  unpublished: boolean;
  /** The key that signs its algorithm now. */
  signing_now: string | null;
  /** A rotation's pending successor that was brought forward to sign now, and when it was to start. */
  promoted: { kid: string; planned_from: string } | null;
}

/** Newest first by when they sign; ties by kid. The cursor is this sort key. */
export const keySortKey = (k: Pick<KeyView, 'active_from' | 'kid'>) => `${k.active_from}|${k.kid}`;

export interface KeysServiceDeps {
  db: Db;
  clock: Clock;
  keystore: KeyStore;
  kek: Buffer;
  config: Config;
  events: SecurityEvents;
}

/**
 * Signing keys: the listing `latchkey keys list` gives (status among all keys, as the key store
 * decides), and the rotation `latchkey keys rotate` makes (src/keys/rotation.ts). A rotation is
 * recorded as `key.rotated` security events naming the actor, so it is both a log line and an
 * audit event, like the CLI's.
 */
export function keysService(deps: KeysServiceDeps) {
  const views = async (): Promise<KeyView[]> => {
    const rows = await keysRepository(deps.db).listAll();
    const now = deps.clock.now();
    return rows.map((k) => viewOf(k, keyStatus(k, now, rows))).sort((a, b) => (keySortKey(a) < keySortKey(b) ? 1 : -1));
  };
  return {
    /** `limit + 1` keys after the cursor (there are a handful: sorted in memory). */
    async list(after: string | undefined, limit: number): Promise<KeyView[]> {
      const all = await views();
      return all.filter((k) => after === undefined || keySortKey(k) < after).slice(0, limit + 1);
    },

    async get(kid: string): Promise<KeyView> {
      const found = (await views()).find((k) => k.kid === kid);
      if (!found) throw notFound('key', kid);
      return found;
    },

    /**
     * New keys published now, signing after `delaySeconds` (default KEY_ROTATION_DELAY); the keys
     * they replace retire then and stay published while their tokens live.
     */
    async rotate(opts: { delaySeconds?: number | undefined; alg?: SigningAlg | undefined }, actor: Actor) {
      const delaySeconds = opts.delaySeconds ?? deps.config.keyRotationDelay;
      const rotation = await rotateKeys(
        {
          keys: keysRepository(deps.db),
          resources: resourcesRepository(deps.db),
          kek: deps.kek,
          clock: deps.clock,
          settings: deps.config,
        },
        { delaySeconds, algs: opts.alg ? [opts.alg] : SIGNING_ALGS },
      );
      for (const k of rotation.keys) {
        deps.events.emit({
          type: 'key.rotated',
          ...(actor.client_id !== undefined ? { clientId: actor.client_id } : {}),
          ...(actor.sub !== undefined ? { userId: actor.sub } : {}),
          ...(actor.ip !== undefined ? { ip: actor.ip } : {}),
          details: {
            kid: k.kid,
            alg: k.alg,
            signs_from: k.activeFrom.toISOString(),
            retired: k.retired,
            retired_published_until: k.retiredPublishedUntil.toISOString(),
            via: 'admin-api',
          },
        });
      }
      // This process publishes the new keys at once; the others within KEY_RELOAD_INTERVAL.
      await deps.keystore.reload();
      return {
        delay_seconds: delaySeconds,
        retention_seconds: rotation.retentionSeconds,
        keys: rotation.keys.map((k) => ({
          alg: k.alg,
          kid: k.kid,
          active_from: k.activeFrom.toISOString(),
          retired: k.retired,
          retired_publish_until: k.retiredPublishedUntil.toISOString(),
        })),
      };
    },

    /**
     * Retires one key now (src/keys/retirement.ts): it stops signing at once, if another key of
     * its algorithm signs from now on (else 409: rotate first); with `unpublish` it also leaves
     * /jwks at once, so every token it signed stops verifying. `key.retired` is recorded in the
     * same transaction; this process follows at once, the others within KEY_RELOAD_INTERVAL.
     */
    async retire(kid: string, opts: { unpublish: boolean }, actor: Actor): Promise<KeyRetirement> {
      let r;
      try {
        r = await retireSigningKey(
          { keys: keysRepository(deps.db), resources: resourcesRepository(deps.db), clock: deps.clock, settings: deps.config },
          kid,
          opts,
          (tx, done) =>
            recordChange(tx, {
              type: 'key.retired',
              actor,
              target: { type: 'key', id: kid },
              before: timelineOf(viewOf(done.before, done.statusBefore)),
              after: timelineOf(viewOf(done.after, done.statusAfter)),
              extra: {
                unpublished: done.unpublished,
                signing_now: done.signingNow ?? null,
                ...(done.promoted ? { promoted: { kid: done.promoted.kid, planned_from: done.promoted.plannedFrom.toISOString() } } : {}),
              },
            }),
        );
      } catch (err) {
        if (!(err instanceof KeyRetireError)) throw err;
        if (err.code === 'not_found') throw notFound('signing key', kid);
        throw new AdminError('conflict', err.message);
      }
      await deps.keystore.reload();
      return {
        key: viewOf(r.after, r.statusAfter),
        unpublished: r.unpublished,
        signing_now: r.signingNow ?? null,
        promoted: r.promoted ? { kid: r.promoted.kid, planned_from: r.promoted.plannedFrom.toISOString() } : null,
      };
    },
  };
}

export type KeysService = ReturnType<typeof keysService>;
