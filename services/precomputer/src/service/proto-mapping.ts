import { precomputerV1 } from "@prescient/contracts";
import { InvalidArgumentError } from "@prescient/core";
import { featuresFromProto } from "@prescient/kit";
import type { PrecomputerStats } from "../core/precomputer.js";
import type { RunRecord } from "../core/run-store.js";
import type { TriggerEvent } from "../core/types.js";

/** Decoding of precomputer requests and encoding of its answers. */

export function eventFromProto(e: precomputerV1.Event | undefined, field: string): TriggerEvent {
  if (e === undefined) throw new InvalidArgumentError(`${field} is required`);
  const time = e.time?.getTime();
  if (time !== undefined && !Number.isFinite(time))
    throw new InvalidArgumentError(`${field}.time is not a valid timestamp`);
  return {
    type: e.type,
    tenant: e.tenant,
    entityId: e.entityId,
    userId: e.userId,
    features: featuresFromProto(e.features, `${field}.features`),
    attributes: e.attributes,
    ...(time !== undefined ? { time } : {}),
    ...(e.relatedEntityIds.length > 0 ? { relatedEntityIds: e.relatedEntityIds } : {}),
  };
}

const statusOf: Record<RunRecord["status"], precomputerV1.RunStatus> = {
  running: precomputerV1.RunStatus.RUN_STATUS_RUNNING,
  succeeded: precomputerV1.RunStatus.RUN_STATUS_SUCCEEDED,
  failed: precomputerV1.RunStatus.RUN_STATUS_FAILED,
};

export function runToProto(r: RunRecord): precomputerV1.ScheduleRun {
  return {
    schedule: r.schedule,
    windowStart: new Date(r.windowStart),
    startedAt: new Date(r.startedAt),
    ...(r.finishedAt !== undefined ? { finishedAt: new Date(r.finishedAt) } : {}),
    items: BigInt(r.items),
    status: statusOf[r.status],
    error: r.error,
    owner: r.owner,
  };
}

export function statsToProto(s: PrecomputerStats): precomputerV1.StatsResponse {
  const counts = (l: Array<{ name: string; count: number }>) =>
    l.map((c) => ({ name: c.name, count: BigInt(c.count) }));
  return {
    enqueuedByReason: counts(s.enqueuedByReason),
    enqueuedByTaskType: counts(s.enqueuedByTaskType),
    skippedByReason: counts(s.skippedByReason),
    budgetUsed: BigInt(s.budget.used),
    budgetLimit: BigInt(s.budget.limit),
    alerts: s.alerts.map((a) => ({
      name: a.name,
      firing: a.firing,
      ...(a.value !== undefined ? { value: a.value } : {}),
      threshold: a.threshold,
      message: a.message,
    })),
    budgetPressure: s.budget.pressure,
  };
}
