import {
  formatKey,
  InvalidArgumentError,
  isDomainError,
  ResourceExhaustedError,
  validateEntityId,
  validateTenant,
} from "@prescient/core";
import { callAnalyzer } from "./analyzer-call.js";
import { usablePatterns } from "./candidates.js";
import type { PrecomputerConfig } from "./config.js";
import type { PrecomputerCounters } from "./counters.js";
import type { PrecomputerDeps, PrecomputerOptions } from "./precomputer-deps.js";
import { groupIds, type QueuedByType, type TaskEnqueuer } from "./task-enqueuer.js";
import type { Counts, PlannedTask } from "./types.js";

export interface WarmRequest {
  tenant: string;
  entityIds: readonly string[];
  taskTypes: readonly string[];
  /** 0 or undefined takes each type's default. */
  priority?: number;
}

export interface RefreshRequest {
  taskType: string;
  tenant?: string;
  entityPrefix?: string;
}

/**
 * Warm and Refresh: work an operator asks for by name, rather than work the
 * precomputer decides on. Their arguments are checked field by field, so a
 * bad request says which field is wrong.
 */
export class ManualRequests {
  constructor(
    private readonly deps: Pick<PrecomputerDeps, "taskTypes" | "analyzer">,
    private readonly config: PrecomputerConfig,
    private readonly options: Pick<PrecomputerOptions, "maxTasksPerCall">,
    private readonly isTaskType: (name: string) => boolean,
    private readonly enqueuer: TaskEnqueuer,
    private readonly counters: PrecomputerCounters,
  ) {}

  /** Enqueues the given entities × task types now (reason `manual`), fresh or not. */
  async warm(request: WarmRequest): Promise<QueuedByType[]> {
    const tenant = named("tenant", () => validateTenant(request.tenant));
    if (request.entityIds.length === 0) throw new InvalidArgumentError("entity_ids is empty");
    if (request.taskTypes.length === 0) throw new InvalidArgumentError("task_types is empty");
    const n = request.entityIds.length * request.taskTypes.length;
    if (n > this.options.maxTasksPerCall)
      throw new ResourceExhaustedError(
        `warm asks for ${n} tasks; the limit is ${this.options.maxTasksPerCall}`,
      );
    const priority = request.priority ?? 0;
    if (!Number.isInteger(priority) || priority < 0 || priority > 10)
      throw new InvalidArgumentError(`priority ${priority} is outside 1..10 (0 takes each type's default)`);
    const types = request.taskTypes.map((t, i) =>
      named(`task_types[${i}]`, () => this.deps.taskTypes.get(t)),
    );
    request.entityIds.forEach((e, i) => {
      named(`entity_ids[${i}]`, () => validateEntityId(e));
    });
    const tasks: PlannedTask[] = [];
    const seen = new Set<string>();
    for (const type of types)
      for (const entityId of request.entityIds) {
        const key = formatKey({ tenant, taskType: type.name, entityId });
        if (seen.has(key)) continue;
        seen.add(key);
        tasks.push({
          key,
          tenant,
          taskType: type.name,
          entityId,
          priority: priority || type.defaultPriority,
          reason: "manual",
        });
      }
    const ids = await this.enqueuer.enqueue(tasks, []);
    return groupIds(tasks, ids);
  }

  /**
   * Re-enqueues the known entities of a task type (reason `refresh`): the
   * keys the analyzer has seen asked for, optionally of one tenant and with
   * an entity-id prefix. A call by hand: the budget does not apply.
   */
  async refresh(request: RefreshRequest): Promise<number> {
    const type = named("task_type", () => this.deps.taskTypes.get(request.taskType));
    const tenant = request.tenant ? named("tenant", () => validateTenant(request.tenant ?? "")) : undefined;
    const patterns = await callAnalyzer(() =>
      this.deps.analyzer.topPatterns({
        limit: this.config.refreshAhead.candidates,
        taskType: type.name,
        ...(tenant !== undefined ? { tenant } : {}),
      }),
    );
    const skipped: Counts = new Map();
    const prefix = request.entityPrefix ?? "";
    const tasks = usablePatterns(patterns, this.isTaskType, skipped)
      .filter((p) => p.entityId.startsWith(prefix))
      .map(
        (p): PlannedTask => ({
          key: p.key,
          tenant: p.tenant,
          taskType: p.taskType,
          entityId: p.entityId,
          priority: this.config.refreshAhead.priority,
          reason: "refresh",
        }),
      );
    this.counters.skippedAll(skipped);
    const ids = await this.enqueuer.enqueue(tasks, [], { bypassBudget: true });
    return ids.size;
  }
}

/** Runs a validation, prefixing its INVALID_ARGUMENT message with the request field it checked. */
function named<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (isDomainError(e) && e.kind === "invalid_argument")
      throw new InvalidArgumentError(`${field}: ${e.message}`);
    throw e;
  }
}
