import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';

/**
 * A fresh embedded data directory without paying for initdb each time. Creating a PGlite cluster
 * runs initdb inside WebAssembly (3 s on an idle machine, 10 s on a busy one), and every test file
 * that starts a server needs a fresh database of its own. So the freshly initialised cluster of
 * this PGlite version is made once, kept in the OS temp directory, and copied (well under a second):
 * the copy is exactly what initdb leaves, with no migration applied and no key or secret in it, so
 * the server and the CLI still do everything else themselves — migrations, keys, the secret.
 * Tests of a first start from an empty directory (test/flows/process.test.ts) keep theirs empty.
 */
function pgliteVersion(): string {
  // The package's exports do not include package.json; read it next to the resolved entry point.
  let dir = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The template cluster, made on first use; concurrent test processes race to rename theirs into place. */
async function templateDir(): Promise<string> {
  const root = join(tmpdir(), 'latchkey-test-pglite');
  const done = join(root, `initdb-${pgliteVersion()}`);
  if (existsSync(done)) return done;
  mkdirSync(root, { recursive: true });
  const building = mkdtempSync(join(root, 'building-'));
  try {
    const db = await PGlite.create(join(building, 'pgdata'));
    await db.close();
    // Atomic: another process either sees no template or a complete one.
    renameSync(building, done);
  } catch (err) {
    rmSync(building, { recursive: true, force: true });
    // Another test process finished first: its template is as good as ours.
    if (!existsSync(done)) throw err;
  }
  return done;
}

/** A new DATA_DIR holding a copy of the freshly initialised cluster, for one test server or CLI suite. */
export async function freshPgliteDataDir(): Promise<string> {
  const template = await templateDir();
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-test-'));
  cpSync(template, dir, { recursive: true });
  return dir;
}
