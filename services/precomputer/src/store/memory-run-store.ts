import {
  type ClaimOutcome,
  type ClaimRequest,
  decideClaim,
  type RunFinish,
  type RunRecord,
  type RunStore,
  runHistoryLimit,
} from "../core/run-store.js";

/**
 * A caller's own copy of a record (its fields are all primitives). Every
 * field is listed: V8 clones a spread object onto a map of its own, and
 * adding a field to such a clone costs microseconds, which a one-second
 * schedule pays on every run.
 */
function copy(r: RunRecord): RunRecord {
  const c: RunRecord = {
    key: r.key,
    schedule: r.schedule,
    windowStart: r.windowStart,
    status: r.status,
    owner: r.owner,
    startedAt: r.startedAt,
    items: r.items,
    error: r.error,
    attempts: r.attempts,
    note: r.note,
  };
  if (r.finishedAt !== undefined) c.finishedAt = r.finishedAt;
  if (r.retryAt !== undefined) c.retryAt = r.retryAt;
  return c;
}

/** A run's record, its lease, and its place in its schedule's claim order. */
interface Entry {
  record: RunRecord;
  leaseOwner: string;
  /** The lease runs until then; never once the run finished. */
  leaseUntil: number;
  /** Index in its schedule's ClaimOrder. */
  at: number;
}

/**
 * Schedule runs in this process: for `prescient up`, tests and the
 * evaluator. Leases are measured on the `now` the caller passes (its clock).
 * One map holds each run's record with its lease: a one-second schedule
 * claims and finishes a run every second, and every map it touches (or
 * empties and refills) costs it.
 */
export class MemoryRunStore implements RunStore {
  readonly name = "memory";
  readonly #runs = new Map<string, Entry>();
  /** Each schedule's record keys, oldest claim first. */
  readonly #bySchedule = new Map<string, ClaimOrder>();

  ready(): Promise<void> {
    return Promise.resolve();
  }

  // Methods answer settled promises without async frames: a one-second schedule calls three a second.
  claim(request: ClaimRequest): Promise<ClaimOutcome> {
    const entry = this.#runs.get(request.key);
    const held = entry !== undefined && entry.leaseUntil > request.now;
    const outcome = decideClaim(entry?.record, held, request);
    if (outcome.claimed) {
      const until = request.now + request.leaseMs;
      let claimed = entry;
      if (claimed === undefined) {
        claimed = { record: outcome.record, leaseOwner: request.owner, leaseUntil: until, at: -1 };
        this.#runs.set(request.key, claimed);
      } else {
        claimed.record = outcome.record;
        claimed.leaseOwner = request.owner;
        claimed.leaseUntil = until;
      }
      this.#trim(request.schedule, request.key, claimed);
    }
    return Promise.resolve(
      outcome.claimed
        ? { claimed: true, record: copy(outcome.record), takeover: outcome.takeover }
        : { claimed: false, why: outcome.why, record: copy(outcome.record) },
    );
  }

  renew(key: string, owner: string, leaseMs: number, now: number): Promise<boolean> {
    const entry = this.#runs.get(key);
    if (entry === undefined || !owns(entry, owner)) return Promise.resolve(false);
    entry.leaseOwner = owner;
    entry.leaseUntil = now + leaseMs;
    return Promise.resolve(true);
  }

  finish(key: string, owner: string, outcome: RunFinish): Promise<boolean> {
    const entry = this.#runs.get(key);
    // Only the owner of a running record may finish it: a taken-over owner's late result is dropped.
    if (entry === undefined || !owns(entry, owner)) return Promise.resolve(false);
    entry.leaseUntil = Number.NEGATIVE_INFINITY;
    const next = copy(entry.record);
    next.status = outcome.status;
    next.finishedAt = outcome.finishedAt;
    next.items = outcome.items;
    next.error = outcome.error;
    next.note = outcome.note;
    if (outcome.retryAt !== undefined) next.retryAt = outcome.retryAt;
    entry.record = next;
    return Promise.resolve(true);
  }

  get(key: string): Promise<RunRecord | undefined> {
    const entry = this.#runs.get(key);
    return Promise.resolve(entry === undefined ? undefined : copy(entry.record));
  }

  async list(filter: { schedule?: string; limit: number }): Promise<RunRecord[]> {
    return [...this.#runs.values()]
      .map((e) => e.record)
      .filter((r) => filter.schedule === undefined || r.schedule === filter.schedule)
      .sort((a, b) => b.startedAt - a.startedAt || (a.key < b.key ? 1 : -1))
      .slice(0, filter.limit)
      .map(copy);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Keeps the newest `runHistoryLimit` records of the schedule (running ones are never dropped). */
  #trim(schedule: string, key: string, entry: Entry): void {
    let order = this.#bySchedule.get(schedule);
    if (order === undefined) {
      order = new ClaimOrder(this.#runs);
      this.#bySchedule.set(schedule, order);
    }
    order.claimed(key, entry);
    order.trim(runHistoryLimit);
  }
}

/** The record is running under this owner (a lapsed lease nobody took over still counts). */
const owns = (entry: Entry, owner: string): boolean =>
  entry.record.status === "running" && entry.record.owner === owner;

/**
 * A schedule's record keys in claim order (a key claimed again moves to the
 * end), as a queue: trimming takes from the front, where a Set would skip
 * ever more deleted entries before compacting. Each entry knows its place.
 */
class ClaimOrder {
  /** Keys in claim order from `#head`; undefined where a key was dropped or claimed again later. */
  #queue: (string | undefined)[] = [];
  #head = 0;
  #size = 0;
  readonly #runs: Map<string, Entry>;

  constructor(runs: Map<string, Entry>) {
    this.#runs = runs;
  }

  claimed(key: string, entry: Entry): void {
    if (entry.at >= 0 && this.#queue[entry.at] === key) this.#queue[entry.at] = undefined;
    else this.#size++;
    entry.at = this.#queue.length;
    this.#queue.push(key);
    if (this.#queue.length - this.#head > 2 * this.#size + 1024) this.#compact();
  }

  /** Drops the oldest records that are not running until at most `limit` remain. */
  trim(limit: number): void {
    let excess = this.#size - limit;
    if (excess <= 0) return;
    const queue = this.#queue;
    for (let i = this.#head; i < queue.length && excess > 0; i++) {
      const k = queue[i];
      if (k === undefined) continue;
      const entry = this.#runs.get(k);
      if (entry !== undefined && entry.record.status === "running") continue;
      this.#runs.delete(k);
      queue[i] = undefined;
      this.#size--;
      excess--;
    }
    while (this.#head < queue.length && queue[this.#head] === undefined) this.#head++;
    if (this.#head > 1024) this.#compact();
  }

  #compact(): void {
    const live: string[] = [];
    for (let i = this.#head; i < this.#queue.length; i++) {
      const k = this.#queue[i];
      if (k === undefined) continue;
      const entry = this.#runs.get(k);
      if (entry !== undefined) entry.at = live.length;
      live.push(k);
    }
    this.#queue = live;
    this.#head = 0;
  }
}
