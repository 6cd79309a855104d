/**
 * Minimal typings for the two benchmark-only devDependencies that ship no types of their own.
 * Only what bench/ uses is declared.
 */

declare module 'autocannon' {
  namespace autocannon {
    interface Options {
      url: string;
      method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD' | 'OPTIONS';
      headers?: Record<string, string>;
      body?: string | Buffer;
      connections?: number;
      duration?: number | string;
      pipelining?: number;
      timeout?: number;
      title?: string;
      /** Send exactly this many requests, then stop; duration is ignored. */
      amount?: number;
      /** Milliseconds between samples (default 1000); a fixed-amount run ends at the next one. */
      sampleInt?: number;
      /** Per-request hooks; setupRequest is called once per request sent. */
      requests?: RequestDef[];
    }
    interface RequestDef {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
      setupRequest?: (req: RequestDef, context: Record<string, unknown>) => RequestDef | undefined;
      onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string | string[]>) => void;
    }
    interface Histogram {
      average: number;
      mean: number;
      stddev: number;
      min: number;
      max: number;
      total: number;
      p50: number;
      p90: number;
      p97_5: number;
      p99: number;
    }
    interface Result {
      title?: string;
      url: string;
      connections: number;
      duration: number;
      errors: number;
      timeouts: number;
      mismatches: number;
      non2xx: number;
      resets: number;
      '1xx': number;
      '2xx': number;
      '3xx': number;
      '4xx': number;
      '5xx': number;
      statusCodeStats: Record<string, { count: number }>;
      latency: Histogram;
      requests: Histogram & { sent: number };
      throughput: Histogram;
    }
    interface Instance extends PromiseLike<Result> {
      stop(): void;
      on(event: string, listener: (...args: unknown[]) => void): this;
    }
  }
  function autocannon(opts: autocannon.Options): autocannon.Instance;
  export = autocannon;
}

declare module 'oidc-provider' {
  import type { Server } from 'node:http';
  export class Provider {
    constructor(issuer: string, configuration?: Record<string, unknown>);
    silent: boolean;
    listen(port: number, host: string, callback?: () => void): Server;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
  export const errors: {
    InvalidTarget: new (description?: string) => Error;
  };
  export default Provider;
}
