import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that counts round trips: what the server's connections send
 * is read as the wire protocol (PostgreSQL docs, "Frontend/Backend Protocol" §55.2), and every
 * message the client must wait an answer to — a simple Query ('Q') or the Sync ('S') that ends an
 * extended-protocol exchange (Parse/Bind/Execute) — is one round trip. Counted on the wire, so
 * nothing in the server under test is changed or trusted; works whatever the pool does.
 */
export interface RoundTripCounter {
  /** A database URL on the proxied server, rewritten to go through this proxy. */
  through(url: string): string;
  /** Round trips since the last `reset()`, each with the statements it carried (names or SQL). */
  readonly trips: string[][];
  reset(): void;
  close(): Promise<void>;
}

/** `target`: a URL of the PostgreSQL server to proxy (its host and port are used). */
export async function countRoundTrips(target: string): Promise<RoundTripCounter> {
  const upstream = new URL(target);
  const trips: string[][] = [];
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    const db = createConnection({ host: upstream.hostname, port: Number(upstream.port || 5432) });
    sockets.add(client).add(db);
    const end = () => {
      client.destroy();
      db.destroy();
    };
    client.on('close', end).on('error', end);
    db.on('close', end).on('error', end);
    db.pipe(client);

    let buffered = Buffer.alloc(0);
    let started = false;
    let pending: string[] = [];
    client.on('data', (chunk: Buffer) => {
      db.write(chunk);
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        if (!started) {
          // The startup message has no type byte: Int32 length, then the body.
          if (buffered.length < 4) return;
          const len = buffered.readInt32BE(0);
          if (buffered.length < len) return;
          buffered = buffered.subarray(len);
          started = true;
          continue;
        }
        if (buffered.length < 5) return;
        const type = String.fromCharCode(buffered[0]!);
        const len = buffered.readInt32BE(1);
        if (buffered.length < 1 + len) return;
        const body = buffered.subarray(5, 1 + len);
        buffered = buffered.subarray(1 + len);
        if (type === 'Q') {
          trips.push([cString(body, 0)]);
        } else if (type === 'P') {
          // Parse: statement name, then its text.
          const name = cString(body, 0);
          pending.push(name || cString(body, Buffer.byteLength(name) + 1));
        } else if (type === 'B') {
          // Bind: portal name, then the statement's name ('' for the one just parsed).
          const portal = cString(body, 0);
          const name = cString(body, Buffer.byteLength(portal) + 1);
          if (name && !pending.includes(name)) pending.push(name);
        } else if (type === 'S') {
          trips.push(pending);
          pending = [];
        }
      }
    });
  });
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the proxy has no TCP address');
  const port = String(address.port);
  return {
    through(u) {
      const url = new URL(u);
      url.hostname = '127.0.0.1';
      url.port = port;
      return url.toString();
    },
    trips,
    reset: () => void trips.splice(0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString('utf8', at, end < 0 ? buf.length : end);
}
