import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import type { KeysRepository, KeyRow } from '../store/repositories/keys.js';
import { decryptPrivateKey, encryptPrivateKey } from './encryption.js';
import { SIGNING_ALGS, type SigningAlg } from './algorithms.js';
import { signingKeyOf } from './lifecycle.js';
import { CompactJwsSigner } from './compact-jws.js';

/** A key that signs now: its kid and alg, and the native signer built for it when it was loaded. */
export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  signer: CompactJwsSigner;
}

interface LoadedKey {
  row: KeyRow;
  publicKey: CryptoKey;
  signing: SigningKey | undefined;
}

const hasPrivateKey = (k: LoadedKey) => k.signing !== undefined;

export interface PublicJwk extends JWK {
  kid: string;
  alg: string;
  use: 'sig';
}

/** Generates a key pair for `alg` and seals its private half for storage. */
export async function generateSigningKey(alg: SigningAlg, kek: Buffer) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk); // RFC 7638: a stable, collision-free kid
  const privateJwk = await exportJWK(privateKey);
  return {
    kid,
    alg,
    publicJwk: { ...publicJwk, kid, alg, use: 'sig' } as JWK,
    privateEnc: encryptPrivateKey(kek, kid, JSON.stringify(privateJwk)),
  };
}

/**
 * On first start: one current key per supported algorithm, signing at once. Safe when several
 * processes start together (the repository lock makes them take turns).
 */
export async function ensureSigningKeys(repo: KeysRepository, kek: Buffer, clock: Clock): Promise<string[]> {
  return repo.withLock(async (tx) => {
    const have = new Set(await repo.algsWithCurrentKey(tx));
    const created: string[] = [];
    for (const alg of SIGNING_ALGS) {
      if (have.has(alg)) continue;
      const k = await generateSigningKey(alg, kek);
      await repo.insert(tx, { ...k, activeFrom: new Date(clock.now()) });
      created.push(k.kid);
    }
    return created;
  });
}

/**
 * Rotation's mechanism (the policy, with the retention, is rotation.ts): the new key is published
 * now and signs after `delaySeconds`, so resource servers' JWKS caches learn it first; the keys it
 * replaces stop signing then and stay published for `maxTokenLifetime` more seconds, until every
 * token they signed has expired. A key still pending from an earlier rotation never signs.
 */
export async function rotateSigningKeys(
  repo: KeysRepository,
  kek: Buffer,
  clock: Clock,
  opts: { delaySeconds: number; maxTokenLifetime: number; algs?: readonly SigningAlg[] },
): Promise<{ kid: string; alg: SigningAlg; activeFrom: Date; retired: string[] }[]> {
  return repo.withLock(async (tx) => {
    const out = [];
    const activeFrom = new Date(clock.now() + opts.delaySeconds * 1000);
    const publishUntil = new Date(activeFrom.getTime() + opts.maxTokenLifetime * 1000);
    for (const alg of opts.algs ?? SIGNING_ALGS) {
      const retired = await repo.retireForSuccessor(tx, alg, activeFrom, publishUntil);
      const k = await generateSigningKey(alg, kek);
      await repo.insert(tx, { ...k, activeFrom });
      out.push({ kid: k.kid, alg, activeFrom, retired });
    }
    return out;
  });
}

export { keyStatus, type KeyStatus } from './lifecycle.js';

/**
 * The in-memory view of the key table. Private keys are decrypted once per reload, never per
 * request; the signing key is chosen by time at each call, so every process switches to a
 * rotated key at the same instant without coordination (as long as it reloaded in between:
 * KEY_ROTATION_DELAY must exceed KEY_RELOAD_INTERVAL).
 */
export class KeyStore {
  private keys: LoadedKey[] = [];
  private byKid = new Map<string, LoadedKey>();
  private jwksBody = '{"keys":[]}';
  private jwksEtag = '"0"';
  private timer: NodeJS.Timeout | undefined;
  private loaded = false;

  constructor(
    private readonly repo: KeysRepository,
    private readonly kek: Buffer,
    private readonly clock: Clock,
    private readonly onReloadError: (err: unknown) => void = () => {},
  ) {}

  async reload(): Promise<void> {
    const now = this.clock.now();
    const rows = await this.repo.listPublished(new Date(now));
    const next: LoadedKey[] = [];
    for (const row of rows) {
      const existing = this.byKid.get(row.kid);
      const canSign = !row.retired_at || row.retired_at.getTime() > now;
      if (existing && (existing.signing || !canSign)) {
        next.push({ ...existing, row });
        continue;
      }
      const publicKey = (await importJWK(row.public_jwk, row.alg)) as CryptoKey;
      // The private KeyObject and its signer are built here, once per key, never per token.
      const signing = canSign ? this.signingKeyOf(row) : undefined;
      next.push({ row, publicKey, signing });
    }
    this.keys = next;
    this.byKid = new Map(next.map((k) => [k.row.kid, k]));
    const published: PublicJwk[] = next.map((k) => publicJwk(k.row));
    this.jwksBody = JSON.stringify({ keys: published });
    this.jwksEtag = `"${published.map((k) => k.kid.slice(0, 8)).join('.') || '0'}"`;
    this.loaded = true;
  }

  /** Re-reads the table every `intervalSeconds`; a failed reload keeps the keys it has. */
  startReloading(intervalSeconds: number): void {
    this.stopReloading();
    this.timer = setInterval(() => {
      this.reload().catch(this.onReloadError);
    }, intervalSeconds * 1000);
    this.timer.unref();
  }

  stopReloading(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get ready(): boolean {
    return this.loaded && SIGNING_ALGS.every((alg) => this.currentKey(alg) !== undefined);
  }

  private currentKey(alg: SigningAlg): LoadedKey | undefined {
    return signingKeyOf(this.keys, alg, this.clock.now(), hasPrivateKey);
  }

  /** The key that signs `alg` right now. */
  signingKey(alg: SigningAlg): SigningKey {
    const k = this.currentKey(alg);
    if (!k?.signing) throw new Error(`no ${alg} signing key is active; run \`latchkey keys rotate\``);
    return k.signing;
  }

  private signingKeyOf(row: KeyRow): SigningKey {
    const alg = row.alg as SigningAlg;
    const jwk = JSON.parse(decryptPrivateKey(this.kek, row.kid, row.private_jwk_enc)) as JWK;
    return { kid: row.kid, alg, signer: CompactJwsSigner.fromJwk(row.kid, alg, jwk) };
  }

  /** A published public key by kid, for verifying tokens Latchkey issued. */
  verificationKey(kid: string): { alg: string; key: CryptoKey } | undefined {
    const k = this.byKid.get(kid);
    return k ? { alg: k.row.alg, key: k.publicKey } : undefined;
  }

  jwks(): { body: string; etag: string } {
    return { body: this.jwksBody, etag: this.jwksEtag };
  }
}

function publicJwk(row: KeyRow): PublicJwk {
  // Rebuild from public members only: whatever else is in the row never reaches /jwks.
  const j = row.public_jwk;
  const base = j.kty === 'RSA' ? { kty: j.kty, n: j.n, e: j.e } : { kty: j.kty, crv: j.crv, x: j.x, y: j.y };
  return { ...presentMembers(base), kid: row.kid, alg: row.alg, use: 'sig' };
}

/** The members that have a value, in order: a JWK leaves a member out rather than setting it to undefined. */
function presentMembers<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
