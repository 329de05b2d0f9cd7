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
 * Schedule runs in this process: for `prescient up`, tests and the
 * evaluator. Leases are measured on the `now` the caller passes (its clock).
 */
export class MemoryRunStore implements RunStore {
  readonly name = "memory";
  readonly #runs = new Map<string, RunRecord>();
  readonly #leases = new Map<string, { owner: string; until: number }>();
  /** Each schedule's record keys, oldest claim first. */
  readonly #bySchedule = new Map<string, Set<string>>();

  async ready(): Promise<void> {}

  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    const lease = this.#leases.get(request.key);
    const held = lease !== undefined && lease.until > request.now;
    const outcome = decideClaim(this.#runs.get(request.key), held, request);
    if (outcome.claimed) {
      this.#runs.set(request.key, outcome.record);
      this.#leases.set(request.key, { owner: request.owner, until: request.now + request.leaseMs });
      this.#trim(request.schedule, request.key);
    }
    return structuredClone(outcome);
  }

  async renew(key: string, owner: string, leaseMs: number, now: number): Promise<boolean> {
    if (!this.#owns(key, owner)) return false;
    this.#leases.set(key, { owner, until: now + leaseMs });
    return true;
  }

  async finish(key: string, owner: string, outcome: RunFinish): Promise<boolean> {
    const record = this.#runs.get(key);
    // Only the owner of a running record may finish it: a taken-over owner's late result is dropped.
    if (record === undefined || !this.#owns(key, owner)) return false;
    this.#leases.delete(key);
    const { retryAt, ...rest } = outcome;
    this.#runs.set(key, { ...record, ...rest, ...(retryAt !== undefined ? { retryAt } : {}) });
    return true;
  }

  async get(key: string): Promise<RunRecord | undefined> {
    const r = this.#runs.get(key);
    return r === undefined ? undefined : structuredClone(r);
  }

  async list(filter: { schedule?: string; limit: number }): Promise<RunRecord[]> {
    return [...this.#runs.values()]
      .filter((r) => filter.schedule === undefined || r.schedule === filter.schedule)
      .sort((a, b) => b.startedAt - a.startedAt || (a.key < b.key ? 1 : -1))
      .slice(0, filter.limit)
      .map((r) => structuredClone(r));
  }

  async close(): Promise<void> {}

  /** The record is running under this owner (a lapsed lease nobody took over still counts). */
  #owns(key: string, owner: string): boolean {
    const record = this.#runs.get(key);
    return record !== undefined && record.status === "running" && record.owner === owner;
  }

  /** Keeps the newest `runHistoryLimit` records of the schedule (running ones are never dropped). */
  #trim(schedule: string, key: string): void {
    let keys = this.#bySchedule.get(schedule);
    if (keys === undefined) {
      keys = new Set();
      this.#bySchedule.set(schedule, keys);
    }
    keys.delete(key);
    keys.add(key); // insertion order is claim order, oldest first
    if (keys.size <= runHistoryLimit) return;
    let excess = keys.size - runHistoryLimit;
    for (const k of keys) {
      if (excess === 0) break;
      if (this.#runs.get(k)?.status === "running") continue;
      keys.delete(k);
      this.#runs.delete(k);
      this.#leases.delete(k);
      excess--;
    }
  }
}
