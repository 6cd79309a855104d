import { z } from 'zod';

/**
 * What a cluster's primary and its workers tell each other over the IPC channel node:cluster
 * opens. prom-client's AggregatorRegistry shares the channel with its own `prom-client:*` types;
 * ours are `latchkey:*`, and anything else is ignored.
 */
export const workerMessage = z.discriminatedUnion('type', [
  /** The worker's server listens (on the port the primary bound for all). */
  z.object({ type: z.literal('latchkey:listening'), port: z.number().int() }),
  /** The worker could not start: the one line it would have printed, and its exit code. */
  z.object({ type: z.literal('latchkey:failed'), message: z.string(), exitCode: z.number().int() }),
  /** /metrics on the main port (METRICS_TOKEN) asks the primary for the whole cluster's. */
  z.object({ type: z.literal('latchkey:metrics?'), id: z.number().int() }),
]);
export type WorkerMessage = z.output<typeof workerMessage>;

export const primaryMessage = z.object({
  type: z.literal('latchkey:metrics'),
  id: z.number().int(),
  body: z.string().optional(),
  error: z.string().optional(),
});
export type PrimaryMessage = z.output<typeof primaryMessage>;

/** The environment variable by which the primary tells a worker its slot (0 … WORKERS-1). */
export const SLOT_VARIABLE = 'LATCHKEY_WORKER_SLOT';
