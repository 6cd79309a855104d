/**
 * Teardown that runs exactly once — at the end of a run, on failure, or on SIGINT/SIGTERM — for
 * the benchmark and the soak, which start servers and create databases that must not outlive
 * them. Steps run last-registered-first (children stop before their database is dropped).
 */
export class Teardown {
  readonly #steps: { label: string; fn: () => Promise<void> | void }[] = [];
  #running: Promise<void> | undefined;

  /** `name` prefixes the messages of failed steps (e.g. "bench"). */
  constructor(private readonly name: string) {}

  /** Registers a step. Once teardown has begun, a late step runs right after it. */
  add(label: string, fn: () => Promise<void> | void): void {
    if (this.#running) this.#running = this.#running.then(() => this.step(label, fn));
    else this.#steps.push({ label, fn });
  }

  /** Runs every step once, last first; a step that fails is reported and the others still run. */
  run(): Promise<void> {
    this.#running ??= (async () => {
      for (let s = this.#steps.pop(); s; s = this.#steps.pop()) await this.step(s.label, s.fn);
    })();
    return this.#running;
  }

  private async step(label: string, fn: () => Promise<void> | void): Promise<void> {
    try {
      await fn();
    } catch (err) {
      process.stderr.write(`${this.name}: cleanup "${label}" failed: ${(err as Error).message}\n`);
    }
  }
}

/** The conventional exit status after a fatal signal: 128 + its number. */
const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * On Ctrl-C or SIGTERM: say so, run `teardown`, exit 128+signal. One Ctrl-C reaches a process
 * several times (the terminal signals the whole process group, and npm and tsx each relay it), so
 * repeats within 2 s are ignored; a later one exits at once, as does a teardown over 20 s.
 * Returns `interrupted()`: true from the first signal on, for loops that must start nothing new.
 */
export function exitOnInterrupt(name: string, teardown: Teardown, what: string): { interrupted: () => boolean } {
  let first: number | undefined;
  for (const [signal, code] of Object.entries(EXIT_CODES)) {
    process.on(signal, () => {
      if (first !== undefined) {
        if (Date.now() - first > 2000) {
          process.stderr.write(`${name}: ${signal} again, exiting without finishing cleanup\n`);
          process.exit(code);
        }
        return;
      }
      first = Date.now();
      process.stderr.write(`\n${name}: ${signal} received, ${what}…\n`);
      const force = setTimeout(() => {
        process.stderr.write(`${name}: cleanup took over 20 s, exiting\n`);
        process.exit(code);
      }, 20_000);
      force.unref();
      void teardown.run().finally(() => process.exit(code));
    });
  }
  return { interrupted: () => first !== undefined };
}

/**
 * Runs a script's `main` with a fresh Teardown and exits with the status it returns; a crash is
 * printed with its stack (a bug, not a finding), torn down, and exits 1.
 */
export function runScript(name: string, main: (teardown: Teardown) => Promise<number>): void {
  const teardown = new Teardown(name);
  main(teardown).then(
    (code) => process.exit(code),
    async (err: unknown) => {
      process.stderr.write(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      await teardown.run();
      process.exit(1);
    },
  );
}
