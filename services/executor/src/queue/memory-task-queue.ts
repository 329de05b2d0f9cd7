import { type Clock, systemClock, validateKey } from "@prescient/core";
import { type Entry, MemoryQueueState } from "./memory-queue-state.js";
import { queueLimits, resolveTaskQueueOptions, type TaskQueueOptions } from "./options.js";
import { queueFullError } from "./queue-messages.js";
import { retryDelayMs } from "./scheduling.js";
import { StatsCounter } from "./stats-counter.js";
import type {
  AckResult,
  ClaimedTask,
  ClaimHolder,
  ClaimOptions,
  DeadLetterPage,
  DeadLetterSelector,
  EnqueueResult,
  FailOutcome,
  NewTask,
  QueueStats,
  TaskFailure,
  TaskQueue,
  TaskRecord,
} from "./task-queue.js";
import * as v from "./validation.js";

/**
 * The in-process task queue: the embedded default of `prescient up`, and the
 * reference the Redis queue is held to by the conformance suite. JavaScript
 * runs each call to completion, so every operation is atomic.
 */
export class MemoryTaskQueue implements TaskQueue {
  readonly options: TaskQueueOptions;
  readonly #clock: Clock;
  readonly #s: MemoryQueueState;

  constructor(options: Partial<TaskQueueOptions> = {}, clock: Clock = systemClock) {
    this.options = resolveTaskQueueOptions(options);
    this.#clock = clock;
    this.#s = new MemoryQueueState(this.options);
  }

  async enqueue(task: NewTask): Promise<EnqueueResult> {
    v.validateNewTask(task);
    return (await this.enqueueMany([task]))[0] as EnqueueResult;
  }

  async enqueueMany(tasks: readonly NewTask[]): Promise<EnqueueResult[]> {
    v.validateNewTasks(tasks);
    const s = this.#s;
    const now = this.#now();
    // All or nothing: count the new tasks (keys neither waiting nor earlier in the batch) first.
    const seen = new Set<string>();
    let fresh = 0;
    for (const t of tasks) {
      if (!seen.has(t.key) && s.waiting(t.key) === undefined) fresh++;
      seen.add(t.key);
    }
    if (s.size + fresh > this.options.capacity) throw queueFullError(s.size, fresh, this.options.capacity);
    return tasks.map((t) => {
      const waiting = s.waiting(t.key);
      if (waiting === undefined) return { taskId: s.create(t, now), deduplicated: false };
      s.merge(waiting, t, now);
      return { taskId: waiting.record.id, deduplicated: true };
    });
  }

  async claim(n: number, options: ClaimOptions): Promise<ClaimedTask[]> {
    const c = v.validateClaim(n, options, this.options);
    const s = this.#s;
    const now = this.#now();
    s.reap(now);
    if (s.paused) return [];
    const types = c.taskTypes.length > 0 ? c.taskTypes : [...s.types.keys()];
    const heaps = types.flatMap((t) => s.types.get(t) ?? []);
    for (const h of heaps) s.promote(h, now);
    const claimed: ClaimedTask[] = [];
    for (let e = s.takeBest(heaps); e !== undefined; e = s.takeBest(heaps)) {
      const r = e.record;
      r.state = "processing";
      r.attempts += 1;
      r.updatedAt = now;
      r.workerId = c.workerId;
      r.leaseExpiresAt = now + c.leaseMs;
      s.toActive(e, r.leaseExpiresAt);
      claimed.push(snapshot(r) as ClaimedTask);
      if (claimed.length === c.n) break;
    }
    return claimed;
  }

  async ack(ids: readonly string[], holder?: ClaimHolder): Promise<AckResult> {
    v.validateIds(ids, "ack");
    const worker = v.validateHolder(holder);
    const now = this.#now();
    const done = this.#processing(ids, worker);
    for (const e of done) this.#s.complete(e, now);
    this.#s.sweep(now);
    const completed = new Set(done.map((e) => e.record.id));
    return { completed: done.length, refused: [...new Set(ids)].filter((id) => !completed.has(id)) };
  }

  async fail(
    id: string,
    error: string,
    options: { permanent?: boolean } & ClaimHolder = {},
  ): Promise<FailOutcome> {
    const failure = options.permanent === true ? { id, error, permanent: true } : { id, error };
    return (await this.failMany([failure], options))[0] as FailOutcome;
  }

  async failMany(failures: readonly TaskFailure[], holder?: ClaimHolder): Promise<FailOutcome[]> {
    const valid = v.validateFailures(failures);
    const worker = v.validateHolder(holder);
    const s = this.#s;
    const o = this.options;
    const now = this.#now();
    return valid.map((f): FailOutcome => {
      const e = s.tasks.get(f.id);
      if (e === undefined || !heldBy(e, worker)) return { id: f.id, outcome: "ignored" };
      if (f.permanent === true || e.record.attempts >= o.maxAttempts) {
        s.toDead(e, f.error, now);
        return { id: f.id, outcome: "dead" };
      }
      const retryAt = now + retryDelayMs(e.record.attempts, o.backoffBaseMs, o.backoffMaxMs, o.random());
      s.endLease(e, "failed", f.error, now);
      e.record.notBefore = retryAt;
      s.toLater(e, retryAt);
      s.takeKey(e);
      return { id: f.id, outcome: "retry", retryAt };
    });
  }

  async release(ids: readonly string[], holder?: ClaimHolder): Promise<number> {
    v.validateIds(ids, "release");
    const worker = v.validateHolder(holder);
    const now = this.#now();
    const released = this.#processing(ids, worker);
    for (const e of released) {
      e.record.attempts = Math.max(0, e.record.attempts - 1);
      this.#s.endLease(e, "queued", undefined, now);
      this.#s.toReady(e);
      this.#s.takeKey(e);
    }
    return released.length;
  }

  async extendLease(
    ids: readonly string[],
    leaseMs = this.options.leaseMs,
    holder?: ClaimHolder,
  ): Promise<number> {
    v.validateIds(ids, "extendLease");
    v.validateLease(leaseMs);
    const worker = v.validateHolder(holder);
    const now = this.#now();
    const extended = this.#processing(ids, worker);
    for (const e of extended) {
      e.record.leaseExpiresAt = now + leaseMs;
      e.record.updatedAt = now;
      this.#s.toActive(e, now + leaseMs);
    }
    return extended.length;
  }

  async requeueExpired(): Promise<number> {
    return this.#s.reap(this.#now());
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    v.validateId(id);
    this.#now();
    const r = this.#s.tasks.get(id)?.record;
    return r === undefined ? undefined : snapshot(r);
  }

  async getByKey(key: string): Promise<TaskRecord | undefined> {
    validateKey(key);
    this.#now();
    const id = this.#s.byKey.get(key);
    return id === undefined ? undefined : this.get(id);
  }

  async listDeadLetters(options: { pageSize?: number; pageToken?: string } = {}): Promise<DeadLetterPage> {
    const size = v.validatePageSize(options.pageSize);
    const after = v.parsePageToken(options.pageToken);
    const tasks: TaskRecord[] = [];
    let last = 0;
    for (const [id, seq] of this.#s.dead) {
      if (seq <= after) continue;
      if (tasks.length === size) return { tasks, nextPageToken: String(last) };
      tasks.push(snapshot((this.#s.tasks.get(id) as Entry).record));
      last = seq;
    }
    return { tasks };
  }

  async requeueDeadLetters(selector: DeadLetterSelector): Promise<number> {
    const sel = v.validateSelector(selector);
    const s = this.#s;
    const now = this.#now();
    const all = [...("ids" in sel ? sel.ids : s.dead.keys())].filter((id) => s.dead.has(id));
    // Chunks as the Redis queue takes them: each one fits whole or is refused.
    const step = "ids" in sel ? Math.max(all.length, 1) : queueLimits.housekeepingBatch;
    let requeued = 0;
    for (let i = 0; i < all.length; i += step) {
      const ids = all.slice(i, i + step);
      if (s.size + ids.length > this.options.capacity)
        throw queueFullError(s.size, ids.length, this.options.capacity);
      for (const id of ids) {
        const e = s.tasks.get(id) as Entry;
        s.dead.delete(id);
        s.bumpDead(e.record.taskType, -1);
        s.endLease(e, "queued", undefined, now);
        e.record.attempts = 0;
        delete e.record.notBefore;
        e.seq = ++s.seq; // the back of its priority, like new work
        s.size++;
        s.toReady(e);
        s.takeKey(e);
      }
      requeued += ids.length;
    }
    return requeued;
  }

  async purgeDeadLetters(selector: DeadLetterSelector): Promise<number> {
    const sel = v.validateSelector(selector);
    const s = this.#s;
    let purged = 0;
    for (const id of "ids" in sel ? sel.ids : [...s.dead.keys()]) if (s.dropDead(id)) purged++;
    return purged;
  }

  async countDeadLetters(): Promise<number> {
    this.#now(); // ages out what retention says should be gone
    return this.#s.dead.size;
  }

  async stats(): Promise<QueueStats> {
    const s = this.#s;
    const now = this.#now();
    for (const h of s.types.values()) s.promote(h, now);
    const counter = new StatsCounter(s.types.keys());
    for (const e of s.tasks.values()) {
      const r = e.record;
      if (r.state === "queued" && e.place === "ready") {
        counter.add(r.taskType, "queued");
        counter.addPriority(r.priority, 1);
      } else if (r.state === "queued") counter.add(r.taskType, "delayed");
      else if (r.state === "processing" || r.state === "failed") counter.add(r.taskType, r.state);
    }
    for (const [type, n] of s.deadByType) counter.add(type, "dead", n);
    for (const [type, n] of s.completedByType) counter.add(type, "completed", n);
    return counter.build(this.options.capacity, s.size, s.paused);
  }

  async pause(): Promise<void> {
    this.#s.paused = true;
  }

  async resume(): Promise<void> {
    this.#s.paused = false;
  }

  #now(): number {
    const now = this.#clock.now();
    this.#s.sweep(now);
    return now;
  }

  /** The distinct entries of `ids` processing under `worker` ("" for any worker). */
  #processing(ids: readonly string[], worker: string): Entry[] {
    const found = new Map<string, Entry>();
    for (const id of ids) {
      const e = this.#s.tasks.get(id);
      if (e !== undefined && heldBy(e, worker)) found.set(id, e);
    }
    return [...found.values()];
  }
}

function heldBy(e: Entry, worker: string): boolean {
  return e.record.state === "processing" && (worker === "" || e.record.workerId === worker);
}

/** A copy the caller may keep: later moves of the task do not show through it. */
function snapshot(r: TaskRecord): TaskRecord {
  return { ...r, reasons: [...r.reasons] };
}
