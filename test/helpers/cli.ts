import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The real `latchkey` bin, spawned as an operator runs it. */
export const BIN = fileURLToPath(new URL('../../bin/latchkey.mjs', import.meta.url));
export const SPAWN_TIMEOUT_MS = 60_000;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

/**
 * Runs `latchkey ARGS` in `cwd` with `env`; `input`, when given, is piped to its standard input
 * (otherwise stdin is empty). Rejects if it has not exited within a minute.
 */
export function runCli(args: string[], opts: { cwd: string; env: Record<string, string>; input?: string }): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => {}); // EPIPE when the CLI exits without reading its input
    child.stdin.end(opts.input ?? '');
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`latchkey ${args.join(' ')} did not finish within ${SPAWN_TIMEOUT_MS} ms`));
    }, SPAWN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}
