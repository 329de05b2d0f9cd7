import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { heavyMlp } from "../models/index.js";
import {
  type InferRequest,
  startTestPredictor,
  type TestPredictor,
  tempRepository,
  writeModel,
} from "../predictor.test-util.js";
import { ortSessionOptions } from "./session-options.js";
import { WorkerSession } from "./worker-session.js";

/**
 * Model instances on worker threads (run_in_worker): real ONNX Runtime
 * sessions, real gRPC. The datatype round trip (inference-datatypes.test.ts)
 * runs through workers too.
 */

/** 8 → hidden → hidden → 1, random weights: about 2 × hidden² multiply-adds a row, so a big batch takes a while. */
const mlp = (hidden: number): Uint8Array => heavyMlp(hidden, 11);

const rows = (n: number): number[] => Array.from({ length: n * 8 }, (_, i) => ((i * 37) % 101) / 101);
const request = (model: string, n: number): InferRequest => ({
  modelName: model,
  inputs: [
    { name: "features", datatype: "FP32", shape: [BigInt(n), 8n], contents: { fp32Contents: rows(n) } },
  ],
});
const cpu = ortSessionOptions("cpu", {
  intraOpThreads: 1,
  interOpThreads: 1,
  executionMode: "sequential",
  intraOpSpinning: false,
});
const features = (n: number) => ({
  name: "features",
  type: "float32",
  dims: [n, 8],
  data: Float32Array.from(rows(n)),
});

/**
 * The longest the event loop went without turning while `work` ran, and how
 * long it took: a 5 ms timer notes each turn.
 */
async function loopHeld(work: () => Promise<unknown>): Promise<{ heldMs: number; tookMs: number }> {
  let heldMs = 0;
  let last = performance.now();
  const gauge = setInterval(() => {
    const now = performance.now();
    heldMs = Math.max(heldMs, now - last);
    last = now;
  }, 5);
  const t0 = performance.now();
  try {
    await work();
  } finally {
    clearInterval(gauge);
  }
  heldMs = Math.max(heldMs, performance.now() - last);
  return { heldMs, tookMs: performance.now() - t0 };
}

describe("model instances on worker threads", () => {
  let p: TestPredictor;
  let repo: ReturnType<typeof tempRepository>;
  const big = mlp(512);

  beforeAll(async () => {
    repo = tempRepository();
    const config = "max_batch_size: 65536\nmax_queue_delay_ms: 0\n";
    writeModel(repo.root, "on_loop", 1, big, config);
    writeModel(repo.root, "in_worker", 1, big, `${config}run_in_worker: true\ninstance_count: 2\n`);
    p = await startTestPredictor({ repositoryPath: repo.root });
    await p.runtime.ready;
  });
  afterAll(async () => {
    await p.close();
    repo.remove();
  });

  it("answers exactly what the same model answers on the event loop", async () => {
    const [loop, worker] = await Promise.all([
      p.infer(request("on_loop", 300)),
      p.infer(request("in_worker", 300)),
    ]);
    expect(worker.outputs[0]!.shape).toEqual([300n, 1n]);
    expect(worker.outputs[0]!.contents!.fp32Contents).toHaveLength(300);
    expect(worker.outputs[0]!.contents!.fp32Contents).toEqual(loop.outputs[0]!.contents!.fp32Contents);
  });

  it("keeps the event loop turning while a long batch computes, which the event loop's own session cannot", async () => {
    // A batch that computes for a while; the request's decode and the answer's encode stay on the loop.
    const n = 20_000;
    await p.infer(request("in_worker", n)); // warm-up
    await p.infer(request("on_loop", n));
    const onLoop = await loopHeld(() => p.infer(request("on_loop", n)));
    // The control: on the event loop, the compute holds it for most of the call.
    expect(onLoop.tookMs).toBeGreaterThan(40);
    expect(onLoop.heldMs).toBeGreaterThan(onLoop.tookMs / 2);
    // In a worker, the loop turns throughout. A loaded machine may deschedule the process now and then:
    // the best of three tries is what is judged.
    const tries: Array<{ heldMs: number; tookMs: number }> = [];
    for (let i = 0; i < 3; i++) {
      const t = await loopHeld(() => p.infer(request("in_worker", n)));
      tries.push(t);
      if (t.heldMs < onLoop.heldMs / 3) break;
    }
    const best = tries.reduce((a, b) => (b.heldMs < a.heldMs ? b : a));
    expect(best.heldMs, JSON.stringify({ onLoop, tries })).toBeLessThan(onLoop.heldMs / 3);
  });

  it("follows the predictor's override of every model's run_in_worker (PRESCIENT_PREDICTOR_RUN_IN_WORKER)", async () => {
    expect(p.runtime.repository.resolve("on_loop", "1").inWorkers).toBe(false);
    expect(p.runtime.repository.resolve("in_worker", "1").inWorkers).toBe(true);
    for (const runInWorker of [true, false]) {
      const q = await startTestPredictor({ repositoryPath: repo.root, runInWorker });
      try {
        await q.runtime.ready;
        for (const model of ["on_loop", "in_worker"]) {
          expect(
            q.runtime.repository.resolve(model, "1").inWorkers,
            `${model}, override ${runInWorker}`,
          ).toBe(runInWorker);
          expect((await q.infer(request(model, 4))).outputs[0]!.contents!.fp32Contents).toHaveLength(4);
        }
      } finally {
        await q.close();
      }
    }
  });

  it("gives each instance a worker thread of its own, and serves concurrent batches on them", async () => {
    // Two instances, two threads: what lets two batches compute at once (the bench measures how fast).
    const threads = p.runtime.repository.resolve("in_worker", "1").workerThreadIds;
    expect(threads).toHaveLength(2);
    expect(new Set(threads).size).toBe(2);
    for (const id of threads) expect(id).toBeGreaterThan(0);
    expect(p.runtime.repository.resolve("on_loop", "1").workerThreadIds).toEqual([]);
    const answers = await Promise.all([
      p.infer(request("in_worker", 2000)),
      p.infer(request("in_worker", 2000)),
    ]);
    for (const a of answers) expect(a.outputs[0]!.contents!.fp32Contents).toHaveLength(2000);
  });
});

describe("WorkerSession", () => {
  /** Runs `use` on a session of a small MLP, released afterwards whatever happens. */
  async function withSession(use: (s: WorkerSession) => Promise<void>): Promise<void> {
    const s = await WorkerSession.start(mlp(16), cpu);
    try {
      await use(s);
    } finally {
      await s.release();
    }
  }

  it("reports the session's inputs and outputs, and runs a batch", async () => {
    await withSession(async (s) => {
      expect(s.inputMetadata.map((m) => m.name)).toEqual(["features"]);
      expect(s.outputMetadata.map((m) => m.name)).toEqual(["probability"]);
      const [out] = await s.run([features(5)]);
      expect(out!.name).toBe("probability");
      expect(out!.dims).toEqual([5, 1]);
      expect(out!.data).toBeInstanceOf(Float32Array);
      expect(out!.data).toHaveLength(5);
    });
  });

  it("copies a view into a larger buffer rather than moving the buffer away from its owner", async () => {
    await withSession(async (s) => {
      const owner = new Float32Array(64).fill(0.5);
      const view = owner.subarray(8, 8 + 16);
      await s.run([{ name: "features", type: "float32", dims: [2, 8], data: view }]);
      expect(owner.length).toBe(64);
      expect(owner[63]).toBe(0.5);
      expect(view.length).toBe(16);
    });
  });

  it("starts a new worker for the next batch when its worker has died", async () => {
    await withSession(async (s) => {
      const first = s.threadId;
      await s.run([features(2)]);
      await s.kill();
      expect(s.threadId).toBe(-1);
      const [out] = await s.run([features(3)]);
      expect(out!.data).toHaveLength(3);
      expect(s.threadId).not.toBe(first);
      expect(s.threadId).toBeGreaterThan(0);
    });
  });

  it("answers a batch the model refuses with ORT's error, and goes on serving", async () => {
    await withSession(async (s) => {
      await expect(
        s.run([{ name: "features", type: "float32", dims: [2, 3], data: new Float32Array(6) }]),
      ).rejects.toThrow(/features|dimension|Got invalid dimensions/i);
      const [out] = await s.run([features(2)]);
      expect(out!.data).toHaveLength(2);
    });
  });

  it("refuses bytes that are no model, with ORT's reason and no path", async () => {
    const failure = await WorkerSession.start(new TextEncoder().encode("not a model"), cpu).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(failure?.message).toMatch(/protobuf|parse|load/i);
    expect(failure?.message).not.toMatch(/\/work\/|\/tmp\/|node_modules/);
  });

  it("answers the batches it holds before a release ends its thread", async () => {
    const s = await WorkerSession.start(mlp(256), cpu);
    const held = [s.run([features(4000)]), s.run([features(3)])];
    await s.release();
    const [big, small] = await Promise.all(held);
    expect(big![0]!.data).toHaveLength(4000);
    expect(small![0]!.data).toHaveLength(3);
  });

  it("ends its thread on release, after which it runs nothing", async () => {
    const s = await WorkerSession.start(mlp(16), cpu);
    expect(s.threadId).toBeGreaterThan(0);
    await s.release();
    expect(s.threadId).toBe(-1);
    await expect(s.run([features(1)])).rejects.toThrow(/released/);
  });
});
