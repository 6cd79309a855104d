import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadOrCreateSecretFile } from '../../src/keys/secret.js';
import { DataDirError } from '../../src/platform/private-files.js';
import { openPglite } from '../../src/store/pglite.js';

/** The embedded database holds password hashes and encrypted keys: no other local user may read it. */

const dirs: string[] = [];
function tempDir(mode: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-datadir-'));
  chmodSync(dir, mode);
  dirs.push(dir);
  return dir;
}

/** Every entry under `dir` whose mode lets group or others in. */
function openToOthers(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isSymbolicLink()) continue;
    if (st.mode & 0o077) found.push(`${path} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) found.push(...openToOthers(path));
  }
  return found;
}

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('embedded database files are private', () => {
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a pre-existing 0755 DATA_DIR is made 0700, and nothing PGlite wrote is open to group or others', async () => {
    const dir = tempDir(0o755);
    const notices: string[] = [];
    const db = await openPglite(dir, (n) => notices.push(n));
    try {
      assert.equal(modeOf(dir), 0o700);
      assert.match(notices.join('\n'), /DATA_DIR .* was open to other users \(mode 0755\); changed it to 0700/);
      assert.deepEqual(openToOthers(dir), [], 'after opening');
      await db.exec("CREATE TABLE t (x text); INSERT INTO t VALUES ('a password hash')");
    } finally {
      await db.close();
    }
    assert.deepEqual(openToOthers(dir), [], 'after closing: the WAL and relation files too');
  });

  it('a shared directory (sticky bit, like /tmp) is refused with the reason, not made private', async () => {
    const dir = tempDir(0o1777);
    await assert.rejects(
      openPglite(dir),
      (err: unknown) => err instanceof DataDirError && /DATA_DIR .* is a shared directory/.test(err.message),
    );
    assert.equal(statSync(dir).mode & 0o7777, 0o1777, 'left as it was');
  });

  it('the generated secret file is 0600 in a 0700 directory; one made readable is tightened again', () => {
    const dir = tempDir(0o755);
    const first = loadOrCreateSecretFile(dir);
    assert.equal(first.created, true);
    assert.equal(modeOf(dir), 0o700);
    assert.equal(modeOf(join(dir, 'secret')), 0o600);

    chmodSync(join(dir, 'secret'), 0o644);
    const again = loadOrCreateSecretFile(dir);
    assert.equal(again.secret, first.secret);
    assert.equal(modeOf(join(dir, 'secret')), 0o600);
    assert.match(again.notices.join('\n'), /secret was readable by other users \(mode 0644\); changed it to 0600/);
  });

  it('a too-short secret file is refused naming the file', () => {
    const dir = tempDir(0o700);
    writeFileSync(join(dir, 'secret'), 'short\n', { mode: 0o600 });
    assert.throws(() => loadOrCreateSecretFile(dir), /secret holds fewer than 32 characters/);
  });
});
