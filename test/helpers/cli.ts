import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main, type Io } from '../../src/cli/main.js';
import { readPipe } from '../../src/cli/stdin.js';

/** The real `latchkey` bin, spawned as an operator runs it. */
export const BIN = fileURLToPath(new URL('../../bin/latchkey.mjs', import.meta.url));
export const SPAWN_TIMEOUT_MS = 60_000;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from start to exit. */
  ms: number;
}

/**
 * Runs `latchkey ARGS` in this process, through the same `main(argv, io)` the bin calls, with
 * `env` as its whole environment; `input`, when given, is its standard input, read by the CLI's
 * own pipe reader (size limit, UTF-8 check). Output is captured as the bin would write it. Each
 * call opens and closes the database as a separate `latchkey` run does, so the embedded database
 * is free again when it returns.
 */
export async function runMain(args: string[], opts: { env: Record<string, string>; input?: string }): Promise<CliRun> {
  const started = Date.now();
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: { ...opts.env },
    readStdin: (o) => readPipe(Readable.from(opts.input ? [Buffer.from(opts.input)] : []), o),
  };
  const code = await main(args, io);
  return { code, stdout, stderr, ms: Date.now() - started };
}

/**
 * Runs `latchkey ARGS` as a child process in `cwd` with `env`; `input`, when given, is piped to
 * its standard input (otherwise stdin is empty). Rejects if it has not exited within a minute.
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

/** Fails with exactly one `latchkey: …` line on stderr, no stack trace, nothing on stdout. */
export function assertOneLineFailure(r: CliRun, pattern: RegExp): void {
  assert.notEqual(r.code, 0, `expected failure, got exit 0: ${r.stdout}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^latchkey: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.equal(r.stdout, '');
}

/** The JSON log lines among a CLI run's stderr (security events), parsed; the `latchkey: …` lines are left out. */
export function jsonLogLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
