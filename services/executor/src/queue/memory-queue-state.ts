import { MinHeap } from "./min-heap.js";
import type { TaskQueueOptions } from "./options.js";
import { leaseExpiredMessage } from "./queue-messages.js";
import { readyScore } from "./scheduling.js";
import type { NewTask, TaskRecord, TaskState } from "./task-queue.js";
import { taskIdNonce } from "./validation.js";

/** Where a task sits: a heap of its type, the dead-letter map, or nowhere (completed). */
type Place = "ready" | "later" | "active" | "dead" | "done";

export interface Entry {
  record: TaskRecord;
  /** Enqueue sequence number: FIFO order within a priority. */
  seq: number;
  place: Place;
  /** Bumped on every move; heap entries of an older generation are stale. */
  gen: number;
}

interface Ref {
  id: string;
  gen: number;
}

/** Per task type: claimable by score, not yet due by time, leased by expiry. */
export interface TypeHeaps {
  ready: MinHeap<Ref>;
  later: MinHeap<Ref>;
  active: MinHeap<Ref>;
}

/**
 * The memory queue's data and the moves between its places. It mirrors the
 * Redis layout (ready / delayed+retry / active sets per type, a dead-letter
 * set, a key → newest id pointer) so both queues behave alike. Heaps use lazy
 * deletion: a move bumps the entry's generation and pushes a fresh ref.
 */
export class MemoryQueueState {
  readonly tasks = new Map<string, Entry>();
  /** Key → newest task id of that key. */
  readonly byKey = new Map<string, string>();
  readonly types = new Map<string, TypeHeaps>();
  /** Dead task id → dead-letter sequence number; Map order is death order. */
  readonly dead = new Map<string, number>();
  readonly deadByType = new Map<string, number>();
  readonly completedByType = new Map<string, number>();
  /** Tasks counted against capacity: queued, failed and processing. */
  size = 0;
  seq = 0;
  paused = false;
  #deadSeq = 0;
  /** Completed tasks in completion order, forgotten after retentionMs. */
  #expiries: { at: number; ref: Ref }[] = [];
  #expiriesHead = 0;

  constructor(readonly options: TaskQueueOptions) {}

  heaps(taskType: string): TypeHeaps {
    let h = this.types.get(taskType);
    if (h === undefined) {
      h = { ready: new MinHeap(), later: new MinHeap(), active: new MinHeap() };
      this.types.set(taskType, h);
    }
    return h;
  }

  /** The task of `key` that is waiting (queued or failed), if any: the one to merge into. */
  waiting(key: string): Entry | undefined {
    const id = this.byKey.get(key);
    const e = id === undefined ? undefined : this.tasks.get(id);
    return isWaiting(e?.record.state) ? e : undefined;
  }

  create(t: NewTask, now: number): string {
    const seq = ++this.seq;
    const id = `${seq}-${taskIdNonce()}`;
    const record: TaskRecord = {
      id,
      key: t.key,
      taskType: t.taskType,
      tenant: t.tenant,
      priority: t.priority,
      reasons: [t.reason],
      state: "queued",
      attempts: 0,
      createdAt: now,
      updatedAt: now,
    };
    if (t.notBefore !== undefined) record.notBefore = t.notBefore;
    if (t.traceparent !== undefined) record.traceparent = t.traceparent;
    if (t.payload !== undefined) record.payload = t.payload;
    const e: Entry = { record, seq, place: "done", gen: 0 };
    this.tasks.set(id, e);
    this.byKey.set(t.key, id);
    this.size++;
    this.#schedule(e, now);
    return id;
  }

  /** Dedup: the higher priority, every reason, the earlier not-before, the newest payload. */
  merge(e: Entry, t: NewTask, now: number): void {
    const r = e.record;
    if (!r.reasons.includes(t.reason)) r.reasons.push(t.reason);
    if (t.payload !== undefined) r.payload = t.payload;
    if (r.traceparent === undefined && t.traceparent !== undefined) r.traceparent = t.traceparent;
    r.updatedAt = now;
    const raised = t.priority > r.priority;
    if (raised) r.priority = t.priority;
    // A failed task keeps its backoff; a delayed one moves up to the earlier time.
    if (r.state === "queued" && e.place === "later" && (t.notBefore ?? 0) < (r.notBefore ?? 0)) {
      if (t.notBefore === undefined) delete r.notBefore;
      else r.notBefore = t.notBefore;
      this.#schedule(e, now);
    } else if (raised && e.place === "ready") {
      this.toReady(e);
    }
  }

  toReady(e: Entry): void {
    this.#place(e, "ready", this.heaps(e.record.taskType).ready, readyScore(e.record.priority, e.seq));
  }

  toLater(e: Entry, at: number): void {
    this.#place(e, "later", this.heaps(e.record.taskType).later, at);
  }

  toActive(e: Entry, leaseExpiresAt: number): void {
    this.#place(e, "active", this.heaps(e.record.taskType).active, leaseExpiresAt);
  }

  /** The claimable task with the lowest score across `heaps`, removed from its heap. */
  takeBest(heaps: readonly TypeHeaps[]): Entry | undefined {
    let best: MinHeap<Ref> | undefined;
    for (const h of heaps) {
      const at = this.#liveTop(h.ready)?.at;
      if (at !== undefined && (best === undefined || at < (best.peek()?.at ?? 0))) best = h.ready;
    }
    const ref = best?.pop()?.value;
    return ref === undefined ? undefined : this.tasks.get(ref.id);
  }

  /** Moves due delayed and retry-waiting tasks of one type to its ready heap. */
  promote(h: TypeHeaps, now: number): void {
    for (let top = this.#liveTop(h.later); top !== undefined && top.at <= now; top = this.#liveTop(h.later)) {
      h.later.pop();
      const e = this.tasks.get(top.value.id) as Entry;
      if (e.record.state === "failed") {
        e.record.state = "queued";
        e.record.updatedAt = now;
      }
      this.toReady(e);
    }
  }

  /** Returns tasks whose lease expired, counting the attempt; out of attempts, they die. */
  reap(now: number): number {
    let reaped = 0;
    for (const h of this.types.values()) {
      for (
        let top = this.#liveTop(h.active);
        top !== undefined && top.at <= now;
        top = this.#liveTop(h.active)
      ) {
        h.active.pop();
        const e = this.tasks.get(top.value.id) as Entry;
        const error = leaseExpiredMessage(e.record.workerId);
        if (e.record.attempts >= this.options.maxAttempts) this.toDead(e, error, now);
        else {
          this.endLease(e, "queued", error, now);
          this.toReady(e);
          this.takeKey(e);
        }
        reaped++;
      }
    }
    return reaped;
  }

  complete(e: Entry, now: number): void {
    this.endLease(e, "completed", undefined, now);
    this.#place(e, "done");
    this.size--;
    const type = e.record.taskType;
    this.completedByType.set(type, (this.completedByType.get(type) ?? 0) + 1);
    this.#expiries.push({ at: now + this.options.retentionMs, ref: { id: e.record.id, gen: e.gen } });
  }

  toDead(e: Entry, error: string, now: number): void {
    this.endLease(e, "dead", error, now);
    this.#place(e, "dead");
    this.size--;
    this.dead.set(e.record.id, ++this.#deadSeq);
    this.bumpDead(e.record.taskType, 1);
    // Over capacity the oldest deaths go, as the Redis queue's trimDead does.
    let dropped = 0;
    for (const id of this.dead.keys()) {
      if (this.dead.size <= this.options.deadLetterCapacity) break;
      this.dropDead(id);
      dropped++;
    }
    if (dropped > 0) this.options.onDeadLettersDropped("capacity", dropped);
  }

  /** Deletes a dead letter: out of the set, its record and key pointer forgotten. */
  dropDead(id: string): boolean {
    if (!this.dead.delete(id)) return false;
    const r = this.tasks.get(id)?.record;
    if (r !== undefined) {
      this.bumpDead(r.taskType, -1);
      this.forget(r);
    }
    return true;
  }

  /** Leaves processing for `state`: the lease fields go, the error (if any) is recorded. */
  endLease(e: Entry, state: TaskState, error: string | undefined, now: number): void {
    const r = e.record;
    r.state = state;
    r.updatedAt = now;
    if (error !== undefined) r.lastError = error;
    delete r.workerId;
    delete r.leaseExpiresAt;
  }

  /** A task waiting again takes its key's pointer, unless a newer task of the key is still live. */
  takeKey(e: Entry): void {
    const r = e.record;
    const current = this.byKey.get(r.key);
    if (current === r.id) return;
    const other = current === undefined ? undefined : this.tasks.get(current)?.record.state;
    if (!isWaiting(other) && other !== "processing") this.byKey.set(r.key, r.id);
  }

  bumpDead(taskType: string, n: number): void {
    this.deadByType.set(taskType, (this.deadByType.get(taskType) ?? 0) + n);
  }

  /** Deletes a task's record, and its key pointer when it is the newest. */
  forget(r: TaskRecord): void {
    this.tasks.delete(r.id);
    if (this.byKey.get(r.key) === r.id) this.byKey.delete(r.key);
  }

  /** Forgets completed tasks past their retention, and dead letters past theirs. */
  sweep(now: number): void {
    // Map order is death order, and a dead record's updatedAt is its death: the oldest are first.
    let aged = 0;
    for (const id of this.dead.keys()) {
      const r = this.tasks.get(id)?.record;
      if (r !== undefined && r.updatedAt + this.options.deadLetterRetentionMs > now) break;
      this.dropDead(id);
      aged++;
    }
    if (aged > 0) this.options.onDeadLettersDropped("retention", aged);
    const q = this.#expiries;
    while (this.#expiriesHead < q.length && (q[this.#expiriesHead]?.at ?? 0) <= now) {
      const { ref } = q[this.#expiriesHead++] as { ref: Ref };
      const e = this.tasks.get(ref.id);
      if (e !== undefined && e.gen === ref.gen) this.forget(e.record);
    }
    if (this.#expiriesHead > 1024 && this.#expiriesHead * 2 > q.length) {
      this.#expiries = q.slice(this.#expiriesHead);
      this.#expiriesHead = 0;
    }
  }

  /** Puts a queued task where its not-before says: ready now, or later. */
  #schedule(e: Entry, now: number): void {
    const due = e.record.notBefore ?? 0;
    if (due > now) this.toLater(e, due);
    else this.toReady(e);
  }

  #place(e: Entry, place: Place, heap?: MinHeap<Ref>, at?: number): void {
    e.place = place;
    e.gen++;
    if (heap !== undefined && at !== undefined) heap.push(at, { id: e.record.id, gen: e.gen });
  }

  /** The heap's top after dropping stale refs. */
  #liveTop(heap: MinHeap<Ref>): { at: number; value: Ref } | undefined {
    for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
      if (this.tasks.get(top.value.id)?.gen === top.value.gen) return top;
      heap.pop();
    }
    return undefined;
  }
}

function isWaiting(state: TaskState | undefined): boolean {
  return state === "queued" || state === "failed";
}
