import { formatKey, type TaskTypeRegistry } from "@prescient/core";
import type { UpcomingLaunch } from "./ports.js";
import { addCount, type Counts, type PlannedTask, skipReasons } from "./types.js";

/**
 * Launch warming: for each launch due within `hoursAhead`, the launch's
 * entities (the campaign itself when it names none) × its task types, reason
 * `launch`, so that results are ready when the campaign goes live. A launch
 * that names no task types warms those of the rule for the event that
 * announced it (configured, or learned from what is read after such events),
 * and the `defaultTaskTypes` where that event has no rule: a backend
 * announces a launch without knowing what prescient computes for it.
 *
 * Timing: a task becomes claimable `leadMs` before the launch (the original
 * design warmed 2 h ahead), but no further ahead than its type's refresh
 * horizon, and never later than now when the launch is nearer. A launch is
 * read after it goes live: a 1 h result warmed 54 minutes ahead (90% of its
 * TTL, the earlier cap) expired six minutes into the launch, and its reads
 * missed. The horizon is the time the precomputer already counts on to
 * recompute a result before it is needed (refresh-ahead), so it is slack
 * enough here too. The priority rises as the launch nears, so that the last
 * hour's launches overtake other background work.
 */
export interface LaunchWarmingOptions {
  now: number;
  hoursAhead: number;
  leadMs: number;
  /** The refresh horizon of a task type (refreshHorizonMs): no task is claimable further ahead of its launch than this. */
  horizonOf: (taskType: string) => number;
  priority: number;
  /** Task types warmed for a launch that names none and whose event has no rule. */
  defaultTaskTypes: readonly string[];
  /** The task types of the rule for `event` in `tenant`, undefined where there is none. */
  ruleTaskTypes: (tenant: string, event: string) => readonly string[] | undefined;
}

/** Launches this close get priority + 2 (at most 9). */
export const urgentLaunchMs = 3_600_000;

/** Launch warming's tasks, and the launch time each key is warmed for (a key two launches share is planned once, by the first). */
export interface LaunchWarmingPlan {
  tasks: PlannedTask[];
  launchAt: ReadonlyMap<string, number>;
}

export function planLaunchWarming(
  launches: readonly UpcomingLaunch[],
  options: LaunchWarmingOptions,
  taskTypes: TaskTypeRegistry,
  skipped: Counts,
): LaunchWarmingPlan {
  const tasks: PlannedTask[] = [];
  const launchAt = new Map<string, number>();
  const seen = new Set<string>();
  const horizon = options.now + options.hoursAhead * 3_600_000;
  for (const launch of launches) {
    if (launch.launchAt < options.now) {
      addCount(skipped, skipReasons.launchPast);
      continue;
    }
    if (launch.launchAt > horizon) {
      addCount(skipped, skipReasons.launchTooFar);
      continue;
    }
    const entities = launch.entityIds.length > 0 ? launch.entityIds : [launch.campaignId];
    const types =
      launch.taskTypes.length > 0
        ? launch.taskTypes
        : ((launch.event !== "" ? options.ruleTaskTypes(launch.tenant, launch.event) : undefined) ??
          options.defaultTaskTypes);
    const urgent = launch.launchAt - options.now <= urgentLaunchMs;
    const priority = urgent ? Math.min(9, options.priority + 2) : options.priority;
    for (const taskType of types) {
      if (!taskTypes.has(taskType)) {
        addCount(skipped, skipReasons.unknownTaskType, entities.length);
        continue;
      }
      const ahead = Math.min(options.leadMs, options.horizonOf(taskType));
      const notBefore = Math.max(options.now, launch.launchAt - ahead);
      for (const entityId of entities) {
        const key = formatKey({ tenant: launch.tenant, taskType, entityId });
        if (seen.has(key)) {
          addCount(skipped, skipReasons.duplicate);
          continue;
        }
        seen.add(key);
        launchAt.set(key, launch.launchAt);
        tasks.push({
          key,
          tenant: launch.tenant,
          taskType,
          entityId,
          priority,
          reason: "launch",
          ...(notBefore > options.now ? { notBefore } : {}),
        });
      }
    }
  }
  return { tasks, launchAt };
}
