/**
 * The load generator in a process of its own, at lowered priority (`nice`): autocannon competes
 * with the servers for the same cores, and a server that uses every core (Latchkey with
 * WORKERS=2) would otherwise be measured against a load generator taking its share first. At nice
 * 10 the kernel gives the servers the CPU when both want it, so what is measured is the servers'
 * throughput rather than the generator's. Used for scenarios that send one fixed request; those
 * that spend pre-made credentials keep autocannon in the bench process, next to their stock.
 *
 * The child (load-child.ts) is started once, through tsx, and runs one autocannon run per message.
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { RequestSpec } from '../scenarios/types.js';
import type { DriveOptions, Driven, LoadGenerator } from './load.js';

export type ChildReply = { id: number; result: Driven } | { id: number; error: string };

export interface LoadProcess extends LoadGenerator {
  readonly pid: number | undefined;
  /** The niceness the child actually has (it may be refused), for the report. */
  readonly niceness: number;
  stop(): Promise<void>;
}

export async function startLoadProcess(niceness: number): Promise<LoadProcess> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./load-child.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced', // keeps NaN percentiles of an empty run
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exit: string | undefined;
  const pending = new Map<number, { resolve: (d: Driven) => void; reject: (e: Error) => void }>();
  child.on('message', (m: ChildReply) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if ('error' in m) p.reject(new Error(`load generator: ${m.error}`));
    else p.resolve(m.result);
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = signal ? `killed by ${signal}` : `exited with code ${code}`;
      for (const p of pending.values()) p.reject(new Error(`load generator ${exit}`));
      pending.clear();
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve()); // 'ready'
    child.once('exit', () => reject(new Error(`load generator ${exit ?? 'exited'} before it was ready`)));
  });
  let actual: number;
  if (niceness !== 0 && child.pid) {
    try {
      os.setPriority(child.pid, niceness);
    } catch {
      // Not allowed here (e.g. a container without the right): say so through `niceness`.
    }
  }
  try {
    actual = child.pid ? os.getPriority(child.pid) : 0;
  } catch {
    actual = 0;
  }
  let next = 0;
  return {
    pid: child.pid,
    niceness: actual,
    run(baseUrl: string, request: RequestSpec, opts: DriveOptions): Promise<Driven> {
      if (exit) return Promise.reject(new Error(`load generator ${exit}`));
      const id = ++next;
      return new Promise<Driven>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, baseUrl, request, opts });
      });
    },
    async stop() {
      if (exit) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
