import {
  CancelledError,
  type Clock,
  DeadlineExceededError,
  InvalidArgumentError,
  UnavailableError,
} from "@prescient/core";
import type { HostTensor } from "../tensors/datatypes.js";
import { type BatchPolicy, BatchQueue, type QueueItem } from "./batch-queue.js";
import { mergeInputs, splitOutputs } from "./merge.js";

/** Runs one merged batch on one model instance (an ONNX Runtime session). */
export type BatchRunner = (inputs: HostTensor[]) => Promise<HostTensor[]>;

export interface SubmitOptions {
  /** 0-based priority level, 0 highest. */
  level: number;
  /** Absolute time (ms, by the batcher's clock) after which a still-queued request fails. */
  deadlineMs: number | undefined;
  /** Told when the client cancels (CallContext.onCancel): a queued request leaves the queue. */
  cancellation: Cancellation | undefined;
}

/** How a request learns that its client gave up: a listener, and a function that takes it back. */
export interface Cancellation {
  onCancel(listener: () => void): () => void;
}

export interface InferOutcome {
  outputs: HostTensor[];
  queueMs: number;
  computeMs: number;
  /** Rows in the batch this request ran in. */
  batchRows: number;
}

/** Epoch milliseconds with sub-millisecond precision, so queue and compute times are meaningful for small models. */
export const preciseClock: Clock = { now: () => performance.timeOrigin + performance.now() };

/** Told of every batch execution, for metrics. */
export type ExecutionObserver = (batch: { requests: number; rows: number; computeMs: number }) => void;

interface Pending extends QueueItem {
  inputs: HostTensor[];
  resolve: (outcome: InferOutcome) => void;
  reject: (error: unknown) => void;
  detach: () => void;
}

/**
 * The per-version dynamic batcher: queues requests, forms batches by the
 * BatchQueue policy whenever one of the instances is free, merges their
 * tensors, runs them, and splits the outputs back.
 */
export class DynamicBatcher {
  readonly #policy: BatchPolicy;
  readonly #queue: BatchQueue<Pending>;
  readonly #idle: BatchRunner[];
  readonly #clock: Clock;
  readonly #observe: ExecutionObserver;
  readonly #inFlight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #timerDue = Number.POSITIVE_INFINITY;
  #closing = false;

  constructor(
    policy: BatchPolicy,
    runners: BatchRunner[],
    clock: Clock = preciseClock,
    observe: ExecutionObserver = () => {},
  ) {
    if (runners.length === 0) throw new Error("a batcher needs at least one runner");
    this.#policy = policy;
    this.#queue = new BatchQueue(policy);
    this.#idle = [...runners];
    this.#clock = clock;
    this.#observe = observe;
  }

  /** Requests waiting for an instance. */
  get pending(): number {
    return this.#queue.size;
  }

  submit(inputs: HostTensor[], options: SubmitOptions): Promise<InferOutcome> {
    if (this.#closing) return Promise.reject(new UnavailableError("model version is unloading"));
    const rows = inputs[0]?.shape[0] ?? 1;
    if (this.#policy.maxBatchSize > 0 && rows > this.#policy.maxBatchSize)
      return Promise.reject(
        new InvalidArgumentError(
          `request has ${rows} rows; the model's max_batch_size is ${this.#policy.maxBatchSize}`,
        ),
      );
    return new Promise<InferOutcome>((resolve, reject) => {
      const item: Pending = {
        rows,
        level: options.level,
        enqueuedAt: this.#clock.now(),
        deadlineMs: options.deadlineMs,
        shapeKey: inputs.map((t) => t.shape.slice(1).join("x")).join(";"),
        inputs,
        resolve,
        reject,
        detach: () => {},
      };
      this.#queue.push(item);
      // A request already cancelled leaves at once: the listener runs as it is added.
      item.detach =
        options.cancellation?.onCancel(() => {
          if (this.#queue.remove(item))
            reject(new CancelledError("request cancelled by the client while queued"));
        }) ?? item.detach;
      this.#pump();
    });
  }

  /** Stops taking requests, runs everything queued, and waits for running batches. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#pump();
    while (this.#inFlight.size > 0 || this.#queue.size > 0) {
      await Promise.race(this.#inFlight);
      this.#pump();
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  #pump(): void {
    const now = this.#clock.now();
    for (const item of this.#queue.takeExpired(now)) {
      item.detach();
      item.reject(
        new DeadlineExceededError(`request timed out after ${now - item.enqueuedAt} ms in the queue`),
      );
    }
    let waitUntil = Number.POSITIVE_INFINITY;
    while (this.#idle.length > 0) {
      const decision = this.#queue.decide(now, this.#closing);
      if (decision.kind === "idle") break;
      if (decision.kind === "wait") {
        waitUntil = decision.untilMs;
        break;
      }
      this.#start(this.#idle.pop()!, decision.batch, now);
    }
    this.#schedule(Math.min(waitUntil, this.#queue.nextDeadline() ?? Number.POSITIVE_INFINITY));
  }

  #schedule(due: number): void {
    if (due === this.#timerDue) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = due;
    if (!Number.isFinite(due)) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerDue = Number.POSITIVE_INFINITY;
        this.#pump();
      },
      Math.max(0, due - this.#clock.now()),
    );
  }

  #start(runner: BatchRunner, batch: Pending[], startedAt: number): void {
    for (const item of batch) item.detach();
    const rowsPer = batch.map((item) => item.rows);
    const batchRows = rowsPer.reduce((a, b) => a + b, 0);
    const run = (async () => {
      try {
        const outputs = await runner(mergeInputs(batch.map((item) => item.inputs)));
        const computeMs = this.#clock.now() - startedAt;
        this.#observe({ requests: batch.length, rows: batchRows, computeMs });
        const split = splitOutputs(outputs, rowsPer);
        for (const [i, item] of batch.entries())
          item.resolve({ outputs: split[i]!, queueMs: startedAt - item.enqueuedAt, computeMs, batchRows });
      } catch (e) {
        for (const item of batch) item.reject(e);
      }
    })();
    this.#inFlight.add(run);
    void run.finally(() => {
      this.#inFlight.delete(run);
      this.#idle.push(runner);
      this.#pump();
    });
  }
}
