import { randomUUID } from "node:crypto";
import { errorMessage, systemClock } from "@prescient/core";
import { createLogger, type Logger } from "@prescient/kit";
import { linksFromCarriers, withSpan } from "@prescient/tracing";
import type { AckResult, ClaimedTask, ClaimHolder, TaskQueue } from "../queue/index.js";
import {
  type BatchDeps,
  type BatchOptions,
  batchDefaults,
  batchOptionsOf,
  processBatch,
} from "./batch-processor.js";
import { BatchTrace } from "./batch-trace.js";
import { logDeadLetters } from "./dead-letter-log.js";
import type { WorkerMetrics } from "./worker-metrics.js";

export interface WorkerPoolOptions {
  /**
   * Tasks claimed at once. Default 512: every claim costs a claim, a feature
   * read, a PutMany and an ack whatever its size, and a claim of two model
   * batches (rowsPerCall) pays them once for both (executor bench, 100,000 ctr
   * tasks, 4 in flight: 512 ran 26.5-27.8k tasks/s at 61.9-64.1 us of CPU per
   * task, 256 ran 24.6-24.7k at 66.2-66.8 us).
   */
  claimSize: number;
  /**
   * Batches processed at once. Default 4: a batch's steps wait on Redis, the
   * predictor and the cache in turn, so with 2 each of them idled between
   * batches (measured on loopback, 256-task claims: 2 in flight ran 23.1-23.5k
   * tasks/s, 4 ran 27.0-27.6k at slightly less CPU per task, 8 ran 28.5-30.1k).
   * Each batch in flight holds its claims' leases.
   */
  batchesInFlight: number;
  /** Most tasks of one type per ModelInfer or Handle (BatchOptions.rowsPerCall). Default 256. */
  rowsPerCall: number;
  /** Most results per PutMany (BatchOptions.putEntries). Default 1000. */
  putEntries: number;
  /** Only these task types; empty means all. Default []. */
  taskTypes: string[];
  /** Lease of claimed tasks; extended while a batch runs long. Default 30 s. */
  leaseMs: number;
  /** Longest wait between claims when the queue is empty. Default 200 ms. */
  maxIdleMs: number;
  /** Worker identity recorded on claimed tasks. Default executor-<random>. */
  workerId: string;
  logger: Logger;
  /** Where claims and task outcomes are counted. Default none. */
  metrics: WorkerMetrics | undefined;
}

const noAck: Promise<AckResult> = Promise.resolve({ completed: 0, refused: [] });

const defaults = (): WorkerPoolOptions => ({
  claimSize: 512,
  batchesInFlight: 4,
  ...batchDefaults,
  taskTypes: [],
  leaseMs: 30_000,
  maxIdleMs: 200,
  workerId: `executor-${randomUUID().slice(0, 8)}`,
  logger: createLogger("executor"),
  metrics: undefined,
});

export interface PoolCounters {
  batches: number;
  completed: number;
  failed: number;
}

/**
 * Claim loops over the task queue. Each loop claims a batch, processes it
 * (one ModelInfer per group, one PutMany for all), then acks and fails in one
 * round trip each. An empty queue backs the loop off up to `maxIdleMs`; a
 * failing queue (Redis down) backs it off the same way and logs.
 */
export class WorkerPool {
  readonly options: WorkerPoolOptions;
  readonly counters: PoolCounters = { batches: 0, completed: 0, failed: 0 };
  readonly #queue: TaskQueue;
  readonly #deps: BatchDeps;
  readonly #batch: BatchOptions;
  #running = false;
  #loops: Promise<void>[] = [];
  #wake: (() => void) | undefined;

  constructor(queue: TaskQueue, deps: BatchDeps, options?: Partial<WorkerPoolOptions>) {
    this.#queue = queue;
    this.#deps = deps;
    this.options = { ...defaults(), ...options };
    const { claimSize, batchesInFlight, rowsPerCall, putEntries } = this.options;
    for (const [name, v] of Object.entries({ claimSize, batchesInFlight }))
      if (!Number.isSafeInteger(v) || v < 1)
        throw new RangeError(`WorkerPool ${name} must be a positive integer`);
    this.#batch = batchOptionsOf({ rowsPerCall, putEntries });
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loops = Array.from({ length: this.options.batchesInFlight }, (_, i) => this.#loop(i));
  }

  /** Ends idle waits early, e.g. right after an enqueue in this process. */
  nudge(): void {
    this.#wake?.();
  }

  /**
   * Stops claiming and waits for the batches in flight to finish (they ack or
   * fail their tasks). Batches are processed whole, so nothing claimed is left
   * unstarted; a worker killed outright loses its leases and the tasks return.
   */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await Promise.all(this.#loops);
  }

  async #loop(index: number): Promise<void> {
    const workerId = `${this.options.workerId}/${index}`;
    // Every end of this loop's claims names it, so a lease lost meanwhile is not ended.
    const holder: ClaimHolder = { workerId };
    let idleMs = 1;
    while (this.#running) {
      let claimed: ClaimedTask[] = [];
      try {
        claimed = await this.#queue.claim(this.options.claimSize, {
          workerId,
          leaseMs: this.options.leaseMs,
          ...(this.options.taskTypes.length > 0 ? { taskTypes: this.options.taskTypes } : {}),
        });
      } catch (err) {
        this.options.logger.warn({ err: errorMessage(err) }, "claim failed; backing off");
        idleMs = this.options.maxIdleMs;
      }
      if (claimed.length === 0) {
        await this.#sleep(idleMs);
        idleMs = Math.min(this.options.maxIdleMs, idleMs * 2);
        continue;
      }
      idleMs = 1;
      this.options.metrics?.claimed(claimed.length);
      if (!this.#running) {
        // Claimed just as shutdown began: hand the tasks back unstarted.
        const ids = claimed.map((t) => t.id);
        await this.#queue.release(ids, holder).catch(() => 0);
        this.options.metrics?.released(claimed.length);
        return;
      }
      await this.#run(claimed, holder);
    }
  }

  /** Runs one claimed batch; every end of its claims names `holder`. */
  async #run(claimed: ClaimedTask[], holder: ClaimHolder): Promise<void> {
    const ids = claimed.map((t) => t.id);
    // A batch that outlives half its lease extends it, so a slow predictor does not hand the tasks to a second worker.
    const extender = setInterval(() => {
      void this.#queue.extendLease(ids, this.options.leaseMs, holder).catch(() => 0);
    }, this.options.leaseMs / 2);
    extender.unref();
    try {
      const links = linksFromCarriers(
        claimed.map((t) => (t.traceparent ? { traceparent: t.traceparent } : undefined)),
      );
      const { completed, failures, failed, refused } = await withSpan(
        "executor.batch",
        {},
        async (span) => {
          const traced = new BatchTrace(span, claimed);
          try {
            const outcome = await processBatch(claimed, this.#deps, this.#batch);
            const failures = outcome.failed.map((f) => ({
              id: f.id,
              error: f.error,
              permanent: f.permanent,
            }));
            const [acked, failed] = await Promise.all([
              outcome.completed.length > 0 ? this.#queue.ack(outcome.completed, holder) : noAck,
              failures.length > 0 ? this.#queue.failMany(failures, holder) : Promise.resolve([]),
            ]);
            // Completed are only those acked: a refused one is another claim's to complete and count.
            let completed = outcome.completed;
            if (acked.refused.length > 0) {
              this.options.logger.warn(
                { tasks: acked.refused.length },
                "results written for tasks this worker no longer held (their lease ran out): another worker holds them, or the queue runs them again",
              );
              const refused = new Set(acked.refused);
              completed = completed.filter((id) => !refused.has(id));
            }
            traced.settle(completed, failures, failed, acked.refused);
            return { completed, failures, failed, refused: acked.refused };
          } finally {
            // A throw leaves every task unsettled; settling twice is a no-op.
            traced.settle([], [], []);
          }
        },
        { links },
      );
      logDeadLetters(this.options.logger, claimed, failures, failed);
      this.options.metrics?.settled(
        claimed,
        completed,
        failed,
        (this.#deps.clock ?? systemClock).now(),
        refused,
      );
      this.counters.batches++;
      this.counters.completed += completed.length;
      this.counters.failed += failures.length;
    } catch (err) {
      // The queue itself failed mid-batch: the leases run out and the tasks come back.
      this.options.logger.error({ err: errorMessage(err), tasks: ids.length }, "batch could not be settled");
    } finally {
      clearInterval(extender);
      this.options.metrics?.released(claimed.length);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}
