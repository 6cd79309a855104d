/**
 * The load generator's own process (started by load-process.ts over IPC): runs one autocannon
 * run per message and answers with what it measured, its own CPU time included.
 */
import type { RequestSpec } from '../scenarios/types.js';
import { drive, type DriveOptions } from './load.js';
import type { ChildReply } from './load-process.js';

if (!process.send) throw new Error('load-child.ts runs as a forked child of the bench');
const send = (m: ChildReply | 'ready') => process.send!(m);

process.on('message', (m: { id: number; baseUrl: string; request: RequestSpec; opts: DriveOptions }) => {
  drive(m.baseUrl, m.request, m.opts).then(
    (result) => send({ id: m.id, result }),
    (err: unknown) => send({ id: m.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
process.on('SIGTERM', () => process.exit(0));
send('ready');
