/**
 * An in-memory storage adapter for node-oidc-provider (its adapter interface: upsert, find,
 * findByUid, findByUserCode, consume, destroy, revokeByGrantId), for the bench.
 *
 * oidc-provider's built-in MemoryAdapter is an LRU cache capped at 1,000 entries, and it
 * rebuilds a grant's member list on every write (a scan of every token of that grant). The code
 * and refresh scenarios pre-mint tens of thousands of codes and refresh tokens — on one session,
 * hence one Grant, as oidc-provider keeps one grant per session and client — so the built-in
 * adapter would evict most of them before they are used and slow down with every one minted.
 * This one keeps everything until it expires, with constant-time indexes: the fastest storage
 * oidc-provider could have, which is the fair baseline for an in-process competitor.
 */

interface Entry {
  payload: Record<string, unknown>;
  /** Milliseconds since the epoch; Infinity when the model has no expiry. */
  expiresAt: number;
}

const store = new Map<string, Entry>();
const grants = new Map<string, Set<string>>();
const sessionsByUid = new Map<string, string>();
const byUserCode = new Map<string, string>();

const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

function live(key: string): Record<string, unknown> | undefined {
  const e = store.get(key);
  if (!e) return undefined;
  if (e.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return e.payload;
}

export class BenchMemoryAdapter {
  constructor(readonly model: string) {}

  key(id: string): string {
    return `${this.model}:${id}`;
  }

  // oidc-provider's adapter methods return promises; this one has nothing to wait for.
  upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
    const key = this.key(id);
    store.set(key, { payload, expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity });
    const grantId = payload.grantId;
    if (GRANTABLE.has(this.model) && typeof grantId === 'string') {
      let members = grants.get(grantId);
      if (!members) grants.set(grantId, (members = new Set()));
      members.add(key);
    }
    if (this.model === 'Session' && typeof payload.uid === 'string') sessionsByUid.set(payload.uid, id);
    if (typeof payload.userCode === 'string') byUserCode.set(payload.userCode, id);
    return Promise.resolve();
  }

  find(id: string): Promise<Record<string, unknown> | undefined> {
    return Promise.resolve(live(this.key(id)));
  }

  async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
    const id = sessionsByUid.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined> {
    const id = byUserCode.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  consume(id: string): Promise<void> {
    const p = live(this.key(id));
    if (p) p.consumed = Math.floor(Date.now() / 1000);
    return Promise.resolve();
  }

  destroy(id: string): Promise<void> {
    const key = this.key(id);
    const p = store.get(key)?.payload;
    store.delete(key);
    if (p && typeof p.grantId === 'string') grants.get(p.grantId)?.delete(key);
    if (p && typeof p.uid === 'string' && sessionsByUid.get(p.uid) === id) sessionsByUid.delete(p.uid);
    return Promise.resolve();
  }

  revokeByGrantId(grantId: string): Promise<void> {
    for (const key of grants.get(grantId) ?? []) store.delete(key);
    grants.delete(grantId);
    return Promise.resolve();
  }
}

// Expired entries go when looked up; sweep the rest now and then so memory stays bounded.
setInterval(() => {
  const now = Date.now();
  for (const [key, e] of store) if (e.expiresAt <= now) store.delete(key);
}, 30_000).unref();
