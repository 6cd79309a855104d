/**
 * The PostgreSQL adapter the bench gives node-oidc-provider (bench/servers/postgres-adapter.ts):
 * its semantics as oidc-provider's adapter interface describes them, on a real PostgreSQL server,
 * so that the bench's "node-oidc-provider on PostgreSQL" peer stores and refuses what it should.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { postgresAdapter, SCHEMA } from '../../bench/servers/postgres-adapter.js';
import { freshDatabaseEnv } from '../helpers/server.js';

describe('bench: node-oidc-provider PostgreSQL adapter', { skip: !process.env.DATABASE_URL && 'needs PostgreSQL (DATABASE_URL)' }, () => {
  let pool: pg.Pool | undefined;
  let drop: (() => Promise<void>) | undefined;
  let Adapter: ReturnType<typeof postgresAdapter>;

  before(async () => {
    const db = await freshDatabaseEnv();
    drop = db.drop;
    const p = new pg.Pool({ connectionString: db.env.DATABASE_URL, max: 4 });
    pool = p;
    await p.query(SCHEMA);
    Adapter = postgresAdapter(p);
  });
  after(async () => {
    await pool?.end();
    await drop?.();
  });

  it('stores, finds, replaces and destroys a payload per model', async () => {
    const codes = new Adapter('AuthorizationCode');
    const tokens = new Adapter('RefreshToken');
    await codes.upsert('x1', { kind: 'AuthorizationCode', grantId: 'g1', scope: 'openid' }, 600);
    assert.deepEqual(await codes.find('x1'), { kind: 'AuthorizationCode', grantId: 'g1', scope: 'openid' });
    assert.equal(await tokens.find('x1'), undefined, 'the id is per model');
    await codes.upsert('x1', { kind: 'AuthorizationCode', grantId: 'g1', scope: 'openid api:read' }, 600);
    assert.equal((await codes.find('x1'))?.scope, 'openid api:read');
    await codes.destroy('x1');
    assert.equal(await codes.find('x1'), undefined);
  });

  it('an expired entry is not found; one without expiry is', async () => {
    const a = new Adapter('Interaction');
    await a.upsert('old', { uid: 'u-old' }, 1);
    await a.upsert('forever', { uid: 'u-forever' });
    await pool!.query(`UPDATE oidc_payload SET expires_at = now() - interval '1 second' WHERE id = 'old'`);
    assert.equal(await a.find('old'), undefined);
    assert.equal(await a.findByUid('u-old'), undefined);
    assert.deepEqual(await a.find('forever'), { uid: 'u-forever' });
  });

  it('consume marks the entry once, and find reports when (seconds since the epoch)', async () => {
    const a = new Adapter('RefreshToken');
    await a.upsert('rt', { grantId: 'g2' }, 600);
    assert.equal((await a.find('rt'))?.consumed, undefined);
    const t = Math.floor(Date.now() / 1000);
    await a.consume('rt');
    const first = (await a.find('rt'))?.consumed;
    assert.equal(typeof first, 'number');
    assert.ok(Math.abs((first as number) - t) <= 2, `consumed ${String(first)}, now ${t}`);
    await a.consume('rt');
    assert.equal((await a.find('rt'))?.consumed, first, 'a second consume keeps the first time');
    await a.upsert('rt', { grantId: 'g2', changed: true }, 600);
    assert.equal((await a.find('rt'))?.consumed, first, 'an upsert does not un-consume');
  });

  it('finds by uid and by user code, within the model', async () => {
    const sessions = new Adapter('Session');
    const devices = new Adapter('DeviceCode');
    await sessions.upsert('s1', { uid: 'uid-1', accountId: 'bench-user' }, 600);
    await devices.upsert('d1', { userCode: 'ABCD-EFGH', grantId: 'g3' }, 600);
    assert.equal((await sessions.findByUid('uid-1'))?.accountId, 'bench-user');
    assert.equal(await devices.findByUid('uid-1'), undefined);
    assert.equal((await devices.findByUserCode('ABCD-EFGH'))?.grantId, 'g3');
  });

  it("revokeByGrantId deletes that model's entries of the grant, and nothing else", async () => {
    const rts = new Adapter('RefreshToken');
    const codes = new Adapter('AuthorizationCode');
    await rts.upsert('r1', { grantId: 'g4' }, 600);
    await rts.upsert('r2', { grantId: 'g4' }, 600);
    await rts.upsert('r3', { grantId: 'g5' }, 600);
    await codes.upsert('c1', { grantId: 'g4' }, 600);
    await rts.revokeByGrantId('g4');
    assert.equal(await rts.find('r1'), undefined);
    assert.equal(await rts.find('r2'), undefined);
    assert.ok(await rts.find('r3'));
    assert.ok(await codes.find('c1'), 'another model keeps its entries (oidc-provider revokes per model)');
  });
});
