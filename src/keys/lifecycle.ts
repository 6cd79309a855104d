/**
 * A signing key's life: published and `pending` until `active_from`; `signing` while it is the
 * key of its algorithm that the server picks; `retired` once it stops signing (or `superseded`
 * when a later rotation replaced it before it ever signed), still published so the tokens it
 * signed verify; `expired` after `publish_until`, gone from /jwks. One set of rules, used both by
 * the key store to pick the signing key and by `latchkey keys list` to describe the keys, so the
 * listing says what the server does.
 */

/** The times of a key row that decide its status. */
export interface KeyTimes {
  readonly alg: string;
  readonly active_from: Date;
  readonly retired_at: Date | null;
  readonly publish_until: Date | null;
}

export type KeyStatus = 'pending' | 'signing' | 'retired' | 'superseded' | 'expired';

/** Started, not yet stopped, still published: the key may sign at `now`. */
export function mayKeySign(k: KeyTimes, now: number): boolean {
  return (
    k.active_from.getTime() <= now &&
    (k.retired_at === null || k.retired_at.getTime() > now) &&
    (k.publish_until === null || k.publish_until.getTime() > now)
  );
}

/**
 * The key that signs `alg` at `now`: of the keys that may sign, the one that started last (a
 * rotation's successor takes over at its `active_from`, even before every process has re-read
 * the predecessor's `retired_at`). `usable` narrows the candidates (the key store: keys whose
 * private half it holds).
 */
export function signingKeyOf<T extends { readonly row: KeyTimes }>(
  keys: readonly T[],
  alg: string,
  now: number,
  usable: (k: T) => boolean = () => true,
): T | undefined {
  let best: T | undefined;
  for (const k of keys) {
    if (k.row.alg !== alg || !mayKeySign(k.row, now) || !usable(k)) continue;
    if (!best || k.row.active_from > best.row.active_from) best = k;
  }
  return best;
}

/** What the server does with `row` at `now`, among `all` the keys (by default just this one). */
export function keyStatus<T extends KeyTimes>(row: T, now: number, all: readonly T[] = [row]): KeyStatus {
  if (row.publish_until && row.publish_until.getTime() <= now) return 'expired';
  const neverSigns = row.retired_at !== null && row.retired_at.getTime() <= row.active_from.getTime();
  if (neverSigns) return 'superseded';
  if (row.active_from.getTime() > now) return 'pending';
  const signing = signingKeyOf(
    all.map((r) => ({ row: r })),
    row.alg,
    now,
  );
  return signing?.row === row ? 'signing' : 'retired';
}

/**
 * The first instant at or after `from` at which no key of `alg` among `keys` may sign, or
 * undefined when one always may (a key that never stops). Walks the chain of keys that take over
 * from each other: rotation leaves none of these gaps, and retiring a key must not make one.
 */
export function signingGapOf(keys: readonly KeyTimes[], alg: string, from: number): number | undefined {
  let t = from;
  for (;;) {
    let reach = -Infinity;
    for (const k of keys) {
      if (k.alg !== alg || !mayKeySign(k, t)) continue;
      const end = Math.min(k.retired_at?.getTime() ?? Infinity, k.publish_until?.getTime() ?? Infinity);
      if (end > reach) reach = end;
    }
    if (reach === -Infinity) return t;
    if (reach === Infinity) return undefined;
    t = reach; // strictly later: a key that may sign at t ends after t
  }
}
