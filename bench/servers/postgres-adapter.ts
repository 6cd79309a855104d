/**
 * A PostgreSQL storage adapter for node-oidc-provider (its adapter interface: upsert, find,
 * findByUid, findByUserCode, consume, destroy, revokeByGrantId) over `pg`, for the bench: the
 * durable peer of memory-adapter.ts, storing what Latchkey stores the way Latchkey stores it.
 *
 * One table keyed by (model, id) with the payload as JSONB, as oidc-provider's contributed
 * knex/sequelize adapters do, plus the columns the lookups need (grant_id, uid, user_code),
 * expires_at and consumed_at. Every method is one SQL statement, run as a named (prepared)
 * statement like Latchkey's hot queries, on a pool of BENCH_PG_POOL connections (default 10, as
 * Latchkey's DB_POOL_MAX). Each statement commits on its own with PostgreSQL's defaults
 * (synchronous_commit on): a consumed code or a rotated refresh token is on disk before the answer.
 *
 * Semantics follow oidc-provider's example adapters (example/my_adapter.js, redis.js): an expired
 * entry is not found; `consume` marks the entry (one UPDATE) and `find` reports it as `consumed`
 * (seconds since the epoch, as the MongoDB adapter stores it); `revokeByGrantId` deletes the
 * model's entries of that grant.
 */
import pg from 'pg';

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS oidc_payload (
  model       text        NOT NULL,
  id          text        NOT NULL,
  payload     jsonb       NOT NULL,
  grant_id    text,
  user_code   text,
  uid         text,
  expires_at  timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (model, id)
);
CREATE INDEX IF NOT EXISTS oidc_payload_grant_id ON oidc_payload (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_payload_uid ON oidc_payload (model, uid) WHERE uid IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_payload_user_code ON oidc_payload (model, user_code) WHERE user_code IS NOT NULL;
`;

const LIVE = '(expires_at IS NULL OR expires_at > now())';
const COLUMNS = `payload, floor(extract(epoch FROM consumed_at))::bigint AS consumed`;

const SQL = {
  upsert: {
    name: 'oidc_upsert',
    text: `INSERT INTO oidc_payload (model, id, payload, grant_id, user_code, uid, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7::int IS NULL THEN NULL ELSE now() + make_interval(secs => $7::int) END)
           ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
             user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`,
  },
  find: { name: 'oidc_find', text: `SELECT ${COLUMNS} FROM oidc_payload WHERE model = $1 AND id = $2 AND ${LIVE}` },
  findByUid: { name: 'oidc_find_uid', text: `SELECT ${COLUMNS} FROM oidc_payload WHERE model = $1 AND uid = $2 AND ${LIVE} LIMIT 1` },
  findByUserCode: {
    name: 'oidc_find_user_code',
    text: `SELECT ${COLUMNS} FROM oidc_payload WHERE model = $1 AND user_code = $2 AND ${LIVE} LIMIT 1`,
  },
  consume: {
    name: 'oidc_consume',
    text: `UPDATE oidc_payload SET consumed_at = now() WHERE model = $1 AND id = $2 AND consumed_at IS NULL`,
  },
  destroy: { name: 'oidc_destroy', text: `DELETE FROM oidc_payload WHERE model = $1 AND id = $2` },
  revokeByGrantId: { name: 'oidc_revoke_grant', text: `DELETE FROM oidc_payload WHERE model = $1 AND grant_id = $2` },
} as const;

type Payload = Record<string, unknown>;
type Row = { payload: Payload; consumed: string | null };

const str = (v: unknown) => (typeof v === 'string' ? v : null);

function toPayload(rows: Row[]): Payload | undefined {
  const row = rows[0];
  if (!row) return undefined;
  return row.consumed === null ? row.payload : { ...row.payload, consumed: Number(row.consumed) };
}

/** The adapter class oidc-provider instantiates once per model, all sharing `pool`. */
export function postgresAdapter(pool: pg.Pool) {
  return class BenchPostgresAdapter {
    constructor(readonly model: string) {}

    async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
      await pool.query({
        ...SQL.upsert,
        values: [
          this.model,
          id,
          JSON.stringify(payload),
          str(payload.grantId),
          str(payload.userCode),
          str(payload.uid),
          typeof expiresIn === 'number' ? Math.ceil(expiresIn) : null,
        ],
      });
    }

    async find(id: string): Promise<Payload | undefined> {
      return toPayload((await pool.query<Row>({ ...SQL.find, values: [this.model, id] })).rows);
    }

    async findByUid(uid: string): Promise<Payload | undefined> {
      return toPayload((await pool.query<Row>({ ...SQL.findByUid, values: [this.model, uid] })).rows);
    }

    async findByUserCode(userCode: string): Promise<Payload | undefined> {
      return toPayload((await pool.query<Row>({ ...SQL.findByUserCode, values: [this.model, userCode] })).rows);
    }

    async consume(id: string): Promise<void> {
      await pool.query({ ...SQL.consume, values: [this.model, id] });
    }

    async destroy(id: string): Promise<void> {
      await pool.query({ ...SQL.destroy, values: [this.model, id] });
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await pool.query({ ...SQL.revokeByGrantId, values: [this.model, grantId] });
    }
  };
}
