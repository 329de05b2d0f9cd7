import { status } from "@grpc/grpc-js";
import type { PrescientClient } from "@prescient/client";
import { executorV1 } from "@prescient/contracts";
import { callUnary, clientChannelOptions, insecure } from "@prescient/kit";
import type { ErrorCounts } from "./error-counts.js";

type Fate = "pending" | "completed" | "dead";

interface Entry {
  key: string;
  /** When the Enqueue/Trigger that answered this id was sent: the task was queued after it. */
  sentAt: number;
  source: string;
  fate: Fate;
  /** The last state GetTask reported, or "not_found". */
  lastSeen: string;
  lastError: string;
  /** The record's updated_at (ms since epoch): for a dead task, when it died. */
  updatedAt: number;
}

export interface LedgerSummary {
  acknowledged: number;
  /** GetTask said completed (seen while the record was retained). */
  completed: number;
  /** GetTask was NOT_FOUND, but the cache holds the key's result computed after the task was acknowledged. */
  completedByCacheEvidence: number;
  dead: number;
  deadReasons: Record<string, number>;
  /** Dead tasks by "<source> <task type>", and s since the soak started when each group first and last died. */
  deadBySourceAndType: Record<string, { count: number; firstS: number; lastS: number }>;
  /** Still queued, delayed, failed (awaiting retry) or processing when the drain wait ended. */
  stillQueued: number;
  stillQueuedByState: Record<string, number>;
  /** Acknowledged, and neither completed, dead nor still queued. */
  lost: number;
  lostSample: { id: string; key: string; source: string; sentAt: string; lastSeen: string }[];
  bySource: Record<string, number>;
}

const stateName: Record<number, string> = {
  [executorV1.TaskState.TASK_STATE_QUEUED]: "queued",
  [executorV1.TaskState.TASK_STATE_PROCESSING]: "processing",
  [executorV1.TaskState.TASK_STATE_COMPLETED]: "completed",
  [executorV1.TaskState.TASK_STATE_FAILED]: "failed",
  [executorV1.TaskState.TASK_STATE_DEAD]: "dead",
};

/**
 * Every task id the executor acknowledged, and what became of it. The
 * executor keeps a completed task's record for only 5 minutes (the queue's
 * retentionMs; no variable sets it), shorter than a soak, so `sweep` runs
 * through the run and records each completion while it is still readable.
 * A NOT_FOUND at the end falls back to the cache: a result for the task's
 * key computed after the task was acknowledged shows the task (or a later
 * one for the same key) ran.
 */
export class TaskLedger {
  readonly #entries = new Map<string, Entry>();
  readonly #executor: executorV1.ExecutorServiceClient;
  readonly #errors: ErrorCounts;
  #sweeping = false;

  constructor(executorAddr: string, errors: ErrorCounts) {
    this.#executor = new executorV1.ExecutorServiceClient(executorAddr, insecure(), clientChannelOptions());
    this.#errors = errors;
  }

  get size(): number {
    return this.#entries.size;
  }

  get pending(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (e.fate === "pending") n++;
    return n;
  }

  acknowledge(id: string, key: string, sentAt: number, source: string): void {
    // A deduplicated enqueue answers the id of the task already waiting: keep the first sighting.
    if (this.#entries.has(id)) return;
    this.#entries.set(id, {
      key,
      sentAt,
      source,
      fate: "pending",
      lastSeen: "acknowledged",
      lastError: "",
      updatedAt: 0,
    });
  }

  /** GetTask for every pending id, `concurrency` at a time; skipped if the previous sweep still runs. */
  async sweep(concurrency = 8): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      const ids = [...this.#entries].filter(([, e]) => e.fate === "pending").map(([id]) => id);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < ids.length) {
          const id = ids[next++] as string;
          await this.#check(id);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    } finally {
      this.#sweeping = false;
    }
  }

  async #check(id: string): Promise<void> {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    try {
      const r = await callUnary(this.#executor.getTask.bind(this.#executor), { id }, { timeoutMs: 5_000 });
      this.#errors.ok("GetTask (checker)");
      const task = r.task;
      if (task === undefined) return;
      entry.lastSeen = stateName[task.state] ?? `state_${task.state}`;
      entry.lastError = task.lastError;
      entry.updatedAt = task.updatedAt?.getTime() ?? 0;
      if (task.state === executorV1.TaskState.TASK_STATE_COMPLETED) entry.fate = "completed";
      else if (task.state === executorV1.TaskState.TASK_STATE_DEAD) entry.fate = "dead";
    } catch (e) {
      if ((e as { code?: number }).code === status.NOT_FOUND) {
        this.#errors.ok("GetTask (checker)");
        entry.lastSeen = "not_found";
      } else this.#errors.fail("GetTask (checker)", e);
    }
  }

  /** Queued + delayed + processing + failed across the executor, or undefined when it cannot answer. */
  async outstanding(): Promise<number | undefined> {
    try {
      const r = await callUnary(this.#executor.queueStats.bind(this.#executor), {}, { timeoutMs: 5_000 });
      this.#errors.ok("QueueStats (checker)");
      const t = r.total;
      if (t === undefined) return 0;
      return Number(t.queued + t.delayed + t.processing + t.failed);
    } catch (e) {
      this.#errors.fail("QueueStats (checker)", e);
      return undefined;
    }
  }

  /** Sorts every entry into its fate; NOT_FOUND ones are looked up in the cache first. */
  async summarize(client: PrescientClient, start: number): Promise<LedgerSummary> {
    const s: LedgerSummary = {
      acknowledged: this.#entries.size,
      completed: 0,
      completedByCacheEvidence: 0,
      dead: 0,
      deadReasons: {},
      deadBySourceAndType: {},
      stillQueued: 0,
      stillQueuedByState: {},
      lost: 0,
      lostSample: [],
      bySource: {},
    };
    for (const [id, e] of this.#entries) {
      s.bySource[e.source] = (s.bySource[e.source] ?? 0) + 1;
      if (e.fate === "completed") s.completed++;
      else if (e.fate === "dead") {
        s.dead++;
        // Reasons carry ids and numbers; the first 80 characters group them well enough.
        const reason = e.lastError.slice(0, 80) || "(no reason)";
        s.deadReasons[reason] = (s.deadReasons[reason] ?? 0) + 1;
        const group = `${e.source} ${e.key.split("/")[1] ?? "?"}`;
        const at = Math.round((e.updatedAt - start) / 1000);
        const g = s.deadBySourceAndType[group] ?? { count: 0, firstS: at, lastS: at };
        g.count++;
        g.firstS = Math.min(g.firstS, at);
        g.lastS = Math.max(g.lastS, at);
        s.deadBySourceAndType[group] = g;
      } else if (e.lastSeen !== "not_found" && e.lastSeen !== "acknowledged") {
        s.stillQueued++;
        s.stillQueuedByState[e.lastSeen] = (s.stillQueuedByState[e.lastSeen] ?? 0) + 1;
      } else if (await this.#cacheShowsCompleted(client, e)) s.completedByCacheEvidence++;
      else {
        s.lost++;
        if (s.lostSample.length < 20)
          s.lostSample.push({
            id,
            key: e.key,
            source: e.source,
            sentAt: new Date(e.sentAt).toISOString(),
            lastSeen: e.lastSeen,
          });
      }
    }
    return s;
  }

  async #cacheShowsCompleted(client: PrescientClient, e: Entry): Promise<boolean> {
    try {
      const r = await client.lookup(e.key, { deadlineMs: 5_000 });
      this.#errors.ok("Lookup (checker)");
      return r.outcome !== "miss" && r.computedAt !== undefined && r.computedAt.getTime() >= e.sentAt;
    } catch (err) {
      this.#errors.fail("Lookup (checker)", err);
      return false;
    }
  }

  close(): void {
    this.#executor.close();
  }
}
