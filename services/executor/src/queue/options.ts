import { InvalidArgumentError } from "@prescient/core";
import { maxPartitions } from "./partitions.js";

export interface TaskQueueOptions {
  /**
   * Most tasks queued, delayed, failed (awaiting retry) or processing at once.
   * Enqueue beyond it throws ResourceExhaustedError. Default 1,000,000.
   */
  capacity: number;
  /** Lease of a claimed task; a worker that does not ack, fail or extend in time loses it. Default 30 s. */
  leaseMs: number;
  /** Attempts (claims) before a task is dead-lettered. Default 5. */
  maxAttempts: number;
  /** First retry delay; it doubles per attempt, with jitter over its upper half. Default 1 s. */
  backoffBaseMs: number;
  /** Retry delays stop growing here. Default 5 min. */
  backoffMaxMs: number;
  /**
   * How long a completed task's record stays readable (get, getByKey). Default
   * 5 min. Records cost memory: at 30k tasks/s, 5 min is 9M records, so
   * lower it for high throughput.
   */
  retentionMs: number;
  /**
   * Most dead letters kept. A task dead-lettered beyond it pushes out the
   * oldest deaths (their records are deleted), so a flood of doomed work
   * cannot grow the store without limit. Default 100,000.
   */
  deadLetterCapacity: number;
  /**
   * How long a dead letter is kept before it is deleted, counted from its
   * death. Long enough for an operator to look and requeue. Default 7 days.
   */
  deadLetterRetentionMs: number;
  /**
   * Told of dead letters deleted unasked: pushed out by deadLetterCapacity or
   * aged out by deadLetterRetentionMs. The executor counts them in
   * Prometheus (queue-metrics.ts). Default: nothing.
   */
  onDeadLettersDropped: (reason: DeadLetterDropReason, count: number) => void;
  /**
   * Namespace of the queue in Redis; it becomes the hash tag `{keyPrefix}`.
   * Two queues with different prefixes are independent. Default "prescient:q".
   */
  keyPrefix: string;
  /**
   * Partitions of the Redis queue, each with its own hash tag, so that a Redis
   * Cluster spreads the queue over several slots (partitions.ts: key layout,
   * id format, routing). Enqueue routes a task by its key, so dedup holds;
   * claims take from the partitions in turn; capacity and deadLetterCapacity
   * are split evenly over them. 1, the default, is the unpartitioned layout
   * of earlier versions. The memory queue accepts and ignores it.
   */
  partitions: number;
  /**
   * Synchronous replication for enqueue: after the enqueue script, `WAIT
   * replicas timeoutMs` runs on the same connection to the partition's
   * master, and an enqueue that fewer replicas acknowledged in time fails
   * UNAVAILABLE. Undefined, the default, answers as soon as the master has
   * the write.
   *
   * What is promised. Redis replicates asynchronously, so without this an
   * acknowledged enqueue is lost if its master dies before a replica has it
   * and that replica is promoted (failover.test.ts measures how often). With
   * it, an acknowledged enqueue is on the master and on `replicas` replicas,
   * and survives the loss of the master as long as one of those replicas is
   * the one promoted (with every replica acknowledging, any promoted one).
   * It is not fsync (set appendfsync for that), and claims, acks and fails
   * stay asynchronous: after a failover a claim or ack can be lost, so a
   * task can run again (at least once), never be lost. A failed durable
   * enqueue may still have been written: retry it, and dedup by key merges
   * the retry into that task while it waits; if a worker has already run it,
   * the retry queues it again (a duplicate, as failover.test.ts counts). The
   * cost: every enqueue waits one
   * replication round trip, and while a partition's master has fewer than
   * `replicas` live replicas (e.g. after its only replica was promoted),
   * enqueues into it fail until a replica rejoins: availability is traded
   * for durability. The memory queue ignores it.
   */
  durableEnqueue: DurableEnqueue | undefined;
  /** Source of jitter in [0, 1). Default Math.random. */
  random: () => number;
}

/** See TaskQueueOptions.durableEnqueue. */
export interface DurableEnqueue {
  /** Replicas that must acknowledge an enqueue's write (1 to 16). */
  replicas: number;
  /** How long WAIT waits for them, ms (at least 1: WAIT's 0 would block forever). */
  timeoutMs: number;
}

/** Why a dead letter was deleted without a purge. */
export type DeadLetterDropReason = "capacity" | "retention";

export const defaultTaskQueueOptions: Readonly<TaskQueueOptions> = {
  capacity: 1_000_000,
  leaseMs: 30_000,
  maxAttempts: 5,
  backoffBaseMs: 1_000,
  backoffMaxMs: 300_000,
  retentionMs: 300_000,
  deadLetterCapacity: 100_000,
  deadLetterRetentionMs: 7 * 24 * 3_600_000,
  onDeadLettersDropped: () => {},
  keyPrefix: "prescient:q",
  partitions: 1,
  durableEnqueue: undefined,
  random: Math.random,
};

/** Most replicas durableEnqueue can ask for; more than any deployment runs per master. */
export const maxDurableReplicas = 16;

/** Hard limits that keep one store call (one Lua script) short. */
export const queueLimits = {
  /** Most tasks per enqueueMany. */
  enqueueBatchMax: 10_000,
  /** Most tasks per claim, ack, fail, release or extendLease call. */
  batchMax: 5_000,
  /** Largest payload, in bytes. */
  payloadMaxBytes: 64 * 1024,
  errorMaxLength: 2_048,
  workerIdMaxLength: 256,
  /** Largest dead-letter page. */
  pageSizeMax: 1_000,
  defaultPageSize: 100,
  /** Most expired leases returned, and delayed tasks promoted per type, in one step. */
  housekeepingBatch: 1_000,
} as const;

/** Applies the defaults and validates: the one place where queue options are resolved. */
export function resolveTaskQueueOptions(options: Partial<TaskQueueOptions> = {}): TaskQueueOptions {
  const o: TaskQueueOptions = { ...defaultTaskQueueOptions };
  for (const [name, value] of Object.entries(options)) {
    if (value !== undefined) Object.assign(o, { [name]: value });
  }
  positiveInteger("capacity", o.capacity);
  positiveInteger("leaseMs", o.leaseMs);
  positiveInteger("maxAttempts", o.maxAttempts);
  nonNegativeInteger("backoffBaseMs", o.backoffBaseMs);
  nonNegativeInteger("backoffMaxMs", o.backoffMaxMs);
  nonNegativeInteger("retentionMs", o.retentionMs);
  positiveInteger("deadLetterCapacity", o.deadLetterCapacity);
  positiveInteger("deadLetterRetentionMs", o.deadLetterRetentionMs);
  positiveInteger("partitions", o.partitions);
  if (o.partitions > maxPartitions)
    throw new InvalidArgumentError(
      `task queue option partitions must be at most ${maxPartitions}, got ${o.partitions}`,
    );
  // Each partition holds its share of the capacities (partitions.ts), and a share of 0 holds nothing.
  if (o.capacity < o.partitions || o.deadLetterCapacity < o.partitions)
    throw new InvalidArgumentError(
      `task queue options capacity and deadLetterCapacity must be at least partitions (${o.partitions})`,
    );
  if (o.backoffMaxMs < o.backoffBaseMs)
    throw new InvalidArgumentError("task queue option backoffMaxMs must be at least backoffBaseMs");
  // No braces: the prefix becomes the Redis Cluster hash tag `{keyPrefix}`. No '#': partitions use it.
  if (!/^[A-Za-z0-9:._-]{1,64}$/.test(o.keyPrefix))
    throw new InvalidArgumentError(
      `task queue option keyPrefix ${JSON.stringify(o.keyPrefix)} must be 1 to 64 of [A-Za-z0-9:._-]`,
    );
  if (o.durableEnqueue !== undefined) {
    const { replicas, timeoutMs } = o.durableEnqueue;
    if (!Number.isSafeInteger(replicas) || replicas < 1 || replicas > maxDurableReplicas)
      throw new InvalidArgumentError(
        `task queue option durableEnqueue.replicas must be an integer in 1..${maxDurableReplicas}, got ${replicas}`,
      );
    positiveInteger("durableEnqueue.timeoutMs", timeoutMs);
  }
  if (typeof o.random !== "function")
    throw new InvalidArgumentError("task queue option random must be a function");
  if (typeof o.onDeadLettersDropped !== "function")
    throw new InvalidArgumentError("task queue option onDeadLettersDropped must be a function");
  return o;
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new InvalidArgumentError(`task queue option ${name} must be a positive integer, got ${value}`);
}

function nonNegativeInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new InvalidArgumentError(`task queue option ${name} must be a non-negative integer, got ${value}`);
}
