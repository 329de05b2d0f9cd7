import type { precomputerV1 } from "@prescient/contracts";
import { InvalidArgumentError, mapInSlices, ResourceExhaustedError } from "@prescient/core";
import { unary } from "@prescient/kit";
import { annotateActiveSpan, domainAttribute as attr } from "@prescient/tracing";
import type { Precomputer } from "../core/precomputer.js";
import type { TriggerOutcome } from "../core/trigger-handling.js";
import type { TriggerEvent } from "../core/types.js";
import { eventFromProto, runToProto, statsToProto } from "./proto-mapping.js";

export const precomputerServiceName = "prescient.precomputer.v1.PrecomputerService";

/** The gRPC shell of the precomputer: decode and validate, call the core, encode. */
export function precomputerServiceImplementation(core: Precomputer): precomputerV1.PrecomputerServiceServer {
  const s = precomputerServiceName;
  return {
    trigger: unary(s, "Trigger", async (req: precomputerV1.TriggerRequest) => {
      const event = eventFromProto(req.event, "event");
      const r = await core.trigger(event);
      annotateTrigger([event], [r]);
      return { queued: r.queued, skippedFresh: r.skippedFresh };
    }),
    triggerMany: unary(s, "TriggerMany", async (req: precomputerV1.TriggerManyRequest) => {
      // Counted before decoding, so an oversized batch costs no validation work.
      if (req.events.length > core.options.maxEvents)
        throw new ResourceExhaustedError(
          `${req.events.length} events in one TriggerMany; the limit is ${core.options.maxEvents}`,
        );
      const events = await mapInSlices(req.events, (e, i) => eventFromProto(e, `events[${i}]`));
      const results = await core.triggerMany(events);
      annotateTrigger(events, results);
      return { results: results.map((r) => ({ queued: r.queued, skippedFresh: r.skippedFresh })) };
    }),
    warm: unary(s, "Warm", async (req: precomputerV1.WarmRequest) => ({
      queued: await core.warm({
        tenant: req.tenant,
        entityIds: req.entityIds,
        taskTypes: req.taskTypes,
        priority: req.priority,
      }),
    })),
    refresh: unary(s, "Refresh", async (req: precomputerV1.RefreshRequest) => {
      if (req.taskType === "") throw new InvalidArgumentError("task_type is required");
      const n = await core.refresh({
        taskType: req.taskType,
        ...(req.tenant !== "" ? { tenant: req.tenant } : {}),
        ...(req.entityPrefix !== "" ? { entityPrefix: req.entityPrefix } : {}),
      });
      return { enqueued: BigInt(n) };
    }),
    listRuns: unary(s, "ListRuns", async (req: precomputerV1.ListRunsRequest) => ({
      runs: (await core.listRuns(req.schedule || undefined, req.limit)).map(runToProto),
    })),
    runScheduleNow: unary(s, "RunScheduleNow", async (req: precomputerV1.RunScheduleNowRequest) => {
      if (req.schedule === "") throw new InvalidArgumentError("schedule is required");
      return { run: runToProto(await core.runScheduleNow(req.schedule)) };
    }),
    stats: unary(s, "Stats", async () => statsToProto(await core.stats())),
  };
}

/** The Trigger span's domain attributes: the event type and tenant (when one), and what was queued. */
function annotateTrigger(events: readonly TriggerEvent[], outcomes: readonly TriggerOutcome[]): void {
  const first = events[0];
  let tasks = 0;
  let fresh = 0;
  let noFeatures = 0;
  const types = new Set<string>();
  for (const o of outcomes) {
    for (const q of o.queued) {
      tasks += q.taskIds.length;
      types.add(q.taskType);
    }
    fresh += o.skippedFresh.length;
    noFeatures += o.skippedNoFeatures.length;
  }
  annotateActiveSpan({
    [attr.batchSize]: events.length,
    [attr.eventType]: events.every((e) => e.type === first?.type) ? first?.type : undefined,
    [attr.tenant]: events.every((e) => e.tenant === first?.tenant) ? first?.tenant : undefined,
    [attr.taskType]: types.size === 1 ? [...types][0] : undefined,
    "prescient.trigger.tasks_queued": tasks,
    "prescient.trigger.skipped_fresh": fresh,
    "prescient.trigger.skipped_no_features": noFeatures,
  });
}
