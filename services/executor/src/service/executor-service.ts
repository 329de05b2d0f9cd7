import type { executorV1 } from "@prescient/contracts";
import type { TaskTypeRegistry } from "@prescient/core";
import {
  formatKey,
  InvalidArgumentError,
  mapInSlices,
  NotFoundError,
  parseKey,
  ResourceExhaustedError,
  validateEntityId,
  validateTenant,
} from "@prescient/core";
import { featuresFromProto, reasonFromProto, resolveKey, unary, withField } from "@prescient/kit";
import { isTaskId, type TaskRecord } from "../queue/index.js";
import type { ExecutorCore, TaskRequest } from "./executor-core.js";
import { statsToProto, taskToProto } from "./proto-mapping.js";

export const executorServiceName = "prescient.executor.v1.ExecutorService";

export interface ExecutorServiceLimits {
  /** Most tasks per EnqueueMany. */
  maxEnqueueMany: number;
}

/** Most entities one FeaturesStored asks about. */
export const maxFeaturesStoredEntities = 1000;

function taskRequest(
  registry: TaskTypeRegistry,
  spec: executorV1.TaskSpec | undefined,
  field: string,
): TaskRequest {
  if (spec === undefined) throw new InvalidArgumentError(`${field} is required`);
  const { parts } = resolveKey(registry, spec.key, `${field}.key`);
  if (!Number.isInteger(spec.priority) || spec.priority < 0 || spec.priority > 10)
    throw new InvalidArgumentError(
      `${field}.priority ${spec.priority} is outside 1..10 (0 takes the type's default)`,
    );
  const notBefore = spec.notBefore?.getTime();
  if (notBefore !== undefined && !Number.isFinite(notBefore))
    throw new InvalidArgumentError(`${field}.not_before is not a valid time`);
  return {
    parts,
    priority: spec.priority === 0 ? undefined : spec.priority,
    reason: reasonFromProto(spec.reason, `${field}.reason`),
    ...(notBefore !== undefined ? { notBefore } : {}),
    features: featuresFromProto(spec.features, `${field}.features`),
  };
}

function requireTaskIds(ids: readonly string[], field: string): void {
  ids.forEach((id, i) => {
    if (!isTaskId(id))
      throw new InvalidArgumentError(`${field}[${i}] ${JSON.stringify(id.slice(0, 40))} is not a task id`);
  });
}

function deadLetterSelector(request: { ids: string[]; all: boolean }, verb: string) {
  if (request.all === request.ids.length > 0)
    throw new InvalidArgumentError(`${verb} needs either ids or all=true, not both and not neither`);
  requireTaskIds(request.ids, "ids");
  return request.all ? ({ all: true } as const) : { ids: request.ids };
}

/** The gRPC shell of the executor: decode and validate, call the core, encode. */
export function executorServiceImplementation(
  core: ExecutorCore,
  registry: TaskTypeRegistry,
  limits: ExecutorServiceLimits,
): executorV1.ExecutorServiceServer {
  const s = executorServiceName;
  const queue = core.queue;
  return {
    enqueue: unary(s, "Enqueue", async (req: executorV1.EnqueueRequest) => {
      const [result] = await core.enqueueMany([taskRequest(registry, req.task, "task")]);
      return { taskId: result?.taskId ?? "", deduplicated: result?.deduplicated ?? false };
    }),
    enqueueMany: unary(s, "EnqueueMany", async (req: executorV1.EnqueueManyRequest) => {
      if (req.tasks.length === 0) throw new InvalidArgumentError("tasks is empty");
      if (req.tasks.length > limits.maxEnqueueMany)
        throw new ResourceExhaustedError(
          `${req.tasks.length} tasks in one EnqueueMany; the limit is ${limits.maxEnqueueMany}`,
        );
      const requests = await mapInSlices(req.tasks, (t, i) => taskRequest(registry, t, `tasks[${i}]`));
      const results = await core.enqueueMany(requests);
      return { results: results.map((r) => ({ taskId: r.taskId, deduplicated: r.deduplicated })) };
    }),
    compute: unary(s, "Compute", async (req: executorV1.ComputeRequest) => {
      const { key, parts } = resolveKey(registry, req.key, "key");
      const { result, coalesced } = await core.compute(
        parts,
        featuresFromProto(req.features, "features"),
        true,
      );
      return { key, result, coalesced };
    }),
    getTask: unary(s, "GetTask", async (req: executorV1.GetTaskRequest) => {
      let task: TaskRecord | undefined;
      if (req.id !== undefined) {
        requireTaskIds([req.id], "id");
        task = await queue.get(req.id);
      } else if (req.key !== undefined) {
        task = await queue.getByKey(resolveKeyString(registry, req.key));
      } else throw new InvalidArgumentError("give id or key");
      if (task === undefined)
        throw new NotFoundError(`no task ${req.id ?? req.key} (completed tasks are kept for a limited time)`);
      return { task: taskToProto(task) };
    }),
    queueStats: unary(s, "QueueStats", async () => statsToProto(await queue.stats())),
    listDeadLetters: unary(s, "ListDeadLetters", async (req: executorV1.ListDeadLettersRequest) => {
      const page = await queue.listDeadLetters({
        ...(req.pageSize > 0 ? { pageSize: req.pageSize } : {}),
        ...(req.pageToken ? { pageToken: req.pageToken } : {}),
      });
      return { tasks: page.tasks.map(taskToProto), nextPageToken: page.nextPageToken ?? "" };
    }),
    requeueDeadLetters: unary(s, "RequeueDeadLetters", async (req: executorV1.RequeueDeadLettersRequest) => ({
      requeued: BigInt(await queue.requeueDeadLetters(deadLetterSelector(req, "RequeueDeadLetters"))),
    })),
    purgeDeadLetters: unary(s, "PurgeDeadLetters", async (req: executorV1.PurgeDeadLettersRequest) => ({
      purged: BigInt(await queue.purgeDeadLetters(deadLetterSelector(req, "PurgeDeadLetters"))),
    })),
    pause: unary(s, "Pause", async () => {
      await queue.pause();
      return {};
    }),
    resume: unary(s, "Resume", async () => {
      await queue.resume();
      return {};
    }),
    featuresStored: unary(s, "FeaturesStored", async (req: executorV1.FeaturesStoredRequest) => {
      if (req.entities.length > maxFeaturesStoredEntities)
        throw new ResourceExhaustedError(
          `${req.entities.length} entities in one FeaturesStored; the limit is ${maxFeaturesStoredEntities}`,
        );
      const refs = req.entities.map((e, i) =>
        withField(`entities[${i}]`, () => {
          validateTenant(e.tenant);
          validateEntityId(e.entityId);
          return { tenant: e.tenant, entityId: e.entityId };
        }),
      );
      return { stored: refs.length === 0 ? [] : await core.featuresStored(refs) };
    }),
  };
}

/** GetTask's key: the canonical string form, checked against the task types. */
function resolveKeyString(registry: TaskTypeRegistry, key: string): string {
  const parts = parseKey(key);
  registry.get(parts.taskType);
  return formatKey(parts);
}
