import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { RedisEntityStore } from "../entities/redis-entity-store.js";
import { RedisTaskQueue } from "../queue/redis-task-queue.js";
import {
  type Backends,
  ctrFeatures,
  newTask,
  noHandlers,
  quietLogger,
  records,
  startBackends,
  taskTypes,
  waitFor,
} from "./pipeline.test-util.js";
import { WorkerPool } from "./worker-pool.js";

/**
 * Workers in a process of their own, on Redis, killed mid-batch: with SIGKILL
 * (nothing runs; the leases lapse and a second worker completes every task)
 * and with SIGTERM (the batches in flight finish and the process exits 0).
 * The child runs the built dist, so the executor is built first.
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL("../../../../", import.meta.url));
const fixture = fileURLToPath(new URL("./executor-process.fixture.mjs", import.meta.url));
const redisUrl = inject("redisUrl");
const tenant = "crash";
const LEASE_MS = 1_000;

let backends: Backends;
let redis: Redis;
let children: ChildProcess[] = [];

beforeAll(async () => {
  await run(process.execPath, [`${root}node_modules/typescript/bin/tsc`, "-b", "services/executor"], {
    cwd: root,
  });
  backends = await startBackends();
  redis = new Redis(redisUrl);
}, 120_000);
afterAll(async () => {
  await backends.close();
  await redis.quit();
});
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  children = [];
});

interface Child {
  process: ChildProcess;
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startChild(
  keyPrefix: string,
  settings: { inferDelayMs: number; claimSize: number; batchesInFlight: number },
): Child {
  const env: Record<string, string> = { LOG_LEVEL: "fatal" };
  for (const [key, value] of Object.entries(process.env))
    if (value !== undefined && key !== "NODE_OPTIONS" && !key.startsWith("OTEL_")) env[key] = value;
  const config = {
    redisUrl,
    keyPrefix,
    predictorAddr: backends.host.address,
    cacheAddr: backends.host.address,
    leaseMs: LEASE_MS,
    ...settings,
  };
  const child = spawn(process.execPath, [fixture, JSON.stringify(config)], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const lines: string[] = [];
  let pending = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    pending += chunk.toString();
    const parts = pending.split("\n");
    pending = parts.pop() ?? "";
    lines.push(...parts);
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      if (stderr) lines.push(`stderr: ${stderr}`);
      resolve({ code, signal });
    }),
  );
  return { process: child, lines, exited };
}

/** A fresh queue namespace with N ctr tasks whose features are stored where the child's executor reads them. */
async function seed(n: number) {
  const keyPrefix = `test-executor-crash-${randomUUID().slice(0, 8)}`;
  const queue = new RedisTaskQueue(redis, { keyPrefix, leaseMs: LEASE_MS });
  // startExecutor's entity store uses the default prefix; the ids are unique to this run.
  const entities = new RedisEntityStore(new Redis(redisUrl));
  const ids = Array.from({ length: n }, (_, i) => `${keyPrefix}-ad-${i}`);
  await entities.upsertMany(ids.map((entityId, i) => ({ tenant, entityId, features: ctrFeatures(i) })));
  const enqueued = await queue.enqueueMany(ids.map((id) => newTask(tenant, "ctr_prediction", id)));
  const cleanup = async () => {
    await entities.delete(ids.map((entityId) => ({ tenant, entityId })));
    await entities.close();
    const keys = await redis.keys(`{${keyPrefix}}:*`);
    if (keys.length > 0) await redis.unlink(...keys);
  };
  return { keyPrefix, queue, entities, ids, taskIds: enqueued.map((r) => r.taskId), cleanup };
}

describe("a worker process that dies", () => {
  it("killed with SIGKILL mid-batch loses no task: a second worker completes every one once the leases lapse", async () => {
    const s = await seed(40);
    try {
      const child = startChild(s.keyPrefix, { inferDelayMs: 60_000, claimSize: 16, batchesInFlight: 2 });
      await waitFor(
        "two batches in flight in the child",
        () => child.lines.filter((l) => l.startsWith("infer")).length === 2,
      );
      expect((await s.queue.stats()).total.processing).toBe(32);
      child.process.kill("SIGKILL");
      expect(await child.exited).toEqual({ code: null, signal: "SIGKILL" });

      backends.predictor.calls.length = 0;
      const survivor = new WorkerPool(
        s.queue,
        {
          taskTypes,
          entities: s.entities,
          predictor: backends.predictor,
          handlers: noHandlers,
          sink: backends.sink,
        },
        { claimSize: 64, batchesInFlight: 1, leaseMs: LEASE_MS, maxIdleMs: 20, logger: quietLogger },
      );
      survivor.start();
      try {
        await waitFor("every task to complete", async () => (await s.queue.stats()).total.completed === 40);
      } finally {
        await survivor.stop();
      }
      const stats = (await s.queue.stats()).total;
      expect(stats).toMatchObject({ completed: 40, processing: 0, queued: 0, failed: 0, dead: 0 });
      const all = await records(s.queue, s.taskIds);
      expect(all.every((r) => r.state === "completed")).toBe(true);
      // The 32 the dead worker held were attempted twice; the other 8 once.
      expect(all.filter((r) => r.attempts === 2)).toHaveLength(32);
      for (const id of s.ids.slice(0, 5)) {
        const hit = await backends.lookup({ tenant, taskType: "ctr_prediction", entityId: id });
        expect(hit.hit).toBe(true);
      }
    } finally {
      await s.cleanup();
    }
  }, 60_000);

  it("sent SIGTERM mid-batch finishes its batches in flight, exits 0 and leaves nothing processing", async () => {
    const s = await seed(40);
    try {
      const child = startChild(s.keyPrefix, { inferDelayMs: 1_500, claimSize: 8, batchesInFlight: 2 });
      await waitFor(
        "two batches in flight in the child",
        () => child.lines.filter((l) => l.startsWith("infer")).length === 2,
      );
      child.process.kill("SIGTERM");
      const exit = await child.exited;
      expect(exit, child.lines.join("\n")).toEqual({ code: 0, signal: null });
      const stats = (await s.queue.stats()).total;
      // Both batches in flight completed; nothing was claimed and abandoned.
      expect(stats).toMatchObject({ completed: 16, processing: 0, queued: 24, failed: 0, dead: 0 });
      const all = await records(s.queue, s.taskIds);
      expect(all.filter((r) => r.state === "queued").every((r) => r.attempts === 0)).toBe(true);
    } finally {
      await s.cleanup();
    }
  }, 60_000);
});
