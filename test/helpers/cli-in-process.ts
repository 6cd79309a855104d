import { main } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The stderr lines that are JSON log lines (security events), parsed. */
  logLines: Record<string, unknown>[];
}

/**
 * Runs `latchkey ARGV` in this process through the CLI's own entry point, main(argv, io), with
 * `env` as its whole environment and `input` as its standard input.
 */
export async function runCliInProcess(argv: string[], env: Record<string, string>, input = ''): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env,
    readStdin: () => Promise.resolve(input),
  });
  const logLines = stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, stdout, stderr, logLines };
}
