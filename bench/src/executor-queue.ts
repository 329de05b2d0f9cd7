import { formatKey } from "@prescient/core";
import { type NewTask, RedisTaskQueue } from "@prescient/executor";
import { startRedisServer } from "@prescient/kit/testing";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { positiveFromEnv } from "./bench-env.js";
import { type BenchReport, newReport, result } from "./report.js";
import { timed } from "./timed.js";

/**
 * Issue 4's queue-alone benchmark: the hand-written Redis task queue against
 * BullMQ on the same redis-server in the same run. Both first load N tasks in
 * bulk (enqueueMany / addBulk, chunks of 1,000), then drain them: ours with
 * workers that claim 256 at a time and ack each batch in one call, BullMQ
 * with one Worker at concurrency 50 running a no-op processor. BullMQ gets
 * its fastest path (no priorities, completed jobs removed); ours uses mixed
 * priorities and keeps every completed task's status record.
 *
 * BENCH_TASKS sets N (default 100,000).
 */
const TASKS = positiveFromEnv("BENCH_TASKS", 100_000);
const CHUNK = 1_000;
const CLAIM = 256;
const WORKERS = 4;
const BULL_CONCURRENCY = 50;

const log = (line: string): void => {
  process.stdout.write(`executor-queue: ${line}\n`);
};

function newTask(i: number): NewTask {
  const key = formatKey({ tenant: "bench", taskType: "ctr_prediction", entityId: `ad-${i}` });
  return { key, taskType: "ctr_prediction", tenant: "bench", priority: 1 + (i % 10), reason: "trigger" };
}

interface Phase {
  enqueuePerS: number;
  drainPerS: number;
  /** redis-server CPU time per task while draining: what bounds throughput on a shared machine. */
  redisCpuUsPerTask: number;
}

/** CPU seconds redis-server has used (INFO cpu). */
async function redisCpu(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  const field = (name: string): number => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return field("used_cpu_user") + field("used_cpu_sys");
}

/** Times `work` (timed.ts) and answers its rate per second. */
async function perSecond(label: string, total: number, done: () => number, work: () => Promise<void>) {
  const seconds = await timed(log, label, total, done, work);
  log(`  ${label}: ${total} in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)}/s`);
  return total / seconds;
}

const producerConnection = (connections: Redis[]): Redis => connections[0] as Redis;

async function prescient(url: string, n: number): Promise<Phase> {
  const connections = Array.from({ length: WORKERS }, () => new Redis(url));
  const queues = connections.map((c) => new RedisTaskQueue(c, { keyPrefix: "bench:q", capacity: n }));
  const producer = queues[0] as RedisTaskQueue;
  let enqueued = 0;
  const enqueuePerS = await perSecond(
    "enqueueMany",
    n,
    () => enqueued,
    async () => {
      for (let i = 0; i < n; i += CHUNK) {
        const chunk = Array.from({ length: Math.min(CHUNK, n - i) }, (_, j) => newTask(i + j));
        const outcomes = await producer.enqueueMany(chunk);
        enqueued += outcomes.length;
      }
    },
  );
  let acked = 0;
  const cpuBefore = await redisCpu(producerConnection(connections));
  const drainPerS = await perSecond(
    "claim+ack",
    n,
    () => acked,
    async () => {
      await Promise.all(
        queues.map(async (q, w) => {
          for (;;) {
            const batch = await q.claim(CLAIM, { workerId: `bench-${w}` });
            if (batch.length === 0) return;
            const { completed } = await q.ack(batch.map((t) => t.id));
            acked += completed; // after the await: `acked += await` would add to a stale value
          }
        }),
      );
    },
  );
  const redisCpuUsPerTask = (((await redisCpu(producerConnection(connections))) - cpuBefore) * 1e6) / n;
  const stats = await producer.stats();
  if (acked !== n || stats.total.completed !== n || stats.size !== 0)
    throw new Error(`prescient queue lost work: acked ${acked}, stats ${JSON.stringify(stats.total)}`);
  await Promise.all(connections.map((c) => c.quit()));
  return { enqueuePerS, drainPerS, redisCpuUsPerTask };
}

async function bullmq(port: number, admin: Redis, n: number): Promise<Phase> {
  const connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null };
  const name = `bench-${n}`;
  const queue = new Queue(name, { connection });
  let added = 0;
  const enqueuePerS = await perSecond(
    "BullMQ addBulk",
    n,
    () => added,
    async () => {
      for (let i = 0; i < n; i += CHUNK) {
        const jobs = Array.from({ length: Math.min(CHUNK, n - i) }, (_, j) => {
          const t = newTask(i + j);
          return { name: "task", data: { key: t.key }, opts: { removeOnComplete: true, removeOnFail: true } };
        });
        const jobsAdded = await queue.addBulk(jobs);
        added += jobsAdded.length;
      }
    },
  );
  let completed = 0;
  let finish: () => void = () => {};
  const allDone = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const worker = new Worker(name, async () => {}, {
    connection,
    concurrency: BULL_CONCURRENCY,
    autorun: false,
  });
  worker.on("completed", () => {
    if (++completed === n) finish();
  });
  const cpuBefore = await redisCpu(admin);
  const drainPerS = await perSecond(
    "BullMQ worker",
    n,
    () => completed,
    async () => {
      void worker.run();
      await allDone;
    },
  );
  const redisCpuUsPerTask = (((await redisCpu(admin)) - cpuBefore) * 1e6) / n;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { enqueuePerS, drainPerS, redisCpuUsPerTask };
}

export async function run(): Promise<BenchReport> {
  const redis = await startRedisServer();
  const admin = new Redis(redis.url);
  try {
    // A small warm-up of both, so neither pays for JIT and script loading in the timed run.
    const warm = Math.max(1_000, Math.min(10_000, Math.floor(TASKS / 20)));
    log(`warm-up: ${warm} tasks each`);
    await prescient(redis.url, warm);
    await bullmq(redis.port, admin, warm);
    await admin.flushall();

    log(`prescient task queue: ${TASKS} tasks, ${WORKERS} workers claiming ${CLAIM} per call`);
    const ours = await prescient(redis.url, TASKS);
    await admin.flushall();
    log(`BullMQ: ${TASKS} jobs, one Worker at concurrency ${BULL_CONCURRENCY}`);
    const theirs = await bullmq(redis.port, admin, TASKS);
    log(`claim+ack ratio: ${(ours.drainPerS / theirs.drainPerS).toFixed(2)}x BullMQ`);
    log(
      `redis-server CPU per task while draining: ${ours.redisCpuUsPerTask.toFixed(1)} us, BullMQ ${theirs.redisCpuUsPerTask.toFixed(1)} us`,
    );

    return newReport("executor-queue", [
      result({
        case: `claim ${CLAIM} + ack, ${WORKERS} workers, ${TASKS} tasks`,
        metric: "throughput",
        unit: "tasks/s",
        value: ours.drainPerS,
        baseline: `BullMQ Worker c=${BULL_CONCURRENCY}, no-op jobs`,
        baseline_value: theirs.drainPerS,
        target_ratio: null,
      }),
      result({
        case: `claim ${CLAIM} + ack, ${WORKERS} workers, ${TASKS} tasks`,
        metric: "redis-server CPU per task",
        unit: "us",
        value: ours.redisCpuUsPerTask,
        baseline: `BullMQ Worker c=${BULL_CONCURRENCY}, no-op jobs`,
        baseline_value: theirs.redisCpuUsPerTask,
        target_ratio: null,
        lowerIsBetter: true,
      }),
      result({
        case: `enqueueMany, chunks of ${CHUNK}`,
        metric: "throughput",
        unit: "tasks/s",
        value: ours.enqueuePerS,
        baseline: `BullMQ addBulk, chunks of ${CHUNK}`,
        baseline_value: theirs.enqueuePerS,
        target_ratio: null,
      }),
    ]);
  } finally {
    await admin.quit();
    await redis.stop();
  }
}
