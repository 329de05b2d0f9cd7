import { type Clock, parseKey, systemClock } from "@prescient/core";
import { LuaScript, type RedisClient, storeError } from "./lua-script.js";
import { queueLimits, resolveTaskQueueOptions, type TaskQueueOptions } from "./options.js";
import { queueFullError } from "./queue-messages.js";
import { asArray, decodeClaimed, decodeRecord, fieldMap, jsonArray } from "./redis-codec.js";
import { claimLua, reapLua } from "./redis-scripts/claim.js";
import { listDeadLua, purgeDeadLua, requeueDeadLua } from "./redis-scripts/dead-letters.js";
import { enqueueLua } from "./redis-scripts/enqueue.js";
import { getByKeyLua, statsLua } from "./redis-scripts/inspect.js";
import { ackLua, extendLua, failLua, releaseLua } from "./redis-scripts/settle.js";
import { StatsCounter } from "./stats-counter.js";
import type {
  ClaimedTask,
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

const scripts = {
  enqueue: new LuaScript("enqueue", enqueueLua),
  claim: new LuaScript("claim", claimLua),
  reap: new LuaScript("requeueExpired", reapLua),
  ack: new LuaScript("ack", ackLua),
  fail: new LuaScript("fail", failLua),
  release: new LuaScript("release", releaseLua),
  extend: new LuaScript("extendLease", extendLua),
  listDead: new LuaScript("listDeadLetters", listDeadLua),
  requeueDead: new LuaScript("requeueDeadLetters", requeueDeadLua),
  purgeDead: new LuaScript("purgeDeadLetters", purgeDeadLua),
  stats: new LuaScript("stats", statsLua),
  getByKey: new LuaScript("getByKey", getByKeyLua),
};

/**
 * The task queue on Redis (standalone or Cluster): every operation is one
 * Lua script, so it is atomic and one round trip however many tasks it
 * covers. The key layout, and why one queue is one cluster slot, are in
 * redis-scripts/lib.ts. The client belongs to the caller, who closes it.
 */
export class RedisTaskQueue implements TaskQueue {
  readonly options: TaskQueueOptions;
  readonly #redis: RedisClient;
  readonly #clock: Clock;
  /** `{keyPrefix}:`: the hash tag that puts the whole queue in one slot. */
  readonly #base: string;

  constructor(redis: RedisClient, options: Partial<TaskQueueOptions> = {}, clock: Clock = systemClock) {
    this.options = resolveTaskQueueOptions(options);
    this.#redis = redis;
    this.#clock = clock;
    this.#base = `{${this.options.keyPrefix}}:`;
  }

  async enqueue(task: NewTask): Promise<EnqueueResult> {
    v.validateNewTask(task);
    return (await this.enqueueMany([task]))[0] as EnqueueResult;
  }

  async enqueueMany(tasks: readonly NewTask[]): Promise<EnqueueResult[]> {
    v.validateNewTasks(tasks);
    if (tasks.length === 0) return [];
    const args: (string | number)[] = [this.options.capacity];
    for (const t of tasks)
      args.push(
        t.key,
        t.taskType,
        t.tenant,
        t.priority,
        t.reason,
        t.notBefore ?? "",
        t.traceparent ?? "",
        t.payload ?? "",
        t.payload === undefined ? "0" : "1",
        v.taskIdNonce(),
      );
    const reply = asArray(await this.#run(scripts.enqueue, args));
    if (reply[0] === "full") throw queueFullError(Number(reply[1]), Number(reply[2]), this.options.capacity);
    return tasks.map((_, i) => ({ taskId: String(reply[1 + 2 * i]), deduplicated: reply[2 + 2 * i] === 1 }));
  }

  async claim(n: number, options: ClaimOptions): Promise<ClaimedTask[]> {
    const c = v.validateClaim(n, options, this.options);
    const now = this.#clock.now();
    const o = this.options;
    const [claimed, ...dropped] = asArray(
      await this.#run(
        scripts.claim,
        [
          c.n,
          c.leaseMs,
          c.workerId,
          o.maxAttempts,
          queueLimits.housekeepingBatch,
          o.deadLetterCapacity,
          o.deadLetterRetentionMs,
          ...c.taskTypes,
        ],
        now,
      ),
    );
    this.#reportDropped(dropped);
    return jsonArray(claimed).map((row) => decodeClaimed(row, now, c.workerId, c.leaseMs));
  }

  async ack(ids: readonly string[]): Promise<number> {
    v.validateIds(ids, "ack");
    if (ids.length === 0) return 0;
    return Number(await this.#run(scripts.ack, [this.options.retentionMs, ...ids]));
  }

  async fail(id: string, error: string, options: { permanent?: boolean } = {}): Promise<FailOutcome> {
    const failure = options.permanent === true ? { id, error, permanent: true } : { id, error };
    return (await this.failMany([failure]))[0] as FailOutcome;
  }

  async failMany(failures: readonly TaskFailure[]): Promise<FailOutcome[]> {
    const valid = v.validateFailures(failures);
    if (valid.length === 0) return [];
    const o = this.options;
    const args: (string | number)[] = [
      o.maxAttempts,
      o.backoffBaseMs,
      o.backoffMaxMs,
      o.deadLetterCapacity,
      o.deadLetterRetentionMs,
      // As many as one call can dead-letter, so the set is back under capacity when it returns.
      queueLimits.batchMax,
    ];
    for (const f of valid) args.push(f.id, f.error, f.permanent === true ? "1" : "0", o.random());
    const reply = asArray(await this.#run(scripts.fail, args));
    this.#reportDropped(reply.slice(2 * valid.length));
    return valid.map((f, i): FailOutcome => {
      const outcome = reply[2 * i];
      if (outcome === "retry") return { id: f.id, outcome, retryAt: Number(reply[2 * i + 1]) };
      return { id: f.id, outcome: outcome === "dead" ? "dead" : "ignored" };
    });
  }

  async release(ids: readonly string[]): Promise<number> {
    v.validateIds(ids, "release");
    if (ids.length === 0) return 0;
    return Number(await this.#run(scripts.release, ids));
  }

  async extendLease(ids: readonly string[], leaseMs = this.options.leaseMs): Promise<number> {
    v.validateIds(ids, "extendLease");
    v.validateLease(leaseMs);
    if (ids.length === 0) return 0;
    return Number(await this.#run(scripts.extend, [leaseMs, ...ids]));
  }

  async requeueExpired(): Promise<number> {
    const o = this.options;
    let total = 0;
    for (;;) {
      const [reaped, ...dropped] = asArray(
        await this.#run(scripts.reap, [
          o.maxAttempts,
          queueLimits.housekeepingBatch,
          o.deadLetterCapacity,
          o.deadLetterRetentionMs,
        ]),
      );
      this.#reportDropped(dropped);
      const n = Number(reaped);
      total += n;
      if (n < queueLimits.housekeepingBatch) return total;
    }
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    v.validateId(id);
    return decodeRecord(await this.#command("get", () => this.#redis.hgetall(`${this.#base}task:${id}`)));
  }

  async getByKey(key: string): Promise<TaskRecord | undefined> {
    parseKey(key);
    return decodeRecord(fieldMap(await this.#run(scripts.getByKey, [key])));
  }

  async listDeadLetters(options: { pageSize?: number; pageToken?: string } = {}): Promise<DeadLetterPage> {
    const size = v.validatePageSize(options.pageSize);
    const after = v.parsePageToken(options.pageToken);
    const [records, more] = asArray(await this.#run(scripts.listDead, [after, size]));
    const fields = jsonArray(records).map(fieldMap);
    const tasks = fields.flatMap((f) => decodeRecord(f) ?? []);
    const last = fields.at(-1)?.deadseq;
    return more === 1 && last !== undefined ? { tasks, nextPageToken: last } : { tasks };
  }

  async requeueDeadLetters(selector: DeadLetterSelector): Promise<number> {
    const sel = v.validateSelector(selector);
    const capacity = this.options.capacity;
    const limit = queueLimits.housekeepingBatch;
    const args = "ids" in sel ? [capacity, limit, "ids", ...sel.ids] : [capacity, limit, "all"];
    let requeued = 0;
    for (;;) {
      const reply = asArray(await this.#run(scripts.requeueDead, args));
      if (reply[0] === "full") throw queueFullError(Number(reply[1]), Number(reply[2]), capacity);
      const n = Number(reply[1]);
      requeued += n;
      // Selected ids go in one step; "all" goes a chunk at a time until none is left.
      if ("ids" in sel || n < limit) return requeued;
    }
  }

  async purgeDeadLetters(selector: DeadLetterSelector): Promise<number> {
    const sel = v.validateSelector(selector);
    const limit = queueLimits.housekeepingBatch;
    const args = "ids" in sel ? [limit, "ids", ...sel.ids] : [limit, "all"];
    let purged = 0;
    for (;;) {
      const n = Number(await this.#run(scripts.purgeDead, args));
      purged += n;
      if ("ids" in sel || n < limit) return purged;
    }
  }

  async countDeadLetters(): Promise<number> {
    return this.#command("countDeadLetters", () => this.#redis.zcard(`${this.#base}dead`));
  }

  async stats(): Promise<QueueStats> {
    const [types, paused] = asArray(await this.#run(scripts.stats, [queueLimits.housekeepingBatch]));
    const counter = new StatsCounter();
    let size = 0;
    for (const row of asArray(types)) {
      const [taskType, ready, delayed, retry, active, completed, dead, byPriority] = asArray(row);
      const type = String(taskType);
      counter.add(type, "queued", Number(ready));
      counter.add(type, "delayed", Number(delayed));
      counter.add(type, "failed", Number(retry));
      counter.add(type, "processing", Number(active));
      counter.add(type, "completed", Number(completed));
      counter.add(type, "dead", Number(dead));
      asArray(byPriority).forEach((n, i) => {
        counter.addPriority(i + 1, Number(n));
      });
      size += Number(ready) + Number(delayed) + Number(retry) + Number(active);
    }
    return counter.build(this.options.capacity, size, paused === 1);
  }

  async pause(): Promise<void> {
    await this.#command("pause", () => this.#redis.set(`${this.#base}paused`, "1"));
  }

  async resume(): Promise<void> {
    await this.#command("resume", () => this.#redis.del(`${this.#base}paused`));
  }

  /** Passes a script's [droppedByCapacity, droppedByRetention] on to onDeadLettersDropped. */
  #reportDropped([capacity, retention]: unknown[]): void {
    if (Number(capacity) > 0) this.options.onDeadLettersDropped("capacity", Number(capacity));
    if (Number(retention) > 0) this.options.onDeadLettersDropped("retention", Number(retention));
  }

  /** Runs a script with the queue's routing key, key base and the clock's time in front. */
  #run(script: LuaScript, args: readonly (string | number)[], now = this.#clock.now()): Promise<unknown> {
    return script.run(this.#redis, [`${this.#base}types`], [this.#base, now, ...args]);
  }

  async #command<T>(operation: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw storeError(operation, e);
    }
  }
}
