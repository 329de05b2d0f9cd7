import { type Clock, systemClock, UnavailableError, validateKey } from "@prescient/core";
import { defineLuaCommands, type RedisClient } from "@prescient/kit";
import { runAndWait } from "./durable-write.js";
import {
  type DurableEnqueue,
  queueLimits,
  resolveTaskQueueOptions,
  type TaskQueueOptions,
} from "./options.js";
import {
  type DeadLetterCursor,
  formatPageToken,
  groupByPartition,
  idPrefix,
  parsePartitionedPageToken,
  partitionBases,
  partitionOfId,
  partitionOfKey,
  partitionShare,
} from "./partitions.js";
import { queueFullError } from "./queue-messages.js";
import { type QueueOperation, queueScripts } from "./queue-scripts.js";
import { asArray, decodeClaimed, decodeRecord, fieldMap, jsonArray } from "./redis-codec.js";
import { StatsCounter } from "./stats-counter.js";
import { storeError } from "./store-error.js";
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
 * The task queue on Redis (standalone or Cluster): every operation is one
 * Lua script per partition it touches, so it is atomic within a partition
 * and one round trip there however many tasks it covers. The key layout is
 * in redis-scripts/includes/lib.lua; partitions (each its own hash tag, so its own
 * cluster slot), their ids and routing are in partitions.ts. The client
 * belongs to the caller, who closes it.
 *
 * Across partitions:
 * - enqueueMany routes each task by its key. A batch within one partition is
 *   all or nothing, as before. A batch over several is checked against every
 *   partition it touches first (in parallel) and written only if all fit, so
 *   a full partition refuses the whole batch; only an enqueue racing it into
 *   the same partition between check and write (or a store failure during the
 *   writes) can make it land in part. Then it throws as a full (or
 *   unavailable) queue, and a retry of the batch is safe: dedup merges it into
 *   the tasks that landed.
 * - capacity and deadLetterCapacity are split evenly over the partitions
 *   (partitionShare), each enforced atomically by its partition's scripts,
 *   so the total never exceeds them, with no shared counter to make every
 *   enqueue and ack touch one hot slot. Keys hash evenly, so a partition
 *   fills early only by chance: with a million-task capacity over 3
 *   partitions, a few hundred tasks before the total.
 * - claims take from the partitions in turn: each starts one partition on
 *   from where the previous one of this process started (or past the last
 *   one it needed), in priority order within a partition, and a claim of n
 *   moves on to the next partition while it has fewer than n. Priority order
 *   is kept within a partition, not across them.
 * - everything else routes by the task id's or the key's partition, and stats
 *   add the partitions up. Dead letters list partition by partition.
 */
export class RedisTaskQueue implements TaskQueue {
  readonly options: TaskQueueOptions;
  readonly #redis: RedisClient;
  readonly #clock: Clock;
  /** Key base of each partition: `{keyPrefix}:` for 0, `{keyPrefix#p}:` beyond (partitions.ts). */
  readonly #bases: readonly string[];
  /** Each partition's share of capacity and of deadLetterCapacity. */
  readonly #capacity: readonly number[];
  readonly #deadCapacity: readonly number[];
  /** Where the next claim starts. */
  #cursor = 0;

  constructor(redis: RedisClient, options: Partial<TaskQueueOptions> = {}, clock: Clock = systemClock) {
    this.options = resolveTaskQueueOptions(options);
    this.#redis = redis;
    // Up front, so that a missing .lua file fails here rather than on first use.
    defineLuaCommands(redis, Object.values(queueScripts));
    this.#clock = clock;
    const o = this.options;
    this.#bases = partitionBases(o.keyPrefix, o.partitions);
    this.#capacity = this.#bases.map((_, p) => partitionShare(o.capacity, o.partitions, p));
    this.#deadCapacity = this.#bases.map((_, p) => partitionShare(o.deadLetterCapacity, o.partitions, p));
  }

  async enqueue(task: NewTask): Promise<EnqueueResult> {
    v.validateNewTask(task);
    return (await this.enqueueMany([task]))[0] as EnqueueResult;
  }

  async enqueueMany(tasks: readonly NewTask[]): Promise<EnqueueResult[]> {
    v.validateNewTasks(tasks);
    if (tasks.length === 0) return [];
    const n = this.options.partitions;
    if (n === 1) return this.#enqueueIn(0, tasks);
    const groups = [...groupByPartition(tasks, (t) => partitionOfKey(t.key, n))];
    if (groups.length === 1) return this.#enqueueIn(groups[0]?.[0] ?? 0, tasks);
    const parts = groups.map(([p, indices]) => ({ p, tasks: indices.map((i) => tasks[i] as NewTask) }));
    // Nothing is written unless every partition has room (see the class comment).
    await Promise.all(parts.map((part) => this.#enqueueIn(part.p, part.tasks, true)));
    const replies = await Promise.allSettled(parts.map((part) => this.#enqueueIn(part.p, part.tasks)));
    const out: EnqueueResult[] = new Array(tasks.length);
    groups.forEach(([, indices], g) => {
      const reply = replies[g] as PromiseSettledResult<EnqueueResult[]>;
      if (reply.status === "rejected") throw reply.reason;
      indices.forEach((i, j) => {
        out[i] = reply.value[j] as EnqueueResult;
      });
    });
    return out;
  }

  /** Enqueues tasks of one partition; checkOnly writes nothing and answers [] when they fit. */
  async #enqueueIn(p: number, tasks: readonly NewTask[], checkOnly = false): Promise<EnqueueResult[]> {
    const capacity = this.#capacity[p] as number;
    const args: (string | number)[] = [capacity, idPrefix(p), checkOnly ? "1" : "0"];
    for (const t of tasks)
      if (checkOnly) args.push(t.key, "", "", "", "", "", "", "", "", "");
      else
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
    const durable = checkOnly ? undefined : this.options.durableEnqueue;
    const reply = asArray(
      durable === undefined
        ? await this.#run("enqueue", args, undefined, p)
        : await this.#runDurably(args, p),
    );
    if (reply[0] === "full")
      throw queueFullError(Number(reply[1]), Number(reply[2]), capacity, {
        index: p,
        of: this.options.partitions,
      });
    if (checkOnly) return [];
    return tasks.map((_, i) => ({ taskId: String(reply[1 + 2 * i]), deduplicated: reply[2 + 2 * i] === 1 }));
  }

  async claim(n: number, options: ClaimOptions): Promise<ClaimedTask[]> {
    const c = v.validateClaim(n, options, this.options);
    const partitions = this.options.partitions;
    if (partitions === 1) return this.#claimIn(0, c.n, c);
    // Advanced before the round trip, so concurrent claims of this process start apart.
    const start = this.#cursor;
    this.#cursor = (start + 1) % partitions;
    let out: ClaimedTask[] = [];
    let visited = 0;
    while (visited < partitions && out.length < c.n) {
      const got = await this.#claimIn((start + visited) % partitions, c.n - out.length, c);
      out = out.length === 0 ? got : out.concat(got);
      visited++;
    }
    if (visited > 1) this.#cursor = (start + visited) % partitions;
    return out;
  }

  async #claimIn(p: number, n: number, c: v.ResolvedClaim): Promise<ClaimedTask[]> {
    const now = this.#clock.now();
    const o = this.options;
    const [claimed, ...dropped] = asArray(
      await this.#run(
        "claim",
        [
          n,
          c.leaseMs,
          c.workerId,
          o.maxAttempts,
          queueLimits.housekeepingBatch,
          this.#deadCapacity[p] as number,
          o.deadLetterRetentionMs,
          ...c.taskTypes,
        ],
        now,
        p,
      ),
    );
    this.#reportDropped(dropped);
    return jsonArray(claimed).map((row) => decodeClaimed(row, now, c.workerId, c.leaseMs));
  }

  async ack(ids: readonly string[], holder?: ClaimHolder): Promise<AckResult> {
    v.validateIds(ids, "ack");
    const worker = v.validateHolder(holder);
    if (ids.length === 0) return { completed: 0, refused: [] };
    const { held, elsewhere } = this.#byPartition(ids);
    const replies = await Promise.all(
      held.map(async ([p, part]) =>
        asArray(await this.#run("ack", [this.options.retentionMs, worker, ...part], undefined, p)),
      ),
    );
    let completed = 0;
    // Ids of no partition of this queue went to none: refused too.
    const refused = new Set<string>(elsewhere);
    for (const [n, ...skipped] of replies) {
      completed += Number(n);
      for (const id of skipped) refused.add(String(id));
    }
    if (refused.size === 0) return { completed, refused: [] };
    return { completed, refused: [...new Set(ids)].filter((id) => refused.has(id)) };
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
    if (valid.length === 0) return [];
    if (this.options.partitions === 1 && !valid.some((f) => f.id.includes(".")))
      return this.#failIn(0, valid, worker);
    const out: FailOutcome[] = new Array(valid.length);
    const groups = groupByPartition(valid, (f) => partitionOfId(f.id));
    await Promise.all(
      [...groups].map(async ([p, indices]) => {
        const part = indices.map((i) => valid[i] as TaskFailure);
        const outcomes =
          p < this.options.partitions
            ? await this.#failIn(p, part, worker)
            : part.map((f): FailOutcome => ({ id: f.id, outcome: "ignored" }));
        indices.forEach((i, j) => {
          out[i] = outcomes[j] as FailOutcome;
        });
      }),
    );
    return out;
  }

  async #failIn(p: number, valid: readonly TaskFailure[], worker: string): Promise<FailOutcome[]> {
    const o = this.options;
    const args: (string | number)[] = [
      o.maxAttempts,
      o.backoffBaseMs,
      o.backoffMaxMs,
      this.#deadCapacity[p] as number,
      o.deadLetterRetentionMs,
      // As many as one call can dead-letter, so the set is back under capacity when it returns.
      queueLimits.batchMax,
      worker,
    ];
    for (const f of valid) args.push(f.id, f.error, f.permanent === true ? "1" : "0", o.random());
    const reply = asArray(await this.#run("fail", args, undefined, p));
    this.#reportDropped(reply.slice(2 * valid.length));
    return valid.map((f, i): FailOutcome => {
      const outcome = reply[2 * i];
      if (outcome === "retry") return { id: f.id, outcome, retryAt: Number(reply[2 * i + 1]) };
      return { id: f.id, outcome: outcome === "dead" ? "dead" : "ignored" };
    });
  }

  async release(ids: readonly string[], holder?: ClaimHolder): Promise<number> {
    v.validateIds(ids, "release");
    const worker = v.validateHolder(holder);
    if (ids.length === 0) return 0;
    return this.#sumByPartition(ids, (p, part) => this.#run("release", [worker, ...part], undefined, p));
  }

  async extendLease(
    ids: readonly string[],
    leaseMs = this.options.leaseMs,
    holder?: ClaimHolder,
  ): Promise<number> {
    v.validateIds(ids, "extendLease");
    v.validateLease(leaseMs);
    const worker = v.validateHolder(holder);
    if (ids.length === 0) return 0;
    return this.#sumByPartition(ids, (p, part) =>
      this.#run("extendLease", [leaseMs, worker, ...part], undefined, p),
    );
  }

  async requeueExpired(): Promise<number> {
    return this.#sumPartitions((p) => this.#requeueExpiredIn(p));
  }

  async #requeueExpiredIn(p: number): Promise<number> {
    const o = this.options;
    let total = 0;
    for (;;) {
      const [reaped, ...dropped] = asArray(
        await this.#run(
          "requeueExpired",
          [
            o.maxAttempts,
            queueLimits.housekeepingBatch,
            this.#deadCapacity[p] as number,
            o.deadLetterRetentionMs,
          ],
          undefined,
          p,
        ),
      );
      this.#reportDropped(dropped);
      const n = Number(reaped);
      total += n;
      if (n < queueLimits.housekeepingBatch) return total;
    }
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    v.validateId(id);
    const base = this.#bases[partitionOfId(id)];
    if (base === undefined) return undefined;
    return decodeRecord(await this.#command("get", () => this.#redis.hgetall(`${base}task:${id}`)));
  }

  async getByKey(key: string): Promise<TaskRecord | undefined> {
    validateKey(key);
    const p = partitionOfKey(key, this.options.partitions);
    return decodeRecord(fieldMap(await this.#run("getByKey", [key], undefined, p)));
  }

  async listDeadLetters(options: { pageSize?: number; pageToken?: string } = {}): Promise<DeadLetterPage> {
    const size = v.validatePageSize(options.pageSize);
    const from = parsePartitionedPageToken(options.pageToken, this.options.partitions);
    const tasks: TaskRecord[] = [];
    let last: DeadLetterCursor | undefined;
    // Partition by partition from the token's; a full page still asks the next
    // partitions (for none) so that the last page carries no token.
    for (let p = from.partition; p < this.options.partitions; p++) {
      const after = p === from.partition ? from.deadseq : 0;
      const [records, more] = asArray(
        await this.#run("listDeadLetters", [after, size - tasks.length], undefined, p),
      );
      const fields = jsonArray(records).map(fieldMap);
      tasks.push(...fields.flatMap((f) => decodeRecord(f) ?? []));
      const deadseq = fields.at(-1)?.deadseq;
      if (deadseq !== undefined) last = { partition: p, deadseq: Number(deadseq) };
      if (more === 1) return last === undefined ? { tasks } : { tasks, nextPageToken: formatPageToken(last) };
    }
    return { tasks };
  }

  async requeueDeadLetters(selector: DeadLetterSelector): Promise<number> {
    const sel = v.validateSelector(selector);
    if ("ids" in sel)
      return this.#sumByPartition(sel.ids, (p, part) => this.#requeueDeadIn(p, ["ids", ...part]));
    return this.#sumPartitions((p) => this.#requeueDeadIn(p, ["all"]));
  }

  async #requeueDeadIn(p: number, selection: readonly string[]): Promise<number> {
    const capacity = this.#capacity[p] as number;
    const limit = queueLimits.housekeepingBatch;
    const args = [capacity, limit, ...selection];
    let requeued = 0;
    for (;;) {
      const reply = asArray(await this.#run("requeueDeadLetters", args, undefined, p));
      if (reply[0] === "full")
        throw queueFullError(Number(reply[1]), Number(reply[2]), capacity, {
          index: p,
          of: this.options.partitions,
        });
      const n = Number(reply[1]);
      requeued += n;
      // Selected ids go in one step; "all" goes a chunk at a time until none is left.
      if (selection[0] === "ids" || n < limit) return requeued;
    }
  }

  async purgeDeadLetters(selector: DeadLetterSelector): Promise<number> {
    const sel = v.validateSelector(selector);
    if ("ids" in sel)
      return this.#sumByPartition(sel.ids, (p, part) => this.#purgeDeadIn(p, ["ids", ...part]));
    return this.#sumPartitions((p) => this.#purgeDeadIn(p, ["all"]));
  }

  async #purgeDeadIn(p: number, selection: readonly string[]): Promise<number> {
    const limit = queueLimits.housekeepingBatch;
    let purged = 0;
    for (;;) {
      const n = Number(await this.#run("purgeDeadLetters", [limit, ...selection], undefined, p));
      purged += n;
      if (selection[0] === "ids" || n < limit) return purged;
    }
  }

  async countDeadLetters(): Promise<number> {
    return this.#sumPartitions((p) =>
      this.#command("countDeadLetters", () => this.#redis.zcard(`${this.#bases[p]}dead`)),
    );
  }

  async stats(): Promise<QueueStats> {
    const replies = await Promise.all(
      this.#bases.map((_, p) => this.#run("stats", [queueLimits.housekeepingBatch], undefined, p)),
    );
    const counter = new StatsCounter();
    let size = 0;
    let paused = false;
    for (const reply of replies) {
      const [types, partitionPaused] = asArray(reply);
      paused ||= partitionPaused === 1;
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
    }
    return counter.build(this.options.capacity, size, paused);
  }

  /** Pauses every partition; a pause cut short leaves some paused, which stats report as paused. */
  async pause(): Promise<void> {
    await Promise.all(
      this.#bases.map((b) => this.#command("pause", () => this.#redis.set(`${b}paused`, "1"))),
    );
  }

  async resume(): Promise<void> {
    await Promise.all(this.#bases.map((b) => this.#command("resume", () => this.#redis.del(`${b}paused`))));
  }

  /** Passes a script's [droppedByCapacity, droppedByRetention] on to onDeadLettersDropped. */
  #reportDropped([capacity, retention]: unknown[]): void {
    if (Number(capacity) > 0) this.options.onDeadLettersDropped("capacity", Number(capacity));
    if (Number(retention) > 0) this.options.onDeadLettersDropped("retention", Number(retention));
  }

  /**
   * Runs f on each partition's share of ids, in parallel, and adds up the
   * counts. Ids naming a partition this queue does not have name no task.
   */
  async #sumByPartition(
    ids: readonly string[],
    f: (p: number, ids: readonly string[]) => Promise<unknown>,
  ): Promise<number> {
    const counts = await Promise.all(this.#byPartition(ids).held.map(([p, part]) => f(p, part)));
    return counts.reduce<number>((sum, n) => sum + Number(n), 0);
  }

  /** The ids by the partition that holds them, and those of no partition of this queue (none holds them). */
  #byPartition(ids: readonly string[]): { held: Array<[number, readonly string[]]>; elsewhere: string[] } {
    if (this.options.partitions === 1 && !ids.some((id) => id.includes(".")))
      return { held: [[0, ids]], elsewhere: [] };
    const held: Array<[number, readonly string[]]> = [];
    const elsewhere: string[] = [];
    for (const [p, indices] of groupByPartition(ids, partitionOfId)) {
      const part = indices.map((i) => ids[i] as string);
      if (p < this.options.partitions) held.push([p, part]);
      else elsewhere.push(...part);
    }
    return { held, elsewhere };
  }

  async #sumPartitions(f: (p: number) => Promise<number>): Promise<number> {
    const counts = await Promise.all(this.#bases.map((_, p) => f(p)));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /**
   * Runs a script in partition p with its routing key, key base and the
   * clock's time in front. KEYS[1] puts the call on the partition's slot.
   */
  async #run(
    operation: QueueOperation,
    args: readonly (string | number)[],
    now = this.#clock.now(),
    p = 0,
  ): Promise<unknown> {
    const base = this.#bases[p] as string;
    try {
      return await queueScripts[operation].run(this.#redis, [`${base}types`], [base, now, ...args]);
    } catch (e) {
      throw storeError(operation, e);
    }
  }

  /**
   * The enqueue script followed by WAIT (options.durableEnqueue). Fewer
   * replicas than asked is UNAVAILABLE, so clients retry as they do for a
   * store outage; the write may have landed, and dedup merges the retry
   * into it. A refused ("full") enqueue wrote nothing, so it needs no WAIT,
   * but one in the same pipeline costs nothing extra.
   */
  async #runDurably(args: readonly (string | number)[], p: number): Promise<unknown> {
    const { replicas, timeoutMs } = this.options.durableEnqueue as DurableEnqueue;
    const base = this.#bases[p] as string;
    const out = await runAndWait(
      "enqueue",
      queueScripts.enqueue,
      this.#redis,
      [`${base}types`],
      [base, this.#clock.now(), ...args],
      replicas,
      timeoutMs,
    );
    if (out.replicas < replicas && asArray(out.reply)[0] !== "full")
      throw new UnavailableError(
        `task queue enqueue: ${out.replicas} of ${replicas} replicas acknowledged within ${timeoutMs} ms ` +
          "(durableEnqueue); the tasks may or may not be kept, and a retry is safe (dedup by key)",
      );
    return out.reply;
  }

  async #command<T>(operation: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw storeError(operation, e);
    }
  }
}
