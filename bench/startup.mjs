#!/usr/bin/env node
// Start-up time and memory of one Latchkey process on a fresh embedded database: spawns the
// command, times it from spawn to its `listening` log line, reads its resident memory there
// (/proc/<pid>/status VmRSS, Linux), stops it with SIGTERM and prints one JSON line.
//
//   node bench/startup.mjs                                   # node --enable-source-maps dist/main.js
//   node bench/startup.mjs -- node --import tsx src/main.ts  # any command that starts the server
//
// One start per call (each pays for a new DATA_DIR: migrations and key generation; with
// DATABASE_URL and LATCHKEY_SECRET set, the server uses that database instead); run it several
// times, e.g. `for i in 1 2 3 4 5; do node bench/startup.mjs; done`, and quote the median.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dashes = process.argv.indexOf('--');
const [command, ...args] = dashes < 0 ? [process.execPath, '--enable-source-maps', 'dist/main.js'] : process.argv.slice(dashes + 1);
const TIMEOUT_MS = 60_000;

const port = await new Promise((resolve, reject) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port: p } = s.address();
    s.close(() => resolve(p));
  });
  s.on('error', reject);
});
const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-startup-'));
try {
  const started = performance.now();
  const child = spawn(command, args, {
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let output = '';
  const listeningMs = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line within ${TIMEOUT_MS} ms:\n${output}`)), TIMEOUT_MS);
    const onData = (d) => {
      output += d;
      if (/listening/.test(output)) {
        clearTimeout(timer);
        resolve(performance.now() - started);
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
  });
  const rssKiB = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
  child.kill('SIGTERM');
  await exited;
  process.stdout.write(`${JSON.stringify({ command: [command, ...args].join(' '), listeningMs: Math.round(listeningMs), rssKiB })}\n`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
