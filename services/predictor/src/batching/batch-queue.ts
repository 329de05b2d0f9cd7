import { ResourceExhaustedError } from "@prescient/core";

/**
 * The dynamic batcher's policy, free of I/O and timers: which queued requests
 * form the next batch, and when. Time comes in as `now` so that the same code
 * runs live and under a manual clock in tests.
 *
 * Order: priority level first (0 is the highest), then arrival. A batch takes
 * requests in that order while their rows fit; requests whose non-batch
 * dimensions differ from the head's cannot share its tensors and wait for a
 * later batch.
 */
export interface QueueItem {
  /** Rows along the batch dimension. */
  rows: number;
  /** 0-based priority level, 0 highest. */
  level: number;
  enqueuedAt: number;
  /** Leaves the queue with DEADLINE_EXCEEDED at this time (ms); undefined waits forever. */
  deadlineMs: number | undefined;
  /** Requests merge only when this matches (their shapes past dim 0). */
  shapeKey: string;
}

export interface BatchPolicy {
  /** Most rows in one batch. */
  maxBatchSize: number;
  /** Off: each request is its own batch. */
  dynamicBatching: boolean;
  /** Ascending. A prefix of the queue that adds up to one of these runs at once. */
  preferredBatchSizes: number[];
  /** Longest the oldest request waits for the batch to fill; 0 runs whatever is queued as soon as an instance is free. */
  maxQueueDelayMs: number;
  /** Most requests queued. */
  maxQueueSize: number;
  priorityLevels: number;
}

export type Decision<T> = { kind: "run"; batch: T[] } | { kind: "wait"; untilMs: number } | { kind: "idle" };

export class BatchQueue<T extends QueueItem> {
  readonly #policy: BatchPolicy;
  readonly #levels: T[][];
  #size = 0;
  /**
   * The earliest deadline queued (undefined: none), or null when items left
   * and it must be found again. The batcher asks on every request it queues,
   * and a scan of the queue each time made queueing a batch quadratic.
   */
  #earliest: number | undefined | null = undefined;

  constructor(policy: BatchPolicy) {
    this.#policy = policy;
    this.#levels = Array.from({ length: policy.priorityLevels }, () => []);
  }

  get size(): number {
    return this.#size;
  }

  /** Queues an item; a full queue answers RESOURCE_EXHAUSTED rather than letting work pile up. */
  push(item: T): void {
    if (this.#size >= this.#policy.maxQueueSize)
      throw new ResourceExhaustedError(`queue is full: ${this.#size} requests waiting (max_queue_size)`);
    const level = this.#levels[Math.min(Math.max(item.level, 0), this.#levels.length - 1)]!;
    level.push(item);
    this.#size++;
    if (this.#earliest !== null && item.deadlineMs !== undefined)
      this.#earliest =
        this.#earliest === undefined ? item.deadlineMs : Math.min(this.#earliest, item.deadlineMs);
  }

  /** Takes an item out (a cancelled request); false when it is no longer queued. */
  remove(item: T): boolean {
    for (const level of this.#levels) {
      const i = level.indexOf(item);
      if (i >= 0) {
        level.splice(i, 1);
        this.#size--;
        this.#earliest = null;
        return true;
      }
    }
    return false;
  }

  /** Removes and returns the items whose deadline has passed. */
  takeExpired(now: number): T[] {
    const expired: T[] = [];
    const earliest = this.nextDeadline();
    if (earliest === undefined || earliest > now) return expired;
    for (const [l, level] of this.#levels.entries()) {
      if (!level.some((item) => item.deadlineMs !== undefined && item.deadlineMs <= now)) continue;
      const keep: T[] = [];
      for (const item of level)
        (item.deadlineMs !== undefined && item.deadlineMs <= now ? expired : keep).push(item);
      this.#levels[l] = keep;
    }
    this.#size -= expired.length;
    this.#earliest = null;
    return expired;
  }

  /** The earliest deadline among queued items, for the wake-up timer. */
  nextDeadline(): number | undefined {
    if (this.#earliest !== null) return this.#earliest;
    let next: number | undefined;
    for (const level of this.#levels)
      for (const item of level)
        if (item.deadlineMs !== undefined && (next === undefined || item.deadlineMs < next))
          next = item.deadlineMs;
    this.#earliest = next;
    return next;
  }

  /**
   * What to do now that an instance is free. A "run" decision removes the
   * batch from the queue. `flush` runs without waiting for the delay (drain).
   */
  decide(now: number, flush = false): Decision<T> {
    if (this.#size === 0) return { kind: "idle" };
    // The levels in order, walked in place: decide runs on every request queued while an
    // instance is free, and a flattened copy of the queue each time was most of its cost.
    const head = this.#levels.find((level) => level.length > 0)![0]!;
    if (!this.#policy.dynamicBatching) return this.#take([head]);

    const batch: T[] = [];
    let rows = 0;
    let full = false;
    let preferredEnd = 0;
    walk: for (const level of this.#levels)
      for (const item of level) {
        if (item.shapeKey !== head.shapeKey) continue;
        if (rows + item.rows > this.#policy.maxBatchSize) {
          full = true;
          break walk;
        }
        batch.push(item);
        rows += item.rows;
        if (this.#policy.preferredBatchSizes.includes(rows)) preferredEnd = batch.length;
      }
    if (full || rows === this.#policy.maxBatchSize) return this.#take(batch);
    if (preferredEnd > 0) return this.#take(batch.slice(0, preferredEnd));

    let oldest = head.enqueuedAt;
    for (const level of this.#levels)
      if (level[0] !== undefined && level[0].enqueuedAt < oldest) oldest = level[0].enqueuedAt;
    const due = oldest + this.#policy.maxQueueDelayMs;
    if (flush || due <= now) return this.#take(batch);
    return { kind: "wait", untilMs: due };
  }

  /** Everything still queued, emptied out (unload without draining). */
  clear(): T[] {
    const all = this.#levels.flat();
    for (const level of this.#levels) level.length = 0;
    this.#size = 0;
    this.#earliest = undefined;
    return all;
  }

  #take(batch: T[]): Decision<T> {
    const taken = new Set(batch);
    for (const [l, level] of this.#levels.entries()) {
      if (level.some((item) => taken.has(item))) this.#levels[l] = level.filter((item) => !taken.has(item));
    }
    this.#size -= batch.length;
    this.#earliest = null;
    return { kind: "run", batch };
  }
}
