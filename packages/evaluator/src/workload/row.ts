import { canonicalKey } from "@prescient/core";

/** One generated line of the generic CSV. */
export interface Row {
  /** ms since the epoch. */
  time: number;
  tenant: string;
  user: string;
  taskType: string;
  entity: string;
  /** Non-empty for a trigger event. */
  event: string;
  /** ms: when the reads an event announces begin (launches). */
  launchAt?: number;
}

export const read = (time: number, tenant: string, taskType: string, entity: string, user = ""): Row => ({
  time: Math.round(time),
  tenant,
  user,
  taskType,
  entity,
  event: "",
});

export const event = (
  time: number,
  tenant: string,
  name: string,
  entity: string,
  user = "",
  launchAt?: number,
): Row => ({
  time: Math.round(time),
  tenant,
  user,
  taskType: "",
  entity,
  event: name,
  ...(launchAt !== undefined ? { launchAt: Math.round(launchAt) } : {}),
});

export const csvHeader = "ts,key,tenant,user,task_type,entity,event,launch_at";

export function csvLine(r: Row): string {
  const key = r.event === "" ? canonicalKey(r.tenant, r.taskType, r.entity) : "";
  const launch = r.launchAt === undefined ? "" : (r.launchAt / 1000).toFixed(3);
  return `${(r.time / 1000).toFixed(3)},${key},${r.tenant},${r.user},${r.taskType},${r.entity},${r.event},${launch}`;
}
