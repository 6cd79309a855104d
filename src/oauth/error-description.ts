/**
 * RFC 6749 §5.2 (and §4.1.2.1): error_description is "human-readable ASCII text" limited to
 * %x20-21 / %x23-5B / %x5D-7E — no `"`, no `\`, nothing outside printable ASCII. Every OAuth
 * error Latchkey serializes (JSON bodies, redirect error responses) passes through here, once.
 */

/** Characters an error_description may contain (RFC 6749 §5.2). */
export const ERROR_DESCRIPTION_CHARS = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;

/** Longest description sent; the rest is for the log (an error's private `detail`). */
const MAX_LENGTH = 400;

/** Non-ASCII characters our own messages use, spelt in ASCII. */
const ASCII_SPELLING: Readonly<Record<string, string>> = {
  '§': 'section ',
  '–': '-',
  '—': '-',
  '…': '...',
  '‘': "'",
  '’': "'",
  '“': "'",
  '”': "'",
  '→': '->',
  '×': 'x',
  '≥': '>=',
  '≤': '<=',
};

/** Stands where a value the request sent would have been repeated. */
export const SENT_VALUE = '(the value sent)';

/**
 * The public text of an error description: values the request carried are not repeated back
 * (`rawInputs`: the form and query values; a message quotes them as "value", and so does a
 * scope token of a scope value), then the text is reduced to the allowed characters. Pure.
 */
export function publicErrorDescription(description: string, rawInputs: Iterable<string> = []): string {
  let text = description;
  const quoted = new Set<string>();
  for (const raw of rawInputs) {
    if (raw === '') continue;
    quoted.add(raw);
    // A space-separated value (scope) is quoted one token at a time.
    for (const token of raw.split(' ')) if (token !== '') quoted.add(token);
  }
  // Longest first, so a whole value is replaced before a token inside it.
  for (const value of [...quoted].sort((a, b) => b.length - a.length)) {
    text = text.split(`"${value}"`).join(SENT_VALUE);
  }
  let out = '';
  for (const ch of text) {
    if (ch === '"') out += "'";
    else if (ch === '\\') out += '/';
    else if (ch >= ' ' && ch <= '~') out += ch;
    else if (ch === '\t' || ch === '\n' || ch === '\r') out += ' ';
    else out += ASCII_SPELLING[ch] ?? '?';
  }
  return out.length > MAX_LENGTH ? `${out.slice(0, MAX_LENGTH - 3)}...` : out;
}

/** The values a request carried (form body and query string), for publicErrorDescription. */
export function requestInputs(...sources: unknown[]): string[] {
  const out: string[] = [];
  for (const source of sources) {
    if (source === null || typeof source !== 'object') continue;
    for (const v of Object.values(source as Record<string, unknown>)) {
      if (typeof v === 'string') out.push(v);
      else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') out.push(x);
    }
  }
  return out;
}
