import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The compiled server, as `npm start` and the Docker image run it (`npm test` builds it first). */
export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface LatchkeyProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  /**
   * Resolves once the output (stdout and stderr) matches `until` — a pattern, or a test of the
   * whole output so far — checked on every chunk the process writes; rejects, with the output, if
   * the process exits first or `ms` pass.
   */
  waitFor(until: RegExp | ((output: string) => boolean), ms?: number): Promise<void>;
  output(): string;
}

/** Runs the server as `npm start` does (a real process, this Node binary), collecting its output. */
export function startProcess(env: Record<string, string>): LatchkeyProcess {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does)`);
  const child = spawn(process.execPath, ['--enable-source-maps', MAIN], {
    // One process unless a test asks for WORKERS: with DATABASE_URL the default is one worker per
    // CPU, and these tests assert what one process does (its cache, its shutdown); the cluster's
    // own behaviour is tested in test/cluster/workers.test.ts and three-processes.test.ts.
    env: { PATH: process.env.PATH ?? '', WORKERS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const append = (d: string) => {
    out += d;
    for (const l of listeners) l();
  };
  child.stdout.setEncoding('utf8').on('data', append);
  child.stderr.setEncoding('utf8').on('data', append);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // 'close' comes after the last output chunk ('exit' may come before it).
  let closed = false;
  child.on('close', () => (closed = true));
  const waitFor = (until: RegExp | ((output: string) => boolean), ms = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const met = () => (typeof until === 'function' ? until(out) : until.test(out));
      if (met()) {
        resolve();
        return;
      }
      const done = (err?: Error) => {
        listeners.delete(check);
        clearTimeout(timer);
        child.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const check = () => {
        if (met()) done();
      };
      const onClose = () => done(new Error(`the process exited before its output showed ${String(until)}; output:\n${out}`));
      const timer = setTimeout(() => done(new Error(`no ${String(until)} in the output within ${ms} ms; output:\n${out}`)), ms);
      listeners.add(check);
      child.on('close', onClose);
      if (closed) onClose();
    });
  return { child, exited, waitFor, output: () => out };
}

export async function stopProcess(p: LatchkeyProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  return p.exited;
}
