#!/usr/bin/env node
// The admin CLI, run from the compiled JavaScript in dist/ (npm run build; npm start and npm test
// build first). Resolved from this file, so it works from any cwd and through `npx latchkey`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('latchkey: dist/ is missing: run npm run build\n');
  process.exit(1);
}
// Stack traces name the TypeScript sources, as `node --enable-source-maps` does for the server.
process.setSourceMapsEnabled(true);
const { main } = await import(entry.href);

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
