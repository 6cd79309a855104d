import { SIGNING_ALGS, type SigningAlg } from '../keys/algorithms.js';
import { systemClock } from '../clock.js';
import { KeyRetireError, retireSigningKey } from '../keys/retirement.js';
import { recordChange } from '../admin/services/audit.js';
import { keysRepository } from '../store/repositories/keys.js';
import { resourcesRepository } from '../store/repositories/resources.js';
import { CliError, UsageError, iso, str, table, type Command } from './common.js';

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
  {
    path: ['keys', 'retire'],
    summary: 'stop signing with one key now (suspected compromise); --unpublish also removes it from /jwks',
    usage: 'KID [--unpublish]',
    args: ['KID'],
    help: [
      '  --unpublish      also remove it from /jwks now: every token it signed stops verifying',
      '                   (at resource servers once their JWKS cache refreshes)',
    ].join('\n'),
    notes:
      'Another key of the same algorithm must sign from now on: one that already does, or the pending key of a ' +
      'rotation, which then signs at once. Otherwise run `latchkey keys rotate --alg ALG` first. Without ' +
      '--unpublish the key stays in /jwks while the tokens it signed live. Running servers follow within ' +
      'KEY_RELOAD_INTERVAL. Example: latchkey keys rotate --alg ES256 --delay 0 && latchkey keys retire OLD_KID --unpublish',
    options: { unpublish: { type: 'boolean' } },
    // The admin API has it (POST /admin/api/v1/keys/{kid}/retire); the CLI's API backend does not call it yet.
    directOnly: 'is not available in API mode yet (POST /admin/api/v1/keys/{kid}/retire does it)',
    async run(s, values, arg) {
      const kid = arg('KID');
      const unpublish = values.unpublish === true;
      const db = await s.db();
      await s.secrets(); // a fresh database gets its keys first, as at a server's first start
      let r;
      try {
        r = await retireSigningKey(
          { keys: keysRepository(db), resources: resourcesRepository(db), clock: systemClock, settings: s.config },
          kid,
          { unpublish },
          (tx, done) =>
            recordChange(tx, {
              type: 'key.retired',
              actor: {},
              target: { type: 'key', id: kid },
              before: { status: done.statusBefore, retired_at: done.before.retired_at, publish_until: done.before.publish_until },
              after: { status: done.statusAfter, retired_at: done.after.retired_at, publish_until: done.after.publish_until },
              extra: {
                unpublished: done.unpublished,
                signing_now: done.signingNow ?? null,
                ...(done.promoted ? { promoted: { kid: done.promoted.kid, planned_from: done.promoted.plannedFrom } } : {}),
                via: 'cli',
              },
            }),
        );
      } catch (err) {
        if (err instanceof KeyRetireError) {
          throw new CliError(err.code === 'no_successor' ? `${err.message} (latchkey keys rotate --alg ALG)` : err.message);
        }
        throw err;
      }
      const out = {
        kid: r.kid,
        alg: r.alg,
        status: r.statusAfter,
        retired_at: r.after.retired_at,
        publish_until: r.after.publish_until,
        unpublished: r.unpublished,
        signing_now: r.signingNow ?? null,
        promoted: r.promoted ? { kid: r.promoted.kid, planned_from: r.promoted.plannedFrom } : null,
      };
      if (s.json) {
        s.printJson(out);
        return;
      }
      s.print(
        table(
          ['KID', 'ALG', 'STATUS', 'RETIRED_AT', 'PUBLISH_UNTIL', 'SIGNING NOW'],
          [[out.kid, out.alg, out.status, iso(out.retired_at), iso(out.publish_until), out.signing_now ?? '-']],
        ),
      );
      if (r.promoted) s.warn(`key ${r.promoted.kid} signs now instead of from ${r.promoted.plannedFrom.toISOString()}`);
      s.warn(`running servers follow within KEY_RELOAD_INTERVAL (${s.config.keyReloadInterval} s)`);
    },
  },
];
