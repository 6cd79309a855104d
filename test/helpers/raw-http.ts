/**
 * HTTP without a client's manners, for fuzz tests: node:http for requests whose path, headers and
 * body are ours to the byte (latin1 strings become the raw bytes on the wire, so invalid UTF-8
 * is easy), and a bare socket for requests no HTTP client would send at all.
 */
import http from 'node:http';
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  ms: number;
}

export interface RawRequest {
  method: string;
  /** Request target as sent: every char must be U+0021–U+00FF (sent as that byte). */
  path: string;
  /** Values are sent as latin1 bytes; U+0000–U+001F (but tab) and U+007F are refused by node. */
  headers?: Record<string, string>;
  body?: Buffer | string | undefined;
}

/** A request that has not finished after `timeoutMs` fails: a hang is a bug, not a slow answer. */
export class NoResponseError extends Error {}

/**
 * One request on a fresh connection (no pooling: a connection the previous request left in an odd
 * state must not be blamed on the next one). A request that has not been answered within
 * `timeoutMs` rejects with NoResponseError.
 */
export function rawRequest(base: string, req: RawRequest, timeoutMs = 5000): Promise<RawResponse> {
  const url = new URL(base);
  const body = req.body === undefined ? undefined : typeof req.body === 'string' ? Buffer.from(req.body, 'latin1') : req.body;
  const headers = { ...(req.headers ?? {}) };
  const names = Object.keys(headers).map((h) => h.toLowerCase());
  // node:http frames a GET/DELETE/OPTIONS body with neither Content-Length nor chunking: the
  // server would read it as the next request. Always say how long the body is.
  if (body !== undefined && !names.includes('content-length') && !names.includes('transfer-encoding'))
    headers['content-length'] = String(body.length);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const r = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers,
        agent: false,
        signal: AbortSignal.timeout(timeoutMs),
        // A fuzzed Host header replaces node's.
        setHost: !names.includes('host'),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - started }),
        );
        res.on('error', (e) => reject(wrap(e, req, timeoutMs)));
      },
    );
    r.on('error', (e) => reject(wrap(e, req, timeoutMs)));
    if (body !== undefined) r.end(body);
    else r.end();
  });
}

function wrap(e: Error, req: RawRequest, timeoutMs: number): Error {
  if (e.name === 'AbortError' || e.name === 'TimeoutError')
    return new NoResponseError(`no response within ${timeoutMs} ms to ${req.method} ${req.path.slice(0, 200)}`);
  return e;
}

export interface SocketResponse {
  /** Everything the server wrote before closing (or before the timeout), as latin1. */
  raw: string;
  status: number | undefined;
  headers: Record<string, string>;
  /** The body (de-chunked), decoded as UTF-8. */
  body: string;
  /** The server closed the connection (rather than us, after the timeout). */
  closed: boolean;
}

/**
 * Writes `bytes` to a fresh connection and reads until the server has answered one response
 * (Content-Length honoured) or closed the connection, or `timeoutMs` passed.
 */
export function socketRequest(base: string, bytes: Buffer, timeoutMs = 5000): Promise<SocketResponse> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const sock = net.connect(Number(url.port), url.hostname);
    let raw = '';
    let closed = false;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(parseRaw(raw, closed));
    };
    const timer = setTimeout(finish, timeoutMs);
    sock.on('data', (d: Buffer) => {
      raw += d.toString('latin1');
      if (complete(raw)) finish();
    });
    sock.on('close', () => {
      closed = true;
      finish();
    });
    sock.on('error', () => {
      closed = true;
      finish();
    });
    sock.write(bytes);
  });
}

function complete(raw: string): boolean {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = raw.slice(0, end + 2);
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (m) return raw.length - (end + 4) >= Number(m[1]);
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) return raw.endsWith('0\r\n\r\n');
  return false;
}

function dechunk(body: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', i);
    if (eol < 0) return out;
    const size = parseInt(body.slice(i, eol), 16);
    if (!Number.isFinite(size) || size === 0) return out;
    out += body.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
}

function parseRaw(raw: string, closed: boolean): SocketResponse {
  const end = raw.indexOf('\r\n\r\n');
  const head = end < 0 ? raw : raw.slice(0, end);
  const [statusLine, ...lines] = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const rest = end < 0 ? '' : raw.slice(end + 4);
  const body = /chunked/i.test(headers['transfer-encoding'] ?? '') ? dechunk(rest) : rest;
  return { raw, status: m ? Number(m[1]) : undefined, headers, body: Buffer.from(body, 'latin1').toString('utf8'), closed };
}
