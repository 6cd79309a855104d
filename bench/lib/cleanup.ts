/**
 * Teardown that runs exactly once: at the end of the run, on failure, and on SIGINT/SIGTERM.
 * Steps run last-registered-first (children are stopped before the database is dropped).
 */

type Step = { label: string; fn: () => Promise<void> | void };

const steps: Step[] = [];
let running: Promise<void> | undefined;

async function runStep(step: Step): Promise<void> {
  try {
    await step.fn();
  } catch (err) {
    process.stderr.write(`bench: cleanup "${step.label}" failed: ${(err as Error).message}\n`);
  }
}

/** Registers a teardown step. Once teardown has begun, a late step runs right after it. */
export function onCleanup(label: string, fn: Step['fn']): void {
  if (running) running = running.then(() => runStep({ label, fn }));
  else steps.push({ label, fn });
}

export function runCleanup(): Promise<void> {
  running ??= (async () => {
    while (steps.length) await runStep(steps.pop()!);
  })();
  return running;
}

let interrupted = false;
/** True once SIGINT/SIGTERM arrived: the run should start nothing new. */
export const isInterrupted = () => interrupted;

/**
 * On Ctrl-C / SIGTERM: tear down, then exit with the conventional 128+signal code. One Ctrl-C
 * reaches this process several times (the terminal signals the whole process group, and npm and
 * tsx each relay it), so repeats within 2 s are ignored; a later one forces the exit.
 */
export function installSignalHandlers(): void {
  let first = 0;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      if (interrupted) {
        if (Date.now() - first > 2000) {
          process.stderr.write(`bench: ${signal} again, exiting without finishing cleanup\n`);
          process.exit(code);
        }
        return;
      }
      interrupted = true;
      first = Date.now();
      process.stderr.write(`\nbench: ${signal} received, stopping targets and dropping the database…\n`);
      const force = setTimeout(() => {
        process.stderr.write('bench: cleanup took over 20 s, exiting\n');
        process.exit(code);
      }, 20_000);
      force.unref();
      void runCleanup().finally(() => process.exit(code));
    });
  }
}
