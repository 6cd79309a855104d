import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/**
 * One bash process the README's statements run in, in order, as a reader's terminal: variables
 * set by one example are there for the next. `curl` is wrapped to report each response's HTTP
 * status on stderr, so a test can tell a 4xx from a 2xx without changing what the example prints.
 */
export class ShellSession {
  private readonly bash: ChildProcessWithoutNullStreams;
  private stdout = '';
  private stderr = '';
  private waiter: (() => void) | undefined;

  constructor(cwd: string) {
    this.bash = spawn('bash', ['--noprofile', '--norc'], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, LANG: 'C.UTF-8' },
    });
    this.bash.stdout.on('data', (d: Buffer) => {
      this.stdout += d.toString('utf8');
      this.waiter?.();
    });
    this.bash.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString('utf8');
      this.waiter?.();
    });
    this.bash.stdin.write(`curl() { command curl --max-time 20 -w '%{stderr}__HTTP__%{http_code}\\n' "$@"; }\n`);
  }

  /** Runs one statement; returns what it printed, its exit status and the HTTP statuses of its curls. */
  async run(statement: string): Promise<{ stdout: string; exitCode: number; httpStatuses: number[]; stderr: string }> {
    this.stdout = '';
    this.stderr = '';
    const done = /\n__DONE__(\d+)\n$/;
    this.bash.stdin.write(`${statement}\nstatus=$?; printf '\\n__DONE__%d\\n' $status; printf '\\n__DONE__\\n' >&2\n`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`statement did not finish within 30 s: ${statement}`));
      }, 30_000);
      this.waiter = () => {
        if (done.test(this.stdout) && this.stderr.endsWith('\n__DONE__\n')) {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        }
      };
      this.waiter();
    });
    const exitCode = Number(done.exec(this.stdout)?.[1]);
    const stdout = this.stdout.replace(done, '');
    const httpStatuses = [...this.stderr.matchAll(/__HTTP__(\d{3})/g)].map((m) => Number(m[1]));
    const stderr = this.stderr.replace(/__HTTP__\d{3}\n|\n__DONE__\n$/g, '');
    return { stdout, exitCode, httpStatuses, stderr };
  }

  /** A shell variable's value (as `"$NAME"` expands). */
  async variable(name: string): Promise<string> {
    return (await this.run(`printf '%s' "$${name}"`)).stdout.replace(/^\n/, '');
  }

  close(): void {
    this.bash.stdin.end();
    this.bash.kill();
  }
}
