import { spawn, type ChildProcess } from 'node:child_process';

/** A server started as a child process; its output is kept (tail only) for error reports. */
export interface ChildHandle {
  readonly name: string;
  readonly pid: number | undefined;
  /** Last lines the child wrote to stdout/stderr. */
  output(): string;
  /** Set once the child has exited. */
  exitInfo(): string | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();

// Last resort: if the bench process exits without cleanup, don't leave servers behind.
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

const MAX_OUTPUT = 32 * 1024;

export function spawnChild(name: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): ChildHandle {
  const child = spawn(process.execPath, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > MAX_OUTPUT) out = out.slice(-MAX_OUTPUT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = signal ? `killed by ${signal}` : `exited with code ${code}`;
      live.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      exit = `failed to start: ${err.message}`;
      live.delete(child);
      resolve();
    });
  });

  return {
    name,
    pid: child.pid,
    output: () => out.trim(),
    exitInfo: () => exit,
    async stop(graceMs = 5000) {
      if (exit) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `url` until it answers 200; fails early if the child dies. */
export async function waitForHttp200(url: string, child: ChildHandle, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const exit = child.exitInfo();
    if (exit) throw new Error(`${child.name} ${exit} before becoming ready:\n${indent(child.output())}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${child.name} not ready at ${url} after ${timeoutMs / 1000}s (${last}):\n${indent(child.output())}`);
}

export function indent(s: string): string {
  return (s || '(no output)')
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
