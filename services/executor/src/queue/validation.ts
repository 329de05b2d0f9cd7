import { randomFillSync } from "node:crypto";
import { InvalidArgumentError, isTaskReason, parseKey } from "@prescient/core";
import { queueLimits, type TaskQueueOptions } from "./options.js";
import {
  type ClaimHolder,
  type ClaimOptions,
  type DeadLetterSelector,
  type NewTask,
  type TaskFailure,
  taskReasons,
} from "./task-queue.js";

/**
 * Input checks shared by both queues, so that they reject exactly the same
 * things with the same messages. Everything that reaches a store is valid.
 */

/**
 * Task ids are `<sequence>-<nonce>`: the queue's decimal enqueue sequence
 * number, which orders and names the task, and 96 random bits, so that
 * holding one id tells nothing about another tenant's. A bare sequence
 * number is still accepted so that tasks queued before the nonce existed
 * can be acked and looked up after an upgrade; it names no newer task.
 * A partitioned Redis queue prefixes ids of partitions 1 and up with
 * `<partition>.` (partitions.ts); an id without it is in partition 0.
 */
const taskIdPattern = /^([1-9][0-9]{0,2}\.)?[1-9][0-9]{0,19}(-[0-9a-f]{24})?$/;

const nonceBytes = 12;
/**
 * Random bytes for nonces, drawn from the CSPRNG a few kilobytes at a time,
 * as Node's randomUUID does: a randomBytes call per task (a system call and
 * a new Buffer each) was 8% of the CPU of enqueueing 360,000 tasks.
 */
const noncePool = Buffer.alloc(nonceBytes * 512);
let nonceAt = noncePool.length;

/** The random part of a new task id: 96 bits, in hex. */
export function taskIdNonce(): string {
  if (nonceAt === noncePool.length) {
    randomFillSync(noncePool);
    nonceAt = 0;
  }
  const at = nonceAt;
  nonceAt += nonceBytes;
  return noncePool.toString("hex", at, at + nonceBytes);
}
const traceparentPattern = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export function isTaskId(id: string): boolean {
  return typeof id === "string" && taskIdPattern.test(id);
}

export function validateNewTask(task: NewTask, index?: number): NewTask {
  const where = index === undefined ? "task" : `tasks[${index}]`;
  if (typeof task !== "object" || task === null) throw new InvalidArgumentError(`${where} is not an object`);
  if (typeof task.key !== "string") throw new InvalidArgumentError(`${where}.key is not a string`);
  const parts = parseKey(task.key);
  if (parts.tenant !== task.tenant || parts.taskType !== task.taskType)
    throw new InvalidArgumentError(
      `${where}.key ${JSON.stringify(task.key.slice(0, 120))} does not belong to tenant ${JSON.stringify(task.tenant)} and task type ${JSON.stringify(task.taskType)}`,
    );
  if (!Number.isInteger(task.priority) || task.priority < 1 || task.priority > 10)
    throw new InvalidArgumentError(`${where}.priority must be an integer from 1 to 10, got ${task.priority}`);
  if (!isTaskReason(task.reason))
    throw new InvalidArgumentError(
      `${where}.reason ${JSON.stringify(task.reason)} is not one of ${taskReasons.join(", ")}`,
    );
  if (task.notBefore !== undefined && !(Number.isSafeInteger(task.notBefore) && task.notBefore >= 0))
    throw new InvalidArgumentError(`${where}.notBefore must be a time in epoch milliseconds`);
  if (task.traceparent !== undefined && !traceparentPattern.test(task.traceparent))
    throw new InvalidArgumentError(`${where}.traceparent is not a W3C traceparent`);
  if (task.payload !== undefined) {
    if (typeof task.payload !== "string") throw new InvalidArgumentError(`${where}.payload is not a string`);
    const bytes = Buffer.byteLength(task.payload, "utf8");
    if (bytes > queueLimits.payloadMaxBytes)
      throw new InvalidArgumentError(
        `${where}.payload is ${bytes} bytes; the limit is ${queueLimits.payloadMaxBytes} bytes`,
      );
  }
  return task;
}

export function validateNewTasks(tasks: readonly NewTask[]): void {
  if (!Array.isArray(tasks)) throw new InvalidArgumentError("tasks is not an array");
  if (tasks.length > queueLimits.enqueueBatchMax)
    throw new InvalidArgumentError(
      `enqueueMany takes at most ${queueLimits.enqueueBatchMax} tasks, got ${tasks.length}`,
    );
  for (const [i, t] of tasks.entries()) validateNewTask(t, i);
}

export function validateIds(ids: readonly string[], what: string): void {
  if (!Array.isArray(ids)) throw new InvalidArgumentError(`${what}: ids is not an array`);
  if (ids.length > queueLimits.batchMax)
    throw new InvalidArgumentError(`${what} takes at most ${queueLimits.batchMax} ids, got ${ids.length}`);
  for (const id of ids) validateId(id);
}

export function validateId(id: string): void {
  if (!isTaskId(id))
    throw new InvalidArgumentError(`task id ${JSON.stringify(String(id).slice(0, 40))} is malformed`);
}

export interface ResolvedClaim {
  n: number;
  workerId: string;
  /** Empty means every type. */
  taskTypes: string[];
  leaseMs: number;
}

export function validateClaim(n: number, options: ClaimOptions, defaults: TaskQueueOptions): ResolvedClaim {
  if (!Number.isInteger(n) || n < 1 || n > queueLimits.batchMax)
    throw new InvalidArgumentError(
      `claim size must be an integer from 1 to ${queueLimits.batchMax}, got ${n}`,
    );
  const workerId = validateWorkerId(options.workerId);
  if (options.taskTypes !== undefined && !Array.isArray(options.taskTypes))
    throw new InvalidArgumentError("claim taskTypes is not an array");
  const taskTypes = [...new Set(options.taskTypes ?? [])];
  for (const t of taskTypes)
    if (typeof t !== "string" || !/^[a-z][a-z0-9_]{0,63}$/.test(t))
      throw new InvalidArgumentError(`claim task type ${JSON.stringify(t)} is not a task type name`);
  return { n, workerId, taskTypes, leaseMs: validateLease(options.leaseMs ?? defaults.leaseMs) };
}

function validateWorkerId(workerId: unknown): string {
  if (
    typeof workerId !== "string" ||
    workerId.length === 0 ||
    workerId.length > queueLimits.workerIdMaxLength
  )
    throw new InvalidArgumentError(`workerId must be 1 to ${queueLimits.workerIdMaxLength} characters`);
  return workerId;
}

/** The worker whose claims an end of a claim may end; "" (none named) for any. */
export function validateHolder(holder: ClaimHolder | undefined): string {
  return holder?.workerId === undefined ? "" : validateWorkerId(holder.workerId);
}

export function validateLease(leaseMs: number): number {
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 1)
    throw new InvalidArgumentError(`leaseMs must be a positive integer, got ${leaseMs}`);
  return leaseMs;
}

/** Validates failures; errors longer than the limit are cut, not refused (a worker's last words). */
export function validateFailures(failures: readonly TaskFailure[]): TaskFailure[] {
  if (!Array.isArray(failures)) throw new InvalidArgumentError("failures is not an array");
  if (failures.length > queueLimits.batchMax)
    throw new InvalidArgumentError(
      `failMany takes at most ${queueLimits.batchMax} tasks, got ${failures.length}`,
    );
  return failures.map((f) => {
    validateId(f.id);
    const error = String(f.error ?? "").slice(0, queueLimits.errorMaxLength) || "failed";
    return f.permanent === true ? { id: f.id, error, permanent: true } : { id: f.id, error };
  });
}

export function validatePageSize(pageSize: number | undefined): number {
  if (pageSize === undefined || pageSize === 0) return queueLimits.defaultPageSize;
  if (!Number.isInteger(pageSize) || pageSize < 0)
    throw new InvalidArgumentError(`pageSize must be a non-negative integer, got ${pageSize}`);
  return Math.min(pageSize, queueLimits.pageSizeMax);
}

/** Page tokens are the dead-letter sequence number of the last task returned. */
export function parsePageToken(token: string | undefined): number {
  if (token === undefined || token === "") return 0;
  if (!/^[0-9]{1,16}$/.test(token)) throw new InvalidArgumentError("pageToken is not one this queue issued");
  return Number(token);
}

export function validateSelector(selector: DeadLetterSelector): DeadLetterSelector {
  if (typeof selector !== "object" || selector === null)
    throw new InvalidArgumentError("select dead letters by ids or all");
  if ("all" in selector && selector.all === true) return { all: true };
  if ("ids" in selector) {
    validateIds(selector.ids, "dead letters");
    return { ids: [...new Set(selector.ids)] };
  }
  throw new InvalidArgumentError("select dead letters by ids or all");
}
