/**
 * Reads the README's runnable examples, in order, as a newcomer would copy them: the shell
 * statements of every ```sh block (except blocks marked ```sh norun, which need something the
 * reader has and the suite does not: a partner's JWT, a private key, another configuration), and
 * the browser steps (`GET /…` then `→ 303 …`) of the plain ``` blocks.
 */

export interface Expectation {
  /** The documented response, as written after `# ` (may be abbreviated with `…`). */
  text: string;
  /** `error` of a documented error response. */
  error?: string;
  /** Top-level member names of a documented JSON response. */
  keys: string[];
}

export type Example =
  | { kind: 'shell'; line: number; command: string; expect: Expectation[]; run: 'exec' | 'start-server' | 'skip' }
  | { kind: 'browser'; line: number; request: string; result: string };

/** Statements the README shows that the suite does not run itself (it starts its own server). */
const NOT_RUN = /^(?:[A-Z_]+=(?:\$\([^)]*\)|\S*)\s+)?(?:npm|npx|docker|echo .*\| npx)\b/;
/** `npm start` with a bootstrap file: the suite starts its own server on that file instead. */
const START = /^LATCHKEY_BOOTSTRAP=(\S+) npm start$/;

function expectation(text: string): Expectation {
  const error = /^\{"error":"([a-z_]+)"/.exec(text)?.[1];
  const keys = [...text.matchAll(/"([a-z_]+)":/g)].map((m) => m[1] ?? '');
  return { text, ...(error === undefined ? {} : { error }), keys };
}

/** Splits a comment block after a command into documented responses: each starts with `{`. */
function expectations(comments: string[]): Expectation[] {
  const out: string[] = [];
  for (const c of comments) {
    if (c.startsWith('{')) out.push(c);
    else if (c.startsWith(' ') && out.length > 0) out[out.length - 1] = `${out.at(-1) ?? ''}${c.trimStart()}`;
  }
  return out.map(expectation);
}

export function readmeExamples(readme: string): Example[] {
  const lines = readme.split('\n');
  const examples: Example[] = [];
  let i = 0;
  while (i < lines.length) {
    const fence = /^(\s*)```(\S*)(.*)$/.exec(lines[i] ?? '');
    if (!fence) {
      i++;
      continue;
    }
    const indent = fence[1] ?? '';
    const lang = fence[2] ?? '';
    const norun = /\bnorun\b/.test(fence[3] ?? '');
    const body: { text: string; line: number }[] = [];
    i++;
    while (i < lines.length && (lines[i] ?? '').trim() !== '```') {
      body.push({ text: (lines[i] ?? '').slice(indent.length), line: i + 1 });
      i++;
    }
    i++;
    if (lang === 'sh' && !norun) examples.push(...shellStatements(body));
    if (lang === '') examples.push(...browserSteps(body));
  }
  return examples;
}

function shellStatements(body: { text: string; line: number }[]): Example[] {
  const out: Example[] = [];
  let last: (Example & { kind: 'shell' }) | undefined;
  let comments: string[] = [];
  const flush = () => {
    if (last) last.expect = expectations(comments);
    comments = [];
  };
  for (let j = 0; j < body.length; j++) {
    const { text, line } = body[j] ?? { text: '', line: 0 };
    if (text.trim() === '') {
      flush();
      last = undefined;
      continue;
    }
    if (text.startsWith('#')) {
      if (last) comments.push(text.replace(/^# ?/, ''));
      continue;
    }
    flush();
    let command = text;
    if (/<<'(\w+)'$/.test(text)) {
      const end = /<<'(\w+)'$/.exec(text)?.[1] ?? '';
      while (j + 1 < body.length && body[j + 1]?.text !== end) command += '\n' + (body[++j]?.text ?? '');
      command += '\n' + (body[++j]?.text ?? '');
    }
    while (command.endsWith('\\') && j + 1 < body.length) command = command.slice(0, -1) + ' ' + (body[++j]?.text.trim() ?? '');
    // A trailing comment on the command line documents its answer (`… # 200, empty body`).
    const trailing = /\s{2,}# (.*)$/.exec(command);
    if (trailing) {
      command = command.slice(0, trailing.index);
      comments.push(trailing[1] ?? '');
    }
    const run = START.test(command) ? 'start-server' : NOT_RUN.test(command) ? 'skip' : 'exec';
    last = { kind: 'shell', line, command, expect: [], run };
    out.push(last);
  }
  flush();
  return out;
}

function browserSteps(body: { text: string; line: number }[]): Example[] {
  const out: Example[] = [];
  for (let j = 0; j < body.length; j++) {
    const { text, line } = body[j] ?? { text: '', line: 0 };
    if (!text.startsWith('GET /')) continue;
    let request = text.slice('GET '.length);
    while (j + 1 < body.length && /^\s+&/.test(body[j + 1]?.text ?? '')) request += body[++j]?.text.trim() ?? '';
    while (j + 1 < body.length && (body[j + 1]?.text ?? '').trim() === '') j++;
    const result = /^→ (.*)$/.exec(body[j + 1]?.text ?? '')?.[1];
    if (result === undefined) throw new Error(`README line ${line}: a GET example without its "→ result" line`);
    out.push({ kind: 'browser', line, request, result });
  }
  return out;
}
