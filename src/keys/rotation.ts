import type { Clock } from '../clock.js';
import type { KeysRepository } from '../store/repositories/keys.js';
import type { ResourcesRepository } from '../store/repositories/resources.js';
import { SIGNING_ALGS, type SigningAlg } from './algorithms.js';
import { rotateSigningKeys } from './keystore.js';
import { keyRetentionSeconds, type LifetimeSettings } from './retention.js';

export interface Rotation {
  /** Seconds between publishing the new keys and their signing. */
  delaySeconds: number;
  /** Seconds the retired keys stay published after they stop signing (keyRetentionSeconds). */
  retentionSeconds: number;
  keys: { kid: string; alg: SigningAlg; activeFrom: Date; retired: string[]; retiredPublishedUntil: Date }[];
}

/**
 * `latchkey keys rotate`, and any other place that rotates: new keys published now, signing after
 * `delaySeconds`; the keys they replace stop signing then and stay published for the retention
 * that covers every JWT they may have signed (resources' own lifetimes read now).
 */
export async function rotateKeys(
  deps: { keys: KeysRepository; resources: ResourcesRepository; kek: Buffer; clock: Clock; settings: LifetimeSettings },
  opts: { delaySeconds: number; algs?: readonly SigningAlg[] },
): Promise<Rotation> {
  const retentionSeconds = keyRetentionSeconds(deps.settings, await deps.resources.maxAccessTokenTtl());
  const rotated = await rotateSigningKeys(deps.keys, deps.kek, deps.clock, {
    delaySeconds: opts.delaySeconds,
    maxTokenLifetime: retentionSeconds,
    algs: opts.algs ?? SIGNING_ALGS,
  });
  return {
    delaySeconds: opts.delaySeconds,
    retentionSeconds,
    keys: rotated.map((r) => ({ ...r, retiredPublishedUntil: new Date(r.activeFrom.getTime() + retentionSeconds * 1000) })),
  };
}
