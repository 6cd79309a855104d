import { SIGNING_ALGS, type SigningAlg } from '../keys/algorithms.js';
import { UsageError, str, table, type Command } from './common.js';

/** Upper bound of KEY_ROTATION_DELAY in config.ts. */
const MAX_DELAY = 7 * 86400;

function parseDelay(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
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
      // Each key's status among all of them (the server signs with one key per algorithm), oldest first.
      const keys = (await s.admin.keys.list())
        .map((k) => ({
          kid: k.kid,
          alg: k.alg,
          status: k.status,
          active_from: k.active_from,
          retired_at: k.retired_at,
          publish_until: k.publish_until,
        }))
        .sort((a, b) => a.active_from.localeCompare(b.active_from) || a.kid.localeCompare(b.kid));
      if (s.json) {
        s.printJson(keys);
        return;
      }
      s.print(
        table(
          ['KID', 'ALG', 'STATUS', 'ACTIVE_FROM', 'RETIRED_AT', 'PUBLISH_UNTIL'],
          keys.map((k) => [k.kid, k.alg, k.status, k.active_from, k.retired_at ?? '-', k.publish_until ?? '-']),
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
      const delay = parseDelay(str(values, 'delay'));
      const alg = str(values, 'alg');
      if (alg !== undefined && !(SIGNING_ALGS as readonly string[]).includes(alg)) {
        throw new UsageError(`--alg must be one of ${SIGNING_ALGS.join(', ')} (got "${alg}")`);
      }
      const rotation = await s.admin.keys.rotate({ delaySeconds: delay, alg: alg as SigningAlg | undefined });
      // Only known here in direct mode: in API mode the server's settings are its own.
      const { config } = s;
      const propagation = Math.max(config.keyReloadInterval, config.jwksMaxAge);
      if (s.admin.mode === 'database' && rotation.delay_seconds < propagation) {
        s.warn(
          `--delay ${rotation.delay_seconds} is shorter than KEY_RELOAD_INTERVAL (${config.keyReloadInterval} s) / JWKS_MAX_AGE (${config.jwksMaxAge} s): ` +
            'servers and resource servers may not know the new keys when they start signing',
        );
      }
      if (s.json) {
        s.printJson(rotation);
        return;
      }
      s.print(
        table(
          ['ALG', 'NEW KID', 'SIGNS FROM', 'RETIRED KIDS', 'RETIRED KEYS PUBLISHED UNTIL'],
          rotation.keys.map((k) => [k.alg, k.kid, k.active_from, k.retired.join(',') || '-', k.retired_publish_until]),
        ),
      );
    },
  },
];
