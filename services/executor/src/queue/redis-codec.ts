import { isTaskReason } from "@prescient/core";
import { claimFields } from "./queue-scripts.js";
import type { ClaimedTask, TaskRecord, TaskState } from "./task-queue.js";
import { taskStates } from "./task-queue.js";

/**
 * Decoding of what the Lua scripts return: HGETALL field lists (or ioredis's
 * HGETALL objects) into TaskRecords, and reply arrays into typed values.
 */
const stateSet: ReadonlySet<string> = new Set(taskStates);

/** A flat [field, value, field, value, ...] list as a map; a repeated field keeps its last value. */
export function fieldMap(reply: unknown): Record<string, string> {
  const list = asArray(reply);
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[String(list[i])] = String(list[i + 1]);
  return out;
}

/** A record hash as a TaskRecord; undefined when the hash is gone (expired or purged). */
export function decodeRecord(f: Record<string, string>): TaskRecord | undefined {
  if (f.id === undefined || f.key === undefined || f.type === undefined) return undefined;
  const state: TaskState = stateSet.has(f.state ?? "") ? (f.state as TaskState) : "queued";
  const record: TaskRecord = {
    id: f.id,
    key: f.key,
    taskType: f.type,
    tenant: f.tenant ?? "",
    priority: Number(f.priority),
    reasons: (f.reasons ?? "").split(",").filter(isTaskReason),
    state,
    attempts: Number(f.attempts ?? 0),
    createdAt: Number(f.created),
    updatedAt: Number(f.updated),
  };
  if (f.notbefore !== undefined) record.notBefore = Number(f.notbefore);
  if (f.error !== undefined) record.lastError = f.error;
  if (f.traceparent !== undefined) record.traceparent = f.traceparent;
  if (f.payload !== undefined) record.payload = f.payload;
  // Scripts leave worker and lease behind when a task leaves processing (includes/lib.lua).
  if (state === "processing" && f.worker !== undefined) record.workerId = f.worker;
  if (state === "processing" && f.lease !== undefined) record.leaseExpiresAt = Number(f.lease);
  return record;
}

/** A JSON-encoded list (scripts encode big replies with cjson). */
export function jsonArray(reply: unknown): unknown[] {
  return asArray(JSON.parse(String(reply)));
}

/** Position of each claim field in a claimed row (after the id). */
const claimed = Object.fromEntries(claimFields.map((name, i) => [name, i])) as Record<
  (typeof claimFields)[number],
  number
>;

/**
 * One claimed task from the claim script's [id, ...claimFields values]; the
 * fields it leaves out follow from the claim itself. Built directly rather
 * than through a field map and decodeRecord: a claim decodes hundreds of
 * these per call, and the intermediate objects were most of its cost. What
 * it builds is exactly what decodeRecord would.
 */
export function decodeClaimed(row: unknown, now: number, workerId: string, leaseMs: number): ClaimedTask {
  const v = asArray(row);
  // Lua's false is HMGET's nil: a field the record does not have.
  const at = (i: number): string | undefined => {
    const value = v[i + 1];
    return value === false || value === null || value === undefined ? undefined : String(value);
  };
  const key = at(claimed.key);
  const taskType = at(claimed.type);
  if (key === undefined || taskType === undefined) {
    // Not a record decodeRecord accepts; keep its answer for such a row.
    const record = decodeRecord({
      id: String(v[0]),
      state: "processing",
      updated: String(now),
    }) as TaskRecord;
    return { ...record, state: "processing", workerId, leaseExpiresAt: now + leaseMs };
  }
  const task: ClaimedTask = {
    id: String(v[0]),
    key,
    taskType,
    tenant: at(claimed.tenant) ?? "",
    priority: Number(at(claimed.priority)),
    reasons: (at(claimed.reasons) ?? "").split(",").filter(isTaskReason),
    state: "processing",
    attempts: Number(at(claimed.attempts) ?? 0),
    createdAt: Number(at(claimed.created)),
    updatedAt: now,
    workerId,
    leaseExpiresAt: now + leaseMs,
  };
  const notBefore = at(claimed.notbefore);
  if (notBefore !== undefined) task.notBefore = Number(notBefore);
  const error = at(claimed.error);
  if (error !== undefined) task.lastError = error;
  const traceparent = at(claimed.traceparent);
  if (traceparent !== undefined) task.traceparent = traceparent;
  const payload = at(claimed.payload);
  if (payload !== undefined) task.payload = payload;
  return task;
}

export function asArray(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw new Error(`task queue script returned ${typeof reply}, not a list`);
  return reply;
}
