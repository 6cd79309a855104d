/**
 * A small keep-alive HTTP/1.1 client on node:http. Each call reports its own latency: from just
 * before the request is written to the last byte of the response body.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Milliseconds from sending the request to the end of the response body. */
  ms: number;
}

export class HttpClient {
  private readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(
    baseUrl: string,
    maxSockets: number,
    private readonly timeoutMs = 10_000,
  ) {
    const u = new URL(baseUrl);
    this.host = u.hostname;
    this.port = Number(u.port || 80);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  request(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<HttpResult> {
    return new Promise((resolve, reject) => {
      const h: Record<string, string | number> = { ...headers };
      if (body !== undefined) h['content-length'] = Buffer.byteLength(body);
      const t0 = performance.now();
      const req = http.request({ host: this.host, port: this.port, method, path, headers: h, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(Object.assign(err, { elapsedMs: performance.now() - t0 })));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - t0,
          });
        });
      });
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs / 1000} s`), { code: 'TIMEOUT' })),
      );
      const fail = (err: Error) => reject(Object.assign(err, { elapsedMs: performance.now() - t0 }));
      req.on('error', fail);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A short name for a transport error, for the error counts (ECONNRESET, TIMEOUT, …). */
export function errorCode(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null | undefined;
  return typeof e?.code === 'string' ? e.code : String(e?.message ?? err).slice(0, 60);
}

/** How long a failed request took (set on every error `request` rejects with). */
export function elapsedMs(err: unknown): number {
  const ms = (err as { elapsedMs?: unknown } | null | undefined)?.elapsedMs;
  return typeof ms === 'number' ? ms : 0;
}

export const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
