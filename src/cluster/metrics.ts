import { AggregatorRegistry, Registry } from 'prom-client';
import type { MetricsSource } from '../endpoints/metrics.js';
import { primaryMessage, type WorkerMessage } from './messages.js';

/**
 * Metrics under WORKERS. Each worker counts in its own registry; prom-client's AggregatorRegistry,
 * in the primary, asks every worker for its registry over IPC and adds them up (counters and
 * histograms summed, process gauges by their own aggregators), so a scrape sees the service and
 * not whichever worker the connection landed on.
 */

/** In a worker: answer the primary's collection requests with this registry. */
export function shareWorkerMetrics(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  // The constructor installs the worker's IPC listener (idempotent).
  new AggregatorRegistry();
}

/** In the primary: the whole cluster's exposition (what METRICS_PORT serves). */
export function clusterMetrics(): MetricsSource {
  const aggregator = new AggregatorRegistry<MetricsSource['contentType']>();
  return { metrics: () => aggregator.clusterMetrics(), contentType: aggregator.contentType };
}

/**
 * In a worker: the whole cluster's exposition, asked of the primary (for /metrics on the main
 * port). Times out like the primary's own collection does (5 s), so a scrape never hangs.
 */
export function clusterMetricsViaPrimary(): MetricsSource {
  const contentType = Registry.PROMETHEUS_CONTENT_TYPE;
  let next = 0;
  const pending = new Map<number, { resolve: (body: string) => void; reject: (err: Error) => void }>();
  process.on('message', (raw: unknown) => {
    const parsed = primaryMessage.safeParse(raw);
    if (!parsed.success) return;
    const waiter = pending.get(parsed.data.id);
    if (!waiter) return;
    pending.delete(parsed.data.id);
    if (parsed.data.body !== undefined) waiter.resolve(parsed.data.body);
    else waiter.reject(new Error(`the cluster's metrics could not be collected: ${parsed.data.error ?? 'no answer'}`));
  });
  return {
    contentType,
    metrics: () =>
      new Promise<string>((resolve, reject) => {
        const id = next++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error("the cluster's metrics could not be collected within 6 s"));
        }, 6000);
        pending.set(id, {
          resolve: (body) => {
            clearTimeout(timer);
            resolve(body);
          },
          reject: (err) => {
            clearTimeout(timer);
            reject(err);
          },
        });
        const ask: WorkerMessage = { type: 'latchkey:metrics?', id };
        process.send?.(ask);
      }),
  };
}
