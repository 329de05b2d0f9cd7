import { EventEmitter } from "node:events";
import {
  isCancelled,
  isDeadlineExceeded,
  isInvalidArgument,
  isResourceExhausted,
  isUnavailable,
} from "@prescient/core";
import { describe, expect, it } from "vitest";
import type { HostTensor } from "../tensors/datatypes.js";
import type { BatchPolicy } from "./batch-queue.js";
import {
  type BatchRunner,
  type Cancellation,
  DynamicBatcher,
  type SubmitOptions,
} from "./dynamic-batcher.js";

const policy = (p?: Partial<BatchPolicy>): BatchPolicy => ({
  maxBatchSize: 16,
  dynamicBatching: true,
  preferredBatchSizes: [],
  maxQueueDelayMs: 5,
  maxQueueSize: 100,
  priorityLevels: 2,
  ...p,
});

/** Rows of two columns [id, id*10]; the runner doubles every value and records the batch sizes it saw. */
const rows = (...values: number[]): HostTensor[] => [
  {
    datatype: "FP32",
    shape: [values.length, 2],
    data: Float32Array.from(values.flatMap((v) => [v, v * 10])),
  },
];

/** `gate()` holds every run until the returned function is called: the instance stays busy meanwhile. */
function recordingRunner(): { runner: BatchRunner; batches: number[][]; gate: () => () => void } {
  const batches: number[][] = [];
  let gated: Promise<void> | undefined;
  const runner: BatchRunner = async ([input]) => {
    batches.push(Array.from(input!.data as Float32Array).filter((_, i) => i % 2 === 0));
    if (gated !== undefined) await gated;
    return [{ datatype: "FP32", shape: input!.shape, data: (input!.data as Float32Array).map((v) => v * 2) }];
  };
  const gate = () => {
    let open: () => void = () => {};
    gated = new Promise<void>((r) => {
      open = r;
    });
    return open;
  };
  return { runner, batches, gate };
}

const opts = (o?: Partial<SubmitOptions>): SubmitOptions => ({
  level: 1,
  deadlineMs: undefined,
  cancellation: undefined,
  ...o,
});
/** A Cancellation driven by an AbortController, as a test's stand-in for a call's onCancel. */
const cancelledBy = (signal: AbortSignal): Cancellation => ({
  onCancel(listener) {
    if (signal.aborted) {
      listener();
      return () => {};
    }
    signal.addEventListener("abort", listener, { once: true });
    return () => signal.removeEventListener("abort", listener);
  },
});
const values = (t: HostTensor | undefined) => Array.from(t!.data as Float32Array);

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

describe("DynamicBatcher", () => {
  it("merges concurrent single- and multi-row requests into one batch and splits the outputs back", async () => {
    const { runner, batches } = recordingRunner();
    const b = new DynamicBatcher(policy(), [runner]);
    const results = await Promise.all([
      b.submit(rows(1), opts()),
      b.submit(rows(2, 3, 4), opts()),
      b.submit(rows(5), opts()),
    ]);
    expect(batches).toEqual([[1, 2, 3, 4, 5]]);
    expect(results.map((r) => values(r.outputs[0]))).toEqual([
      [2, 20],
      [4, 40, 6, 60, 8, 80],
      [10, 100],
    ]);
    expect(results.map((r) => r.outputs[0]!.shape)).toEqual([
      [1, 2],
      [3, 2],
      [1, 2],
    ]);
    expect(results.every((r) => r.batchRows === 5)).toBe(true);
  });

  it("runs a full batch without waiting and keeps the rest for the next", async () => {
    const { runner, batches } = recordingRunner();
    const b = new DynamicBatcher(policy({ maxBatchSize: 4, maxQueueDelayMs: 60_000 }), [runner]);
    const all = [1, 2, 3, 4, 5, 6, 7, 8].map((v) => b.submit(rows(v), opts()));
    await Promise.all(all);
    expect(batches).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
  });

  it("queues while the instance is busy, then serves higher priority first", async () => {
    const rec = recordingRunner();
    const open = rec.gate();
    const b = new DynamicBatcher(policy({ maxBatchSize: 2, maxQueueDelayMs: 0 }), [rec.runner]);
    const first = b.submit(rows(1), opts());
    await new Promise((r) => setTimeout(r, 5));
    const later = [
      b.submit(rows(2), opts({ level: 1 })),
      b.submit(rows(3), opts({ level: 1 })),
      b.submit(rows(4), opts({ level: 0 })),
    ];
    open();
    await Promise.all([first, ...later]);
    expect(rec.batches).toEqual([[1], [4, 2], [3]]);
  });

  it("times out a request that waited past its deadline, without touching the others", async () => {
    const rec = recordingRunner();
    const open = rec.gate();
    const b = new DynamicBatcher(policy({ maxQueueDelayMs: 0 }), [rec.runner]);
    const busy = b.submit(rows(1), opts());
    const doomed = b.submit(rows(2), opts({ deadlineMs: performance.timeOrigin + performance.now() + 20 }));
    const patient = b.submit(rows(3), opts());
    const error = await rejection(doomed);
    expect(isDeadlineExceeded(error)).toBe(true);
    open();
    expect(values((await patient).outputs[0])).toEqual([6, 60]);
    await busy;
    expect(rec.batches).toEqual([[1], [3]]);
  });

  it("answers RESOURCE_EXHAUSTED past max_queue_size", async () => {
    const rec = recordingRunner();
    const open = rec.gate();
    const b = new DynamicBatcher(policy({ maxQueueSize: 2, maxQueueDelayMs: 0 }), [rec.runner]);
    const running = b.submit(rows(1), opts());
    const queued = [b.submit(rows(2), opts()), b.submit(rows(3), opts())];
    expect(isResourceExhausted(await rejection(b.submit(rows(4), opts())))).toBe(true);
    open();
    await Promise.all([running, ...queued]);
  });

  it("drops a request cancelled while queued; its batch-mates still get their own rows", async () => {
    const rec = recordingRunner();
    const b = new DynamicBatcher(policy({ maxQueueDelayMs: 20 }), [rec.runner]);
    const controller = new AbortController();
    const a = b.submit(rows(1), opts());
    const cancelled = b.submit(rows(2), opts({ cancellation: cancelledBy(controller.signal) }));
    const c = b.submit(rows(3), opts());
    controller.abort();
    // Cancelled before it is queued: never queued, never run.
    const early = b.submit(rows(4), opts({ cancellation: cancelledBy(controller.signal) }));
    expect(isCancelled(await rejection(cancelled))).toBe(true);
    expect(isCancelled(await rejection(early))).toBe(true);
    expect(values((await a).outputs[0])).toEqual([2, 20]);
    expect(values((await c).outputs[0])).toEqual([6, 60]);
    expect(rec.batches).toEqual([[1, 3]]);
    // Each listener was taken back when its request left the queue.
    expect(EventEmitter.getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("runs batches on every instance in parallel", async () => {
    let running = 0;
    let peak = 0;
    const slow: BatchRunner = async (inputs) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
      return inputs;
    };
    const b = new DynamicBatcher(policy({ maxBatchSize: 1, maxQueueDelayMs: 0 }), [slow, slow, slow]);
    await Promise.all([1, 2, 3, 4, 5, 6].map((v) => b.submit(rows(v), opts())));
    expect(peak).toBe(3);
  });

  it("rejects oversize requests, fails a whole batch on a runner error, and drains on close", async () => {
    const failing: BatchRunner = async () => {
      throw new Error("boom");
    };
    const b = new DynamicBatcher(policy({ maxBatchSize: 2 }), [failing]);
    expect(isInvalidArgument(await rejection(b.submit(rows(1, 2, 3), opts())))).toBe(true);
    const both = await Promise.allSettled([b.submit(rows(1), opts()), b.submit(rows(2), opts())]);
    expect(both.map((r) => r.status)).toEqual(["rejected", "rejected"]);

    const rec = recordingRunner();
    const c = new DynamicBatcher(policy({ maxQueueDelayMs: 60_000 }), [rec.runner]);
    const queued = c.submit(rows(7), opts());
    await c.close();
    expect(values((await queued).outputs[0])).toEqual([14, 140]);
    expect(isUnavailable(await rejection(c.submit(rows(8), opts())))).toBe(true);
  });
});
