import { precomputerV1 } from "@prescient/contracts";
import type { TaskTypeRegistry } from "@prescient/core";
import { callUnary } from "@prescient/kit";
import { parsePrecomputerConfig } from "@prescient/precomputer";
import { connectionOf, type LiveConnection } from "./live-connection.js";

/**
 * The time scale a running mesh was started with (`prescient up
 * --time-scale S`, packages/cli/src/time-scale.ts), read from what it
 * reports: a time-scaled mesh multiplies every rate of policy by S, the
 * background budget included, and its precomputer's Stats reports that cap
 * (budget_limit, tasks per wall minute). Divided by the `per_minute` of the
 * configuration the replay reads (the same file the mesh loads), it is the
 * scale. Undefined when the precomputer does not answer or the configured
 * budget is 0.
 */
export async function meshTimeScale(
  addr: string,
  taskTypes: TaskTypeRegistry,
  timeoutMs = 5000,
  connection?: LiveConnection,
): Promise<number | undefined> {
  const perMinute = parsePrecomputerConfig(taskTypes.raw, taskTypes).budget.perMinute;
  if (perMinute <= 0) return undefined;
  const { credentials, channel } = connectionOf(connection);
  const client = new precomputerV1.PrecomputerServiceClient(addr, credentials, channel);
  try {
    const stats = await callUnary(client.stats.bind(client), {}, { timeoutMs });
    const limit = Number(stats.budgetLimit);
    // The mesh rounds per_minute × S to whole tasks: six significant digits undo that.
    return limit > 0 ? Number((limit / perMinute).toPrecision(6)) : undefined;
  } catch {
    return undefined;
  } finally {
    client.close();
  }
}

/**
 * The background budget a mesh at `meshScale` spends per second of trace
 * played at `speed`: its configured `per_minute`, times its scale, per wall
 * minute, and a wall second plays `speed` seconds of trace. What the
 * simulation beside a live run should spend, so that the two compare.
 */
export function meshBudgetPerTraceSecond(
  taskTypes: TaskTypeRegistry,
  meshScale: number,
  speed: number,
): number {
  return (parsePrecomputerConfig(taskTypes.raw, taskTypes).budget.perMinute * meshScale) / 60 / speed;
}

/** Whether a mesh scale is the replay's speed, within the rounding of the budget. */
export function scaleMatches(meshScale: number | undefined, speed: number): boolean {
  return meshScale !== undefined && Math.abs(meshScale - speed) <= speed * 0.001;
}
