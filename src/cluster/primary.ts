import cluster, { type Worker } from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { prepareStore, resolveSecret } from '../app.js';
import { PasswordHasher, passwordHashParameters } from '../users/password.js';
import { applyBootstrap, bootstrapFileNotice, readBootstrapFile } from '../bootstrap.js';
import { systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { buildMetricsServer } from '../metrics-server.js';
import { StartupError } from '../operator-errors.js';
import { listen, logListening, metricsTarget, metricsUrl } from '../serve.js';
import { onlyRow } from '../store/db.js';
import { openDb } from '../store/open.js';
import { SLOT_VARIABLE, workerMessage, type PrimaryMessage } from './messages.js';
import { clusterMetrics } from './metrics.js';
import { afterWorkerDeath, DEFAULT_RESTART_POLICY, type RestartPolicy, type SlotHistory } from './restart-policy.js';

/** A worker that could not start; its exit code becomes the primary's. */
export class WorkerStartupError extends StartupError {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** How long the workers have to drain after SIGTERM (each force-closes its connections at 10 s). */
const DRAIN_TIMEOUT_MS = 15_000;

interface Slot {
  index: number;
  worker?: Worker;
  forkedAt: number;
  listening: boolean;
  /** The one line the worker reported when it could not start. */
  failure?: string | undefined;
  history: SlotHistory;
  restartTimer?: NodeJS.Timeout;
}

/**
 * Runs once, before any worker exists: migrations, first signing keys, the bootstrap file. The
 * workers then only read (src/app.ts `prepared`), so they never race on these — and if an
 * operator starts several clusters at once, these are safe under concurrency anyway.
 */
async function prepareOnce(config: Config, log: Logger): Promise<void> {
  const secrets = resolveSecret(config, log);
  const db = await openDb(config, (err) => log.error({ err }, 'database connection error'));
  try {
    await prepareStore(db, config, secrets, systemClock, log);
    // Each worker has its own pool: WORKERS × DB_POOL_MAX connections at most, which PostgreSQL
    // must allow next to everyone else's (superuser connections are reserved apart).
    const r = await db.query<{ max: string; reserved: string }>(
      "SELECT current_setting('max_connections') AS max, current_setting('superuser_reserved_connections') AS reserved",
    );
    const row = onlyRow(r);
    const allowed = Number(row.max) - Number(row.reserved);
    const wanted = config.workers * config.dbPoolMax;
    if (wanted > allowed) {
      log.warn(
        { workers: config.workers, dbPoolMax: config.dbPoolMax, wanted, allowed },
        `WORKERS × DB_POOL_MAX = ${wanted} connections, but PostgreSQL allows ${allowed}: under load, requests will wait for connections and fail; lower DB_POOL_MAX or WORKERS, or raise max_connections`,
      );
    }
    if (config.bootstrap) {
      const bootstrap = readBootstrapFile(config.bootstrap, { issuer: config.issuer });
      const notice = bootstrapFileNotice(config.bootstrap);
      if (notice) log.warn({ file: config.bootstrap }, notice);
      const result = await applyBootstrap(db, secrets, bootstrap, new PasswordHasher(passwordHashParameters(config)));
      log.info({ file: config.bootstrap, ...result }, 'applied bootstrap file');
    }
  } finally {
    await db.close().catch(() => {});
  }
}

const describeExit = (code: number | null, signal: string | null) => (signal ? `signal ${signal}` : `code ${code}`);

/**
 * The cluster's primary (WORKERS > 1): prepares the store once, forks the workers, which share
 * the port (node:cluster hands connections out round-robin on Linux), says `listening` once all
 * of them listen, restarts one that dies, serves METRICS_PORT over all of them, and on SIGTERM or
 * SIGINT drains them all and exits 0. It serves no request itself and holds no database connection.
 */
export async function runPrimary(config: Config, log: Logger, policy: RestartPolicy = DEFAULT_RESTART_POLICY): Promise<void> {
  let closing = false;
  let started = false;
  let metricsServer: FastifyInstance | undefined;
  const slots: Slot[] = [];
  const metrics = clusterMetrics();
  let startup!: { resolve: (port: number) => void; reject: (err: Error) => void };
  const allListening = new Promise<number>((resolve, reject) => (startup = { resolve, reject }));
  let port = 0;

  const live = () => slots.flatMap((s) => (s.worker && !s.worker.isDead() ? [s.worker] : []));

  /** Stops every worker (SIGTERM: each drains), then resolves with whether all exited 0. */
  const stopWorkers = async (): Promise<boolean> => {
    for (const s of slots) clearTimeout(s.restartTimer);
    let clean = true;
    const exits = live().map(
      (w) =>
        new Promise<void>((resolve) => {
          w.once('exit', (code, signal) => {
            if (code !== 0 || signal) clean = false;
            resolve();
          });
        }),
    );
    for (const w of live()) w.process.kill('SIGTERM');
    const force = setTimeout(() => {
      clean = false;
      log.error({ timeoutMs: DRAIN_TIMEOUT_MS }, 'workers did not finish draining in time: killing them');
      for (const w of live()) w.process.kill('SIGKILL');
    }, DRAIN_TIMEOUT_MS);
    await Promise.all(exits);
    clearTimeout(force);
    return clean;
  };

  const shutdown = async (signal: string, exitCode = 0) => {
    if (closing) return;
    closing = true;
    log.info({ signal, workers: live().length }, 'shutting down: draining every worker');
    const clean = await stopWorkers();
    await metricsServer?.close().catch(() => {});
    log.info('stopped');
    process.exit(exitCode !== 0 ? exitCode : clean ? 0 : 1);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  const fork = (slot: Slot) => {
    slot.forkedAt = Date.now();
    slot.listening = false;
    slot.failure = undefined;
    const w = cluster.fork({ [SLOT_VARIABLE]: String(slot.index) });
    slot.worker = w;
    w.on('message', (raw: unknown) => {
      const parsed = workerMessage.safeParse(raw);
      if (!parsed.success) return;
      const m = parsed.data;
      if (m.type === 'latchkey:listening') {
        slot.listening = true;
        port = m.port;
        if (started) log.info({ worker: slot.index, pid: w.process.pid }, 'worker restarted and listening');
        else if (slots.every((s) => s.listening)) startup.resolve(port);
      } else if (m.type === 'latchkey:failed') {
        slot.failure = m.message;
      } else {
        metrics.metrics().then(
          (body) => w.send({ type: 'latchkey:metrics', id: m.id, body } satisfies PrimaryMessage),
          (err: unknown) =>
            w.send({
              type: 'latchkey:metrics',
              id: m.id,
              error: err instanceof Error ? err.message : String(err),
            } satisfies PrimaryMessage),
        );
      }
    });
    w.on('exit', (code, signal) => onExit(slot, w, code, signal));
  };

  const onExit = (slot: Slot, w: Worker, code: number | null, signal: string | null) => {
    if (slot.worker !== w) return;
    if (closing) return; // stopWorkers waits for it
    const how = describeExit(code, signal);
    if (!started) {
      // A worker that cannot start stops the start: its one line is the reason.
      startup.reject(
        new WorkerStartupError(slot.failure ?? `worker ${slot.index} exited with ${how} before listening`, code && code > 0 ? code : 1),
      );
      return;
    }
    const decision = afterWorkerDeath(slot.history, Date.now() - slot.forkedAt, policy);
    slot.history = decision.history;
    if (decision.action === 'give-up') {
      const reason = slot.failure ?? `exited with ${how}`;
      log.fatal(
        { worker: slot.index, pid: w.process.pid, exitCode: code, signal, deaths: decision.history.soonDeaths },
        `worker ${slot.index} keeps dying within seconds of starting (${reason}): stopping`,
      );
      process.stderr.write(`latchkey: worker ${slot.index} keeps dying within seconds of starting: ${reason}\n`);
      void shutdown('worker-failure', code && code > 0 ? code : 1);
      return;
    }
    log.error(
      {
        worker: slot.index,
        pid: w.process.pid,
        // Not `code`: the logger redacts that name (authorization codes).
        exitCode: code,
        signal,
        restartInMs: decision.delayMs,
        ...(slot.failure ? { reason: slot.failure } : {}),
      },
      `worker ${slot.index} exited with ${how}: restarting it${decision.delayMs ? ` in ${decision.delayMs} ms` : ''}`,
    );
    slot.restartTimer = setTimeout(() => {
      if (!closing) fork(slot);
    }, decision.delayMs);
  };

  await prepareOnce(config, log);
  for (let i = 0; i < config.workers; i++) slots.push({ index: i, forkedAt: 0, listening: false, history: { soonDeaths: 0 } });
  for (const s of slots) fork(s);
  try {
    port = await allListening;
    if (config.metricsPort !== undefined) {
      metricsServer = buildMetricsServer({ config, metrics: { registry: metrics } });
      const metricsPort = await listen(metricsServer, metricsTarget(config));
      logListening(log, config, port, metricsUrl(config, metricsPort), config.workers);
    } else {
      logListening(log, config, port, undefined, config.workers);
    }
    started = true;
  } catch (err) {
    closing = true;
    await stopWorkers();
    await metricsServer?.close().catch(() => {});
    throw err;
  }
}
