import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The compiled server, as `npm start` and the Docker image run it (`npm test` builds it first). */
export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface LatchkeyProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  waitFor(re: RegExp, ms?: number): Promise<void>;
  output(): string;
}

/** Runs the server as `npm start` does (a real process, this Node binary), collecting its output. */
export function startProcess(env: Record<string, string>): LatchkeyProcess {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does)`);
  const child = spawn(process.execPath, ['--enable-source-maps', MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = async (re: RegExp, ms = 60_000) => {
    const until = Date.now() + ms;
    while (!re.test(out)) {
      if (Date.now() > until || child.exitCode !== null || child.signalCode !== null) throw new Error(`did not see ${re}; output:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, exited, waitFor, output: () => out };
}

export async function stopProcess(p: LatchkeyProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  return p.exited;
}
