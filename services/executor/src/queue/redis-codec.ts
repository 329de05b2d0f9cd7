import { isTaskReason } from "@prescient/core";
import { claimFields } from "./redis-scripts/claim.js";
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
  // Scripts leave worker and lease behind when a task leaves processing (lib.ts).
  if (state === "processing" && f.worker !== undefined) record.workerId = f.worker;
  if (state === "processing" && f.lease !== undefined) record.leaseExpiresAt = Number(f.lease);
  return record;
}

/** A JSON-encoded list (scripts encode big replies with cjson). */
export function jsonArray(reply: unknown): unknown[] {
  return asArray(JSON.parse(String(reply)));
}

/**
 * One claimed task from the claim script's [id, ...claimFields values]; the
 * fields it leaves out follow from the claim itself.
 */
export function decodeClaimed(row: unknown, now: number, workerId: string, leaseMs: number): ClaimedTask {
  const [id, ...values] = asArray(row);
  const f: Record<string, string> = { id: String(id), state: "processing", updated: String(now) };
  claimFields.forEach((name, i) => {
    const value = values[i];
    // Lua's false is HMGET's nil: a field the record does not have.
    if (value !== false && value !== null && value !== undefined) f[name] = String(value);
  });
  const record = decodeRecord(f) as TaskRecord;
  return { ...record, state: "processing", workerId, leaseExpiresAt: now + leaseMs };
}

export function asArray(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw new Error(`task queue script returned ${typeof reply}, not a list`);
  return reply;
}
