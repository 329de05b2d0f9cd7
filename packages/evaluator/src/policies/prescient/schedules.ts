import { type TaskType, TaskTypeRegistry } from "@prescient/core";
import { nextWakeMs, type OffPeak, type ScheduleSpec, windowFor } from "@prescient/precomputer";
import type { PolicyContext } from "../../sim/policy.js";

/**
 * The precomputer's schedules under the virtual clock: each schedule wakes
 * when its runner would (`nextWakeMs`) and runs once per window
 * (`windowFor`), as the live ScheduleRunner and run store make it; there is
 * one replica, so a window is never claimed twice.
 */
export function driveSchedule(
  ctx: PolicyContext,
  spec: ScheduleSpec,
  offPeak: (timing: { windowMinutes: number; timeZone: string }) => Promise<OffPeak>,
  job: (spec: ScheduleSpec) => Promise<void>,
): Promise<void> {
  let lastStart: number | undefined;
  const tick = async (): Promise<void> => {
    const t = spec.timing;
    const w = windowFor(t, ctx.now(), t.kind === "off_peak" ? await offPeak(t) : undefined);
    if (w === undefined || w.start === lastStart) return;
    lastStart = w.start;
    await job(spec);
  };
  const wake = (): void =>
    ctx.at(ctx.now() + Math.max(1, nextWakeMs(spec, ctx.now())), async () => {
      await tick();
      wake();
    });
  // A window already open at start is run now, as the live runner does.
  return tick().then(wake);
}

/**
 * The task types named, with the replay's TTLs (the --ttl overrides
 * included), for the precomputer functions that read a type's TTL.
 */
export function simulatedTypes(
  names: Iterable<string>,
  configured: TaskTypeRegistry,
  ttlMs: (taskType: string) => number,
): TaskTypeRegistry {
  const types: TaskType[] = [];
  for (const name of new Set(names)) {
    const base: TaskType = configured.has(name)
      ? configured.get(name)
      : {
          name,
          kind: "external",
          model: name,
          modelVersion: "",
          inputs: [],
          outputs: [],
          ttlMs: 0,
          staleGraceMs: 0,
          xfetchBeta: 1,
          defaultPriority: 5,
          description: "",
        };
    types.push({ ...base, ttlMs: ttlMs(name) });
  }
  return new TaskTypeRegistry(types);
}
