import cluster from 'node:cluster';
import pino from 'pino';
import { SLOT_VARIABLE, type WorkerMessage } from './cluster/messages.js';
import { clusterMetricsViaPrimary, shareWorkerMetrics } from './cluster/metrics.js';
import { WorkerStartupError, runPrimary } from './cluster/primary.js';
import { ConfigError, loadConfig } from './config.js';
import { loggerOptions } from './observability/logger.js';
import { operatorMessage } from './operator-errors.js';
import { serve } from './serve.js';

/**
 * WORKERS=1: this process serves (src/serve.ts). WORKERS>1: this process is the cluster's primary
 * (src/cluster/primary.ts) and forks the workers, which run this same file as cluster workers.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino(loggerOptions(config.logLevel));
  if (cluster.isWorker) {
    const slot = process.env[SLOT_VARIABLE] ?? '0';
    await serve(config, log.child({ worker: Number(slot) }), {
      kind: 'worker',
      // Slot 0 purges expired rows, and so does its replacement after a restart.
      cleanup: slot === '0',
      shareMetrics: shareWorkerMetrics,
      metricsSource: clusterMetricsViaPrimary(),
      onListening: (port) => process.send?.({ type: 'latchkey:listening', port } satisfies WorkerMessage),
    });
  } else if (config.workers > 1) {
    await runPrimary(config, log);
  } else {
    await serve(config, log, { kind: 'single' });
  }
}

main().catch((err: unknown) => {
  // A failure the operator can fix is one line naming the setting; anything else is a bug.
  const message = operatorMessage(err) ?? (err instanceof Error ? (err.stack ?? err.message) : String(err));
  const exitCode = err instanceof ConfigError ? 78 : err instanceof WorkerStartupError ? err.exitCode : 1; // 78: EX_CONFIG
  if (cluster.isWorker && process.send) {
    // The primary prints it, once, however many workers failed alike (e.g. the port is taken).
    process.send({ type: 'latchkey:failed', message, exitCode } satisfies WorkerMessage, () => process.exit(exitCode));
    return;
  }
  process.stderr.write(`latchkey: ${message}\n`);
  process.exit(exitCode);
});
