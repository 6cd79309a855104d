import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * DATA_DIR holds the embedded database (password hashes, encrypted private keys, the WAL, its
 * postgresql.conf) and the generated server secret: only the user Latchkey runs as may read or
 * change anything in it.
 */

/** DATA_DIR cannot be made private: start-up stops with this one-line reason. */
export class DataDirError extends Error {
  override name = 'DataDirError';
  /** Stable, for logs and callers (the message may change). */
  readonly code = 'data_dir_unsafe';
}

const STICKY = 0o1000;
const GROUP_OTHER = 0o077;

const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

/**
 * Creates `dir` (mode 0700), or makes an existing one 0700. Refuses a directory that this user
 * does not own, or a shared one (the sticky bit, as on /tmp): tightening those would break
 * whoever else uses them. Returns a notice when it had to tighten the mode.
 */
export function ensurePrivateDirectory(dir: string, setting = 'DATA_DIR'): string | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new DataDirError(`${setting} ${dir} cannot be created: ${(err as Error).message}; choose a directory this user may create`);
  }
  const st = statSync(dir);
  if (!st.isDirectory()) throw new DataDirError(`${setting} ${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new DataDirError(
      `${setting} ${dir} belongs to another user (uid ${st.uid}, this process runs as ${uid}): run Latchkey as its owner, or chown it`,
    );
  }
  if (st.mode & STICKY) {
    throw new DataDirError(`${setting} ${dir} is a shared directory (sticky bit, like /tmp): use a directory of Latchkey's own inside it`);
  }
  if ((st.mode & GROUP_OTHER) === 0) return undefined;
  try {
    chmodSync(dir, 0o700);
  } catch (err) {
    throw new DataDirError(
      `${setting} ${dir} is open to other users (mode ${octal(st.mode)}) and chmod 700 failed: ${(err as Error).message}`,
    );
  }
  return `${setting} ${dir} was open to other users (mode ${octal(st.mode)}); changed it to 0700`;
}

/**
 * Takes group and other permissions off everything under `dir` (symbolic links are left alone).
 * PGlite unpacks its template database with mode 0666 and writes some files 0644, whatever the
 * umask: inside a 0700 directory nobody else can reach them, and this keeps it so should the
 * directory's mode be loosened later.
 */
export function restrictTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    const mode = modeOf(path);
    if (mode === undefined) continue; // removed meanwhile (Postgres recycles WAL segments)
    if (mode & GROUP_OTHER) chmodSync(path, mode & 0o700);
    if (entry.isDirectory()) restrictTree(path);
  }
}

function modeOf(path: string): number | undefined {
  try {
    return lstatSync(path).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Makes an existing secret file 0600 if it is open to others (restored from a backup, copied by
 * hand). Returns a notice when it changed the mode.
 */
export function ensurePrivateFile(path: string): string | undefined {
  const mode = statSync(path).mode;
  if ((mode & GROUP_OTHER) === 0) return undefined;
  chmodSync(path, 0o600);
  return `${path} was readable by other users (mode ${octal(mode)}); changed it to 0600`;
}
