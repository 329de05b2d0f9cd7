import type { cacheV1, commonV1 } from "@prescient/contracts";
import {
  type Clock,
  errorMessage,
  inputDigest,
  type KeyParts,
  parseKey,
  sha256Hex,
  systemClock,
  type TaskType,
  type TaskTypeRegistry,
  TimeSlicer,
} from "@prescient/core";
import { keyToProto } from "@prescient/kit";
import type { Predictor } from "../compute/oip-client.js";
import type { EntityStore, Features } from "../entities/entity-store.js";
import { buildInputs } from "../inputs/build-inputs.js";
import type { HandlerItem, ResultSink, TaskHandlers } from "./ports.js";

/** What a batch needs of each task: its id, key and optional inline features. */
export interface BatchTask {
  id: string;
  key: string;
  /** JSON of features sent with the task (Compute, semantic keys); they win over stored ones. */
  payload?: string;
}

export interface BatchFailure {
  id: string;
  error: string;
  /** The task can never succeed as it is (bad inputs): dead-letter it now rather than retry. */
  permanent: boolean;
}

export interface BatchOutcome {
  completed: string[];
  failed: BatchFailure[];
  /** Results by task id, as written to the sink. */
  results: Map<string, commonV1.Result>;
}

export interface BatchDeps {
  taskTypes: TaskTypeRegistry;
  entities: EntityStore;
  predictor: Predictor;
  handlers: TaskHandlers;
  sink: ResultSink;
  clock?: Clock;
}

/** How a batch is cut into calls. Defaults: batchDefaults. */
export interface BatchOptions {
  /**
   * Most tasks of one type in one call: rows of a ModelInfer, at most the
   * smallest max_batch_size of the models this executor runs, which the
   * predictor enforces (the shipped models': 256); items of an external
   * handler's Handle, which got at most a claim (256 by default) when claims
   * were that size. A task type's share of a claim that is larger goes out
   * as several calls at once, so a claim is not bound to one model batch.
   * Default 256.
   */
  rowsPerCall: number;
  /**
   * Most results in one PutMany: at most the cache's limit
   * (PRESCIENT_CACHE_MAX_PUT_MANY, 1000 by default). A batch with more is
   * written in several PutManys at once, and fails whole if any of them
   * fails (the writes are idempotent, so the retry rewrites them). Default 1000.
   */
  putEntries: number;
}

export const batchDefaults: Readonly<BatchOptions> = { rowsPerCall: 256, putEntries: 1000 };

/** The options with their defaults, checked: slices of a size below 1 would never end. */
export function batchOptionsOf(options?: Partial<BatchOptions>): BatchOptions {
  const o = { ...batchDefaults, ...options };
  for (const [name, v] of Object.entries(o))
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer`);
  return o;
}

interface Row {
  task: BatchTask;
  parts: KeyParts;
  features: Features | undefined;
}

/**
 * Runs one claimed batch: groups tasks by task type (one model version each),
 * builds every group's inputs from entity features, makes one ModelInfer (or
 * one external Handle) per group of at most `rowsPerCall`, and writes all
 * results with one PutMany per `putEntries`.
 * A task with bad inputs fails alone; a group whose predictor call fails
 * fails as a group (transiently, so it is retried); a failed write fails
 * every task that computed, since nothing of theirs was stored.
 */
export async function processBatch(
  tasks: readonly BatchTask[],
  deps: BatchDeps,
  options?: Partial<BatchOptions>,
): Promise<BatchOutcome> {
  const { rowsPerCall, putEntries } = batchOptionsOf(options);
  const clock = deps.clock ?? systemClock;
  const failed: BatchFailure[] = [];
  const rows: Row[] = [];
  for (const task of tasks) {
    try {
      const parts = parseKey(task.key);
      deps.taskTypes.get(parts.taskType);
      rows.push({ task, parts, features: parseInline(task.payload) });
    } catch (e) {
      failed.push({ id: task.id, error: errorMessage(e), permanent: true });
    }
  }

  // One round trip for every entity's stored features.
  const needStored = rows.filter((r) => r.parts.entityId !== undefined);
  const stored = await deps.entities.getMany(
    needStored.map((r) => ({ tenant: r.parts.tenant, entityId: r.parts.entityId as string })),
  );
  needStored.forEach((r, i) => {
    const s = stored[i];
    // Stores answer fresh objects, so one without inline features is used as it is, not copied.
    if (s !== undefined) r.features = r.features === undefined ? s : { ...s, ...r.features };
  });

  const byType = new Map<string, Row[]>();
  for (const row of rows) {
    const group = byType.get(row.parts.taskType);
    if (group) group.push(row);
    else byType.set(row.parts.taskType, [row]);
  }
  // A type's group in slices of at most rowsPerCall, one ModelInfer or Handle each.
  const groups: Array<[string, Row[]]> = [];
  for (const [name, group] of byType)
    for (let i = 0; i < group.length; i += rowsPerCall) groups.push([name, group.slice(i, i + rowsPerCall)]);

  const entries: { id: string; entry: cacheV1.PutEntry }[] = [];
  await Promise.all(
    groups.map(async ([name, group]) => {
      const taskType = deps.taskTypes.get(name);
      try {
        const computed =
          taskType.kind === "onnx"
            ? await inferGroup(taskType, group, deps, clock, failed)
            : await handleGroup(taskType, group, deps, clock, failed);
        entries.push(...computed);
      } catch (e) {
        const error = `${taskType.kind === "onnx" ? "predictor" : "task handler"} failed: ${errorMessage(e)}`;
        for (const row of group) failed.push({ id: row.task.id, error, permanent: false });
      }
    }),
  );

  const results = new Map<string, commonV1.Result>();
  if (entries.length > 0) {
    try {
      const all = entries.map((e) => e.entry);
      const writes: Promise<void>[] = [];
      for (let i = 0; i < all.length; i += putEntries)
        writes.push(deps.sink.putMany(all.slice(i, i + putEntries)));
      await Promise.all(writes);
    } catch (e) {
      const error = `writing results to the cache failed: ${errorMessage(e)}`;
      for (const { id } of entries) failed.push({ id, error, permanent: false });
      return { completed: [], failed, results };
    }
  }
  for (const { id, entry } of entries) results.set(id, resultOf(entry, clock));
  return { completed: entries.map((e) => e.id), failed, results };
}

async function inferGroup(
  taskType: TaskType,
  group: Row[],
  deps: BatchDeps,
  clock: Clock,
  failed: BatchFailure[],
): Promise<{ id: string; entry: cacheV1.PutEntry }[]> {
  const built = buildInputs(
    taskType,
    group.map((r) => r.features),
  );
  for (const f of built.failures)
    failed.push({ id: group[f.index]!.task.id, error: f.reason, permanent: true });
  if (built.rows.length === 0) return [];
  const started = clock.now();
  const response = await deps.predictor.infer(
    taskType.model,
    taskType.modelVersion,
    built.tensors,
    taskType.outputs,
  );
  const computeMs = clock.now() - started;
  return built.rows.map((index, row) => {
    const r = group[index]!;
    const tensors: commonV1.Tensor[] = response.outputs.map((o) => ({
      name: o.name,
      datatype: o.datatype,
      shape: o.rowShape.map(BigInt),
      data: o.rows[row] ?? [],
    }));
    const inputs = built.tensors.map((t) => t.values.slice(row * t.shape[1], (row + 1) * t.shape[1]));
    return {
      id: r.task.id,
      entry: entryOf(
        r.parts,
        { tensors: { tensors }, contentType: "" },
        taskType.model,
        response.modelVersion,
        computeMs,
        rowsDigest(inputs),
      ),
    };
  });
}

/**
 * inputDigest of a row's input values, without the general canonical-JSON
 * walk: for arrays of finite numbers JSON.stringify writes exactly the
 * canonical form (shortest round-trip numbers, -0 as 0), and the walk was a
 * good part of the worker's CPU per task. Anything else (which buildInputs
 * never yields) takes inputDigest, and its checks, as before.
 */
function rowsDigest(inputs: number[][]): string {
  for (const values of inputs) for (const v of values) if (!Number.isFinite(v)) return inputDigest(inputs);
  return sha256Hex(JSON.stringify(inputs));
}

async function handleGroup(
  taskType: TaskType,
  group: Row[],
  deps: BatchDeps,
  clock: Clock,
  failed: BatchFailure[],
): Promise<{ id: string; entry: cacheV1.PutEntry }[]> {
  const items: HandlerItem[] = group.map((r) => ({
    taskId: r.task.id,
    key: r.task.key,
    tenant: r.parts.tenant,
    entityId: r.parts.entityId ?? "",
    features: r.features ?? {},
  }));
  const started = clock.now();
  const outcomes = await deps.handlers.handle(taskType.name, taskType.handler, items);
  const computeMs = clock.now() - started;
  const byId = new Map(group.map((r) => [r.task.id, r]));
  const answered = new Set<string>();
  const entries: { id: string; entry: cacheV1.PutEntry }[] = [];
  // Hashing each task's inputs is the batch's main cost when tasks carry many features.
  const slicer = new TimeSlicer();
  for (const o of outcomes) {
    if (slicer.due()) await slicer.pause();
    const r = byId.get(o.taskId);
    if (r === undefined || answered.has(o.taskId)) continue;
    answered.add(o.taskId);
    if ("error" in o) failed.push({ id: o.taskId, error: `task handler: ${o.error}`, permanent: false });
    else
      entries.push({
        id: o.taskId,
        entry: entryOf(
          r.parts,
          o.value,
          o.modelName,
          o.modelVersion,
          computeMs,
          inputDigest(r.features ?? {}),
        ),
      });
  }
  for (const r of group)
    if (!answered.has(r.task.id))
      failed.push({
        id: r.task.id,
        error: "task handler returned no result for this task",
        permanent: false,
      });
  return entries;
}

function entryOf(
  parts: KeyParts,
  value: commonV1.Value,
  modelName: string,
  modelVersion: string,
  computeMs: number,
  digest: string,
): cacheV1.PutEntry {
  return { key: keyToProto(parts), value, modelName, modelVersion, computeMs, inputDigest: digest, tags: [] };
}

function resultOf(entry: cacheV1.PutEntry, clock: Clock): commonV1.Result {
  return {
    value: entry.value,
    modelName: entry.modelName,
    modelVersion: entry.modelVersion,
    computedAt: new Date(clock.now()),
    computeMs: entry.computeMs,
    inputDigest: entry.inputDigest,
    tags: entry.tags,
  };
}

/** Inline features travel as JSON in the task's payload. */
export function parseInline(payload: string | undefined): Features | undefined {
  if (payload === undefined || payload === "") return undefined;
  const parsed: unknown = JSON.parse(payload);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw new Error("task payload is not a feature object");
  const features: Features = {};
  for (const [k, v] of Object.entries(parsed))
    if (typeof v === "number" || typeof v === "string") features[k] = v;
  return features;
}
