import type { Readable } from 'node:stream';
import { CliError, UsageError } from './common.js';

export interface StdinOptions {
  /** Shown on stderr when standard input is a terminal. */
  prompt: string;
  /** More than this many bytes is refused (a password file that is not one). */
  maxBytes: number;
}

/**
 * Standard input as text: all of a pipe or file (`printf '%s' "$PW" | latchkey …`, `< file`); on a
 * terminal, one line typed after `prompt` without echo, so the password is neither in the shell's
 * history nor on the screen.
 */
export function readProcessStdin(opts: StdinOptions): Promise<string> {
  const stdin = process.stdin;
  return stdin.isTTY && typeof stdin.setRawMode === 'function' ? readHiddenLine(stdin, opts) : readPipe(stdin, opts);
}

/** All of a pipe or file as UTF-8 text, at most `maxBytes` (exported so that tests can feed it a stream of their own). */
export async function readPipe(stdin: Readable, { maxBytes }: StdinOptions): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > maxBytes) {
      stdin.destroy();
      throw new UsageError(`standard input holds more than ${maxBytes} bytes: too long for a password`);
    }
    chunks.push(buf);
  }
  try {
    // A byte-order mark (Windows editors) is dropped, as it should be.
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new UsageError('standard input is not valid UTF-8');
  }
}

function readHiddenLine(stdin: NodeJS.ReadStream, { prompt, maxBytes }: StdinOptions): Promise<string> {
  // No echo before the prompt shows: whoever types on seeing it is not echoed.
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let chars: string[] = [];
    const done = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(chars.join(''));
    };
    const onData = (data: string) => {
      // Arrow and function keys send escape sequences (ESC [ … final, ESC O x): not part of a password.
      // eslint-disable-next-line no-control-regex -- matching ESC is the point
      for (const ch of data.replace(/\u001b(\[[0-?]*[ -/]*[@-~]|O.|.)?/gs, '')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          // Enter, Ctrl-D
          done();
          return;
        }
        if (ch === '\u0003') {
          // Ctrl-C: raw mode sends no SIGINT
          done(new CliError('interrupted', 130));
          return;
        }
        // Backspace deletes a character, Ctrl-U the whole line; other control characters are dropped.
        if (ch === '\u007f' || ch === '\b') chars.pop();
        else if (ch === '\u0015') chars = [];
        else if (ch >= ' ') chars.push(ch);
        if (Buffer.byteLength(chars.join('')) > maxBytes) {
          done(new UsageError('too long for a password'));
          return;
        }
      }
    };
    stdin.on('data', onData);
  });
}
