import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { assertOneLineFailure, BIN, runCli, SPAWN_TIMEOUT_MS, type CliRun } from '../helpers/cli.js';
import { freshDatabaseEnv } from '../helpers/server.js';
import { childEnv } from '../support/env.js';

/**
 * The `latchkey` bin itself, spawned as an operator runs it: what the in-process CLI tests
 * (cli.test.ts, trust.test.ts) cannot show — the compiled entry point loads, its exit status
 * reaches the shell, a closed pipe is no crash, and a second process on the embedded database is
 * told so at once.
 */

const T = { timeout: 120_000 };
/** The compiled modules, as the bin and the server run them. */
const DIST = new URL('../../dist/', import.meta.url).href;

let env: Record<string, string>;
let cwd: string;
let cleanup: (() => Promise<void>) | undefined;

const run = (args: string[], extraEnv: Record<string, string> = {}): Promise<CliRun> => runCli(args, { cwd, env: { ...env, ...extraEnv } });

before(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'latchkey-bin-cwd-'));
  const fresh = await freshDatabaseEnv();
  // Only what a process needs to run, plus the database: no DATABASE_URL or LATCHKEY_* of the caller's.
  env = childEnv(process.env, fresh.env);
  cleanup = fresh.drop;
});

after(async () => {
  await cleanup?.();
  rmSync(cwd, { recursive: true, force: true });
});

describe('the latchkey bin', () => {
  it('prints help and its version with exit 0, and reports mistakes with exit 2 (usage) and 78 (configuration)', T, async () => {
    const help = await run(['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: latchkey <command>/);
    assert.equal(help.stderr, '');

    const version = await run(['--version']);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);

    const usage = await run(['clients', 'frobnicate']);
    assertOneLineFailure(usage, /unknown subcommand "frobnicate"/);
    assert.equal(usage.code, 2);

    const config = await run(['clients', 'list'], { ACCESS_TOKEN_TTL: 'soon' });
    assertOneLineFailure(config, /ACCESS_TOKEN_TTL/);
    assert.equal(config.code, 78);
  });

  it('exits 0 without a stack trace when the reader of its output has gone (latchkey … | head -1)', T, async () => {
    const child = spawn(process.execPath, [BIN, '--help'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    // The read end is closed before the child has loaded, so its first write meets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('latchkey --help did not exit')), SPAWN_TIMEOUT_MS);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
  });

  it(
    'says the embedded database is in use by a running process instead of hanging, and works again once it is free',
    { ...T, skip: process.env.DATABASE_URL ? 'only the embedded database is single-process (DATABASE_URL is set)' : false },
    async () => {
      const holderScript = `
      import { openPglite } from ${JSON.stringify(`${DIST}store/pglite.js`)};
      const db = await openPglite(process.env.DATA_DIR);
      process.on('SIGTERM', async () => { await db.close(); process.exit(0); });
      console.log('ready');
      setInterval(() => {}, 1000);`;
      const holder = spawn(process.execPath, ['--input-type=module', '-e', holderScript], {
        cwd: fileURLToPath(new URL('../../', import.meta.url)),
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('holder did not open the database')), SPAWN_TIMEOUT_MS);
          holder.stdout.on('data', (d) => {
            if (String(d).includes('ready')) {
              clearTimeout(timer);
              resolve();
            }
          });
          holder.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
        });
        const r = await run(['clients', 'list']);
        assertOneLineFailure(r, /in use by a running Latchkey process/);
        assert.equal(r.code, 1);
        assert.ok(r.ms < 20_000, `took ${r.ms} ms`);
      } finally {
        if (holder.exitCode === null && holder.signalCode === null) {
          const exited = new Promise((resolve) => holder.once('exit', resolve));
          holder.kill('SIGTERM');
          await exited;
        }
      }
      // Once the holder has let go, the bin works again (the lock file was released).
      const list = await run(['clients', 'list', '--json']);
      assert.equal(list.code, 0, list.stderr);
      assert.deepEqual(JSON.parse(list.stdout), []);
    },
  );
});
