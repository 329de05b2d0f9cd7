import type { TaskReason } from "@prescient/core";

/**
 * The task queue's contract: plain types, no Redis, no gRPC. Two stores
 * implement it (MemoryTaskQueue for one process, RedisTaskQueue for a fleet)
 * and one conformance suite holds both to the same behaviour.
 *
 * All times are milliseconds since the Unix epoch, read from the injected
 * Clock, so the evaluator and the tests can drive the queue on virtual time.
 */

export { type TaskReason, taskReasons } from "@prescient/core";

/**
 * - queued: waiting to be claimed (possibly not before `notBefore`)
 * - processing: claimed by a worker under a lease
 * - completed: acked; the record is kept for `retentionMs`
 * - failed: the last attempt failed; waiting for its retry at `notBefore`
 * - dead: out of attempts; in the dead-letter set until requeued or purged
 */
export const taskStates = ["queued", "processing", "completed", "failed", "dead"] as const;
export type TaskState = (typeof taskStates)[number];

/** What to enqueue. */
export interface NewTask {
  /** Canonical key `{tenant}/{task_type}/{escaped id}` (formatKey). */
  key: string;
  taskType: string;
  tenant: string;
  /** 1 (lowest) to 10 (critical). */
  priority: number;
  reason: TaskReason;
  /** Not claimed before this time. */
  notBefore?: number;
  /** W3C traceparent of whoever asked, so the batch span can link to it. */
  traceparent?: string;
  /** Opaque input reference for the worker; on dedup the newest payload wins. */
  payload?: string;
}

export interface EnqueueResult {
  taskId: string;
  /** The key was already waiting: that task was kept (priority raised, reason added). */
  deduplicated: boolean;
}

/** The status record of one task, as GetTask reports it. */
export interface TaskRecord {
  id: string;
  key: string;
  taskType: string;
  tenant: string;
  priority: number;
  /** Every distinct reason the key was enqueued for while it waited. */
  reasons: TaskReason[];
  state: TaskState;
  /** Attempts started (claims), the current one included; a release gives one back. */
  attempts: number;
  createdAt: number;
  updatedAt: number;
  /** When a queued task becomes claimable, or when a failed task is retried. */
  notBefore?: number;
  lastError?: string;
  traceparent?: string;
  payload?: string;
  /** Set while processing. */
  workerId?: string;
  leaseExpiresAt?: number;
}

/** A task handed to a worker by claim. */
export type ClaimedTask = TaskRecord & { state: "processing"; workerId: string; leaseExpiresAt: number };

export interface ClaimOptions {
  /** Worker identity: recorded on the task, and what the ends of its claims name (ClaimHolder). */
  workerId: string;
  /** Only these task types; absent or empty means all. */
  taskTypes?: readonly string[];
  /** Lease length; the queue's `leaseMs` when absent. */
  leaseMs?: number;
}

/**
 * Whose claims an end of a claim (ack, fail, release, extendLease) may end.
 * A worker that stalls past its lease (a long pause, Redis out of reach)
 * loses the task to the next claim; when it comes back, its late calls
 * must not end the new holder's claim: a late fail would retry or
 * dead-letter work that is running, and a late release would hand it out
 * twice. With `workerId` only tasks processing under that worker are
 * ended (BullMQ's lock token plays this part); without it, any processing
 * task is.
 */
export interface ClaimHolder {
  workerId?: string;
}

export interface TaskFailure {
  id: string;
  error: string;
  /** Skip the remaining attempts and dead-letter now (e.g. inputs that can never work). */
  permanent?: boolean;
}

export type FailOutcome =
  | { id: string; outcome: "retry"; retryAt: number }
  | { id: string; outcome: "dead" }
  /** The task was not processing (already acked, released, or its lease was reaped). */
  | { id: string; outcome: "ignored" };

/** What an ack did. */
export interface AckResult {
  /** How many tasks it completed. */
  completed: number;
  /**
   * The ids it did not complete, each once, in the order given: not
   * processing (acked already, released, reaped after their lease ran out,
   * unknown), or processing under another worker than the one named.
   */
  refused: string[];
}

export interface DeadLetterPage {
  tasks: TaskRecord[];
  /** Pass back as `pageToken` for the next page; absent on the last page. */
  nextPageToken?: string;
}

/** Selects dead letters: the listed ids, or all of them. */
export type DeadLetterSelector = { ids: readonly string[] } | { all: true };

export interface StateCounts {
  /** Claimable now. */
  queued: number;
  /** Queued with a not-before time still ahead. */
  delayed: number;
  processing: number;
  /** Acked since the queue was created (a counter; records expire after retentionMs). */
  completed: number;
  /** Waiting for a retry. */
  failed: number;
  dead: number;
}

export interface QueueStats {
  total: StateCounts;
  byTaskType: { taskType: string; counts: StateCounts }[];
  /** Claimable tasks per priority, 10 first; priorities with none are left out. */
  byPriority: { priority: number; queued: number }[];
  capacity: number;
  /** Tasks counted against capacity: queued, delayed, failed and processing. */
  size: number;
  paused: boolean;
}

/**
 * A priority task queue with batch claims, leases, retries and a dead-letter
 * set. Priority 10 is claimed first, FIFO within a priority. Delivery is at
 * least once: a worker that dies loses its lease, and the task comes back.
 *
 * Errors: InvalidArgumentError for bad input, ResourceExhaustedError when the
 * queue is full, UnavailableError when the store cannot be reached.
 */
export interface TaskQueue {
  /** Adds a task, or merges it into the waiting task of the same key. */
  enqueue(task: NewTask): Promise<EnqueueResult>;
  /** Adds a batch atomically: all of it fits, or none is added. One outcome per task, in order. */
  enqueueMany(tasks: readonly NewTask[]): Promise<EnqueueResult[]>;
  /** Claims up to `n` tasks, highest priority first, each under a lease. Nothing while paused. */
  claim(n: number, options: ClaimOptions): Promise<ClaimedTask[]>;
  /** Completes processing tasks; answers how many it completed and which it refused. */
  ack(ids: readonly string[], holder?: ClaimHolder): Promise<AckResult>;
  /** Fails one processing task: retried with backoff, or dead-lettered when out of attempts. */
  fail(id: string, error: string, options?: { permanent?: boolean } & ClaimHolder): Promise<FailOutcome>;
  /** Fails several tasks in one round trip. */
  failMany(failures: readonly TaskFailure[], holder?: ClaimHolder): Promise<FailOutcome[]>;
  /** Gives back claimed tasks that were never started, without counting an attempt. */
  release(ids: readonly string[], holder?: ClaimHolder): Promise<number>;
  /** Pushes the leases of processing tasks `leaseMs` (default: the queue's) past now. */
  extendLease(ids: readonly string[], leaseMs?: number, holder?: ClaimHolder): Promise<number>;
  /** Returns tasks whose lease expired (counting the attempt); claim does this too. */
  requeueExpired(): Promise<number>;
  get(id: string): Promise<TaskRecord | undefined>;
  /** The newest task of a key. */
  getByKey(key: string): Promise<TaskRecord | undefined>;
  /** Dead letters, oldest death first. */
  listDeadLetters(options?: { pageSize?: number; pageToken?: string }): Promise<DeadLetterPage>;
  /** Moves dead letters back to the queue with fresh attempts; returns how many moved. */
  requeueDeadLetters(selector: DeadLetterSelector): Promise<number>;
  /** Deletes dead letters; returns how many were deleted. */
  purgeDeadLetters(selector: DeadLetterSelector): Promise<number>;
  /** How many dead letters there are: cheap (no scan), for the metrics gauge. */
  countDeadLetters(): Promise<number>;
  stats(): Promise<QueueStats>;
  pause(): Promise<void>;
  resume(): Promise<void>;
}
