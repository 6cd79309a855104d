#!/usr/bin/env node
// The admin CLI, run from the TypeScript sources (no build step). tsx's loader is registered in
// this process, resolved from this package, so it works from any cwd and through `npx latchkey`.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// This package's tsconfig, not whatever tsconfig.json the caller's cwd happens to hold.
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { main } = await import('../src/cli/main.ts');

// A closed pipe (`latchkey clients list | head -1`) is not an error worth a stack trace.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const code = await main(process.argv.slice(2));
// Let buffered output reach a pipe, then exit even if a library left a handle open.
await new Promise((resolve) => process.stdout.write('', resolve));
await new Promise((resolve) => process.stderr.write('', resolve));
process.exit(code);
