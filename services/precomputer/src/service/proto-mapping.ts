import { type commonV1, precomputerV1 } from "@prescient/contracts";
import { InvalidArgumentError } from "@prescient/core";
import type { PrecomputerStats } from "../core/precomputer.js";
import type { RunRecord } from "../core/run-store.js";
import type { Features, TriggerEvent } from "../core/types.js";

/** Decoding of precomputer requests and encoding of its answers. */
export const featureLimits = { maxFeatures: 256, maxTextBytes: 4096, maxNameLength: 128 } as const;
const featureNamePattern = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function featuresFromProto(map: Record<string, commonV1.FeatureValue>, field: string): Features {
  const entries = Object.entries(map);
  if (entries.length > featureLimits.maxFeatures)
    throw new InvalidArgumentError(
      `${field} has ${entries.length} features; the limit is ${featureLimits.maxFeatures}`,
    );
  const out: Features = {};
  for (const [name, v] of entries) {
    if (name.length > featureLimits.maxNameLength || !featureNamePattern.test(name))
      throw new InvalidArgumentError(
        `${field}: feature name ${JSON.stringify(name.slice(0, 40))} must match ${featureNamePattern.source}`,
      );
    if (v.number !== undefined) {
      if (!Number.isFinite(v.number))
        throw new InvalidArgumentError(`${field}.${name} is not a finite number`);
      out[name] = v.number;
    } else if (v.text !== undefined) {
      if (Buffer.byteLength(v.text) > featureLimits.maxTextBytes)
        throw new InvalidArgumentError(`${field}.${name} is longer than ${featureLimits.maxTextBytes} bytes`);
      out[name] = v.text;
    } else throw new InvalidArgumentError(`${field}.${name} has neither number nor text`);
  }
  return out;
}

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
