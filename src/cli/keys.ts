import { systemClock } from '../clock.js';
import { SIGNING_ALGS, type SigningAlg } from '../keys/algorithms.js';
import { keyStatus } from '../keys/lifecycle.js';
import { rotateKeys } from '../keys/rotation.js';
import { keysRepository } from '../store/repositories/keys.js';
import { resourcesRepository } from '../store/repositories/resources.js';
import { UsageError, iso, str, table, type Command, type Session } from './common.js';

/**
 * Same as a server's first start: a fresh database gets its keys from whichever process comes
 * first — here Session.secrets(), which binds the secret to the database that way.
 */
async function ensureKeys(s: Session): Promise<void> {
  await s.secrets();
}

/** Upper bound of KEY_ROTATION_DELAY in config.ts. */
const MAX_DELAY = 7 * 86400;

function parseDelay(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > MAX_DELAY) {
    throw new UsageError(`--delay must be a whole number of seconds between 0 and ${MAX_DELAY} (got "${raw}")`);
  }
  return Number(raw);
}

export const keyCommands: Command[] = [
  {
    path: ['keys', 'list'],
    summary: 'list signing keys and their status (pending, signing, retired, superseded, expired)',
    usage: '',
    async run(s) {
      const db = await s.db();
      await ensureKeys(s);
      const now = Date.now();
      const rows = await keysRepository(db).listAll();
      // Each key's status among all of them: the server signs with one key per algorithm.
      const keys = rows.map((k) => ({
        kid: k.kid,
        alg: k.alg,
        status: keyStatus(k, now, rows),
        active_from: k.active_from,
        retired_at: k.retired_at,
        publish_until: k.publish_until,
      }));
      if (s.json) {
        s.printJson(keys);
        return;
      }
      s.print(
        table(
          ['KID', 'ALG', 'STATUS', 'ACTIVE_FROM', 'RETIRED_AT', 'PUBLISH_UNTIL'],
          keys.map((k) => [k.kid, k.alg, k.status, iso(k.active_from), iso(k.retired_at), iso(k.publish_until)]),
        ),
      );
    },
  },
  {
    path: ['keys', 'rotate'],
    summary: 'publish new signing keys now; they sign after the delay and the old keys retire then',
    usage: '[--delay SECONDS] [--alg RS256|ES256]',
    help: [
      '  --delay SECONDS  seconds between publishing the new key and signing with it (default KEY_ROTATION_DELAY);',
      '                   resource servers must see the new key in the JWKS before it signs',
      `  --alg ALG        rotate only this algorithm (${SIGNING_ALGS.join(' or ')}; default: all)`,
    ].join('\n'),
    options: { delay: { type: 'string' }, alg: { type: 'string' } },
    async run(s, values) {
      const { config } = s;
      const delay = parseDelay(str(values, 'delay'), config.keyRotationDelay);
      const alg = str(values, 'alg');
      if (alg !== undefined && !(SIGNING_ALGS as readonly string[]).includes(alg)) {
        throw new UsageError(`--alg must be one of ${SIGNING_ALGS.join(', ')} (got "${alg}")`);
      }
      const algs: readonly SigningAlg[] = alg ? [alg as SigningAlg] : SIGNING_ALGS;
      const db = await s.db();
      // Rotating an empty table would leave no key signing until the delay has passed.
      await ensureKeys(s);
      const rotation = await rotateKeys(
        {
          keys: keysRepository(db),
          resources: resourcesRepository(db),
          kek: (await s.secrets()).keyEncryptionKey,
          clock: systemClock,
          settings: config,
        },
        { delaySeconds: delay, algs },
      );
      for (const k of rotation.keys) {
        s.events.emit({
          type: 'key.rotated',
          details: {
            kid: k.kid,
            alg: k.alg,
            signs_from: k.activeFrom.toISOString(),
            retired: k.retired,
            retired_published_until: k.retiredPublishedUntil.toISOString(),
            via: 'cli',
          },
        });
      }
      const propagation = Math.max(config.keyReloadInterval, config.jwksMaxAge);
      if (delay < propagation) {
        s.warn(
          `--delay ${delay} is shorter than KEY_RELOAD_INTERVAL (${config.keyReloadInterval} s) / JWKS_MAX_AGE (${config.jwksMaxAge} s): ` +
            'servers and resource servers may not know the new keys when they start signing',
        );
      }
      const keys = rotation.keys.map((r) => ({
        alg: r.alg,
        kid: r.kid,
        active_from: r.activeFrom,
        retired: r.retired,
        retired_publish_until: r.retiredPublishedUntil,
      }));
      if (s.json) {
        s.printJson({ delay_seconds: delay, retention_seconds: rotation.retentionSeconds, keys });
        return;
      }
      s.print(
        table(
          ['ALG', 'NEW KID', 'SIGNS FROM', 'RETIRED KIDS', 'RETIRED KEYS PUBLISHED UNTIL'],
          keys.map((k) => [k.alg, k.kid, iso(k.active_from), k.retired.join(',') || '-', iso(k.retired_publish_until)]),
        ),
      );
    },
  },
];
