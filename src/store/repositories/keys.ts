import type { JWK } from 'jose';
import type { Db, Queryable } from '../db.js';

export interface KeyRow {
  kid: string;
  alg: string;
  public_jwk: JWK;
  private_jwk_enc: string;
  created_at: Date;
  active_from: Date;
  retired_at: Date | null;
  publish_until: Date | null;
}

/** Serialises rotations and first-start key creation across processes. */
const KEYS_LOCK = 7_357_002;

export function keysRepository(db: Db) {
  return {
    /** Every key still published at `now` (pending, signing, or retired but not yet expired). */
    async listPublished(now: Date): Promise<KeyRow[]> {
      const r = await db.query<KeyRow>(
        'SELECT * FROM signing_keys WHERE publish_until IS NULL OR publish_until > $1 ORDER BY alg, active_from',
        [now],
      );
      return r.rows;
    },

    /** Every key, expired ones too; `q` is a transaction's connection when the caller holds the lock. */
    async listAll(q: Queryable = db): Promise<KeyRow[]> {
      return (await q.query<KeyRow>('SELECT * FROM signing_keys ORDER BY alg, active_from')).rows;
    },

    /** Runs fn holding the key-management lock, inside one transaction. */
    withLock<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [KEYS_LOCK]);
        return fn(tx);
      });
    },

    async algsWithCurrentKey(tx: Queryable): Promise<string[]> {
      const r = await tx.query<{ alg: string }>('SELECT DISTINCT alg FROM signing_keys WHERE retired_at IS NULL');
      return r.rows.map((x) => x.alg);
    },

    async insert(tx: Queryable, k: { kid: string; alg: string; publicJwk: JWK; privateEnc: string; activeFrom: Date }): Promise<void> {
      await tx.query('INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_enc, active_from) VALUES ($1, $2, $3, $4, $5)', [
        k.kid,
        k.alg,
        JSON.stringify(k.publicJwk),
        k.privateEnc,
        k.activeFrom,
      ]);
    },

    /**
     * Makes way for a key of `alg` that signs from `at`: every key that would still sign after
     * `at` stops then — one still pending stops at its own start, so it never signs (retired_at
     * is never before active_from) — and stays published until `publishUntil` at least, when
     * every token it signed has expired. Keys already retired by `at` are left as they are.
     */
    async retireForSuccessor(tx: Queryable, alg: string, at: Date, publishUntil: Date): Promise<string[]> {
      const r = await tx.query<{ kid: string }>(
        `UPDATE signing_keys
            SET retired_at = GREATEST(active_from, $2),
                publish_until = GREATEST(COALESCE(publish_until, $3), $3)
          WHERE alg = $1 AND (retired_at IS NULL OR retired_at > $2)
          RETURNING kid`,
        [alg, at, publishUntil],
      );
      return r.rows.map((x) => x.kid);
    },

    /**
     * Retires one key on purpose (src/keys/retirement.ts decides the times, holding the lock):
     * it stops signing at `retiredAt` and leaves /jwks at `publishUntil`. Returns the row as it
     * now is, or undefined if there is no such key.
     */
    async retire(tx: Queryable, kid: string, retiredAt: Date, publishUntil: Date): Promise<KeyRow | undefined> {
      const r = await tx.query<KeyRow>(`UPDATE signing_keys SET retired_at = $2, publish_until = $3 WHERE kid = $1 RETURNING *`, [
        kid,
        retiredAt,
        publishUntil,
      ]);
      return r.rows[0];
    },

    /** Brings a pending key's start forward to `at` (a retirement's successor, under the lock). */
    async startSigning(tx: Queryable, kid: string, at: Date): Promise<void> {
      await tx.query('UPDATE signing_keys SET active_from = $2 WHERE kid = $1 AND active_from > $2', [kid, at]);
    },
  };
}

export type KeysRepository = ReturnType<typeof keysRepository>;
