import { ManualClock } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { Budget } from "./budget.js";
import { PrecomputerCounters } from "./counters.js";
import type { LoadSampler } from "./load-sampler.js";
import { TaskEnqueuer } from "./task-enqueuer.js";
import type { PlannedTask } from "./types.js";

const campaignFeatures = { budget: 1000, bid: 2 };

function enqueuer(): { enqueuer: TaskEnqueuer; sent: PlannedTask[][]; counters: PrecomputerCounters } {
  const sent: PlannedTask[][] = [];
  const executor = {
    enqueueMany: async (tasks: PlannedTask[]) => {
      sent.push(tasks.map((t) => ({ ...t })));
      return tasks.map((_, i) => ({ taskId: `id-${i}`, deduplicated: false }));
    },
  };
  const load = { sample: async () => ({}) } as unknown as LoadSampler;
  const counters = new PrecomputerCounters();
  return {
    counters,
    enqueuer: new TaskEnqueuer(
      { executor } as never,
      { maxTasksPerCall: 100 },
      new Budget(new ManualClock(0), { perMinute: 1000, minProbability: 0.2 }),
      load,
      counters,
    ),
    sent,
  };
}

const task = (taskType: string, probability: number, features?: object): PlannedTask => ({
  key: `acme/${taskType}/camp-1`,
  tenant: "acme",
  taskType,
  entityId: "camp-1",
  priority: 5,
  reason: "trigger",
  probability,
  ...(features !== undefined ? { features: features as NonNullable<PlannedTask["features"]> } : {}),
});

describe("TaskEnqueuer", () => {
  it("counts every enqueued task by reason and type, several of a type in one call", async () => {
    const { enqueuer: e, counters } = enqueuer();
    const of = (taskType: string, entityId: string, reason: PlannedTask["reason"]): PlannedTask => ({
      ...task(taskType, 0.9),
      key: `acme/${taskType}/${entityId}`,
      entityId,
      reason,
    });
    await e.enqueue(
      [
        of("ctr_prediction", "a", "trigger"),
        of("roas_prediction", "a", "trigger"),
        of("ctr_prediction", "b", "trigger"),
        of("ctr_prediction", "c", "refresh"),
        of("ctr_prediction", "d", "trigger"),
      ],
      [],
    );
    const snapshot = counters.snapshot();
    expect(snapshot.enqueuedByReason).toEqual([
      { name: "refresh", count: 1 },
      { name: "trigger", count: 4 },
    ]);
    expect(snapshot.enqueuedByTaskType).toEqual([
      { name: "ctr_prediction", count: 4 },
      { name: "roas_prediction", count: 1 },
    ]);
  });

  it("moves an entity's features to an admitted task when the budget defers the task that carried them", async () => {
    const { enqueuer: e, sent } = enqueuer();
    // The first task of the entity carries its features, but it is unlikely to be read: the budget defers it.
    const carrier = task("variant_generation", 0.05, campaignFeatures);
    const roas = task("roas_prediction", 0.9);
    const ids = await e.enqueue([carrier, roas], []);
    expect(ids.has(carrier)).toBe(false);
    expect(ids.has(roas)).toBe(true);
    expect(sent).toEqual([
      [expect.objectContaining({ taskType: "roas_prediction", features: campaignFeatures })],
    ]);
  });

  it("leaves features where they are when their task is admitted", async () => {
    const { enqueuer: e, sent } = enqueuer();
    const carrier = task("variant_generation", 0.9, campaignFeatures);
    const roas = task("roas_prediction", 0.9);
    await e.enqueue([carrier, roas], []);
    expect(sent[0]?.map((t) => t.features)).toEqual([campaignFeatures, undefined]);
  });
});
