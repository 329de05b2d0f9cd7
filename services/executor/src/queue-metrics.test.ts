import { ManualClock } from "@prescient/core";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { executorOptionsFromEnv } from "./options.js";
import { MemoryTaskQueue } from "./queue/index.js";
import { task } from "./queue/queue-conformance.test-util.js";
import { QueueMetrics } from "./queue-metrics.js";

describe("dead-letter bounds: metrics and env", () => {
  it("counts dead letters dropped by capacity and retention, and shows how many are held", async () => {
    const metrics = QueueMetrics.for(new Registry());
    const clock = new ManualClock(1_000);
    const queue = new MemoryTaskQueue(
      {
        maxAttempts: 1,
        deadLetterCapacity: 2,
        deadLetterRetentionMs: 10_000,
        onDeadLettersDropped: metrics.onDeadLettersDropped,
      },
      clock,
    );
    metrics.queue = queue;
    await queue.enqueueMany(["a", "b", "c"].map((e) => task(e)));
    for (const t of await queue.claim(3, { workerId: "w" })) await queue.fail(t.id, "boom");
    clock.advance(10_000);
    const text = await metrics.deadLetters.get();
    expect(text.values[0]?.value).toBe(0);
    const dropped = await metrics.deadLettersDropped.get();
    expect(dropped.values.map((v) => [v.labels.reason, v.value])).toEqual([
      ["capacity", 1],
      ["retention", 2],
    ]);
  });

  it("reads the dead-letter bounds from the environment, validated", () => {
    const o = executorOptionsFromEnv({
      PRESCIENT_QUEUE_DEAD_LETTER_CAPACITY: "5000",
      PRESCIENT_QUEUE_DEAD_LETTER_RETENTION_MS: "3600000",
    });
    expect(o.queue).toMatchObject({ deadLetterCapacity: 5000, deadLetterRetentionMs: 3_600_000 });
    expect(() => executorOptionsFromEnv({ PRESCIENT_QUEUE_DEAD_LETTER_CAPACITY: "0" })).toThrow(
      /PRESCIENT_QUEUE_DEAD_LETTER_CAPACITY/,
    );
    expect(() => executorOptionsFromEnv({ PRESCIENT_QUEUE_DEAD_LETTER_RETENTION_MS: "soon" })).toThrow(
      /PRESCIENT_QUEUE_DEAD_LETTER_RETENTION_MS/,
    );
  });
});
