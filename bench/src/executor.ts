import { isMainThread, parentPort, Worker as Thread, workerData } from "node:worker_threads";
import { startCache } from "@prescient/cache";
import { defaultTaskTypesPath, formatKey, loadTaskTypes } from "@prescient/core";
import {
  type Features,
  GrpcCacheSink,
  type NewTask,
  OipPredictor,
  processBatch,
  RedisEntityStore,
  RedisTaskQueue,
  type TaskHandlers,
  WorkerPool,
} from "@prescient/executor";
import { ServiceHost } from "@prescient/kit";
import { startRedisServer } from "@prescient/kit/testing";
import { startPredictor } from "@prescient/predictor";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { pino } from "pino";
import { CpuProbe, redisServerPid } from "./proc-cpu.js";
import { type BenchReport, newReport, result } from "./report.js";

/**
 * Issue 4's end-to-end benchmark: N ctr_prediction tasks from the Redis task
 * queue through the predictor (the shipped ctr model, ONNX Runtime) into the
 * cache on Redis, in tasks/s. Ours: a WorkerPool claiming 256 at a time (one
 * feature read, one ModelInfer, one PutMany and one ack per batch). Baseline,
 * same run, same servers: BullMQ with one job per task, each job doing the
 * same work for its one task (feature read, single-row ModelInfer, one cache
 * write) through the same code path with a batch of one.
 *
 * Everything runs in this process except redis-server. The predictor and the
 * cache listen on one loopback ServiceHost in a worker thread (its own event
 * loop, so its own core, as a separate deployment would have), and the
 * workers on the main thread call them over real gRPC. BENCH_SERVERS=inline
 * puts them on the main thread instead, as one `prescient up` process would.
 *
 * BENCH_TASKS sets N (default 200,000); BENCH_BASELINE_TASKS the BullMQ run
 * (default N/10, at least 2,000: at its rate a full run would take minutes,
 * and throughput is what is compared).
 */
const TASKS = Number(process.env.BENCH_TASKS ?? 200_000);
if (!Number.isSafeInteger(TASKS) || TASKS < 1) throw new Error("BENCH_TASKS must be a positive integer");
const BASELINE_TASKS = Number(process.env.BENCH_BASELINE_TASKS ?? Math.max(2_000, Math.floor(TASKS / 10)));
if (!Number.isSafeInteger(BASELINE_TASKS) || BASELINE_TASKS < 1)
  throw new Error("BENCH_BASELINE_TASKS must be a positive integer");
const CLAIM = 256; // the ctr model's max_batch_size
const BATCHES_IN_FLIGHT = 4;
const BULL_CONCURRENCY = 50;
const CHUNK = 1_000;
const TENANT = "bench";
const TYPE = "ctr_prediction";
const SERVERS = process.env.BENCH_SERVERS ?? "thread";
if (SERVERS !== "thread" && SERVERS !== "inline") throw new Error("BENCH_SERVERS must be thread or inline");
const quiet = pino({ level: "silent" });

const log = (line: string): void => {
  process.stdout.write(`executor: ${line}\n`);
};

function features(i: number): Features {
  return {
    bid: 0.5 + (i % 7) * 0.25,
    quality_score: 1 + (i % 10),
    position: 1 + (i % 4),
    hour_of_day: i % 24,
    ad_age_days: i % 30,
    historical_ctr: 0.01 + (i % 9) * 0.005,
    relevance: (i % 11) / 10,
    device_mobile: i % 2,
  };
}

const entityId = (i: number): string => `ad-${i}`;
const keyOf = (i: number): string => formatKey({ tenant: TENANT, taskType: TYPE, entityId: entityId(i) });
const newTask = (i: number): NewTask => ({
  key: keyOf(i),
  taskType: TYPE,
  tenant: TENANT,
  priority: 1 + (i % 10),
  reason: "trigger",
});

/** What a batch needs (the executor's BatchDeps). */
type BatchDeps = Parameters<typeof processBatch>[1];

const noHandlers: TaskHandlers = { handle: () => Promise.reject(new Error("no external types here")) };

interface Measured {
  perSecond: number;
  /** CPU per task in microseconds (utime + stime from /proc), summed over every process involved. */
  cpuUs: number;
  /** The part of cpuUs in this process: the workers, and the predictor and cache on their thread. */
  nodeCpuUs: number;
  /** The part of cpuUs in redis-server (queue, entity features and cache alike). */
  redisCpuUs: number;
}

/** Times `work` over `total` tasks, printing progress once a second, with CPU use of every process. */
async function measure(
  label: string,
  total: number,
  done: () => number,
  redisPid: number,
  work: () => Promise<void>,
): Promise<Measured> {
  // Every process the tasks touch: this one (load, workers, predictor, cache) and redis-server.
  const probe = await CpuProbe.start([process.pid, redisPid]);
  const start = performance.now();
  const ticker = setInterval(() => log(`  ${label}: ${done()} / ${total}`), 1_000);
  try {
    await work();
  } finally {
    clearInterval(ticker);
  }
  const seconds = (performance.now() - start) / 1000;
  const cpu = await probe.stop();
  const nodeCpuUs = (cpu.byPid.get(process.pid) ?? 0) / total;
  const redisCpuUs = (cpu.byPid.get(redisPid) ?? 0) / total;
  const perSecond = total / seconds;
  log(
    `  ${label}: ${total} in ${seconds.toFixed(2)} s = ${Math.round(perSecond)}/s, ` +
      `CPU per task ${(cpu.totalUs / total).toFixed(1)} us (node ${nodeCpuUs.toFixed(1)}, redis-server ${redisCpuUs.toFixed(1)})`,
  );
  return { perSecond, cpuUs: cpu.totalUs / total, nodeCpuUs, redisCpuUs };
}

async function seedFeatures(entities: RedisEntityStore, n: number): Promise<void> {
  for (let i = 0; i < n; i += CHUNK) {
    const records = Array.from({ length: Math.min(CHUNK, n - i) }, (_, j) => ({
      tenant: TENANT,
      entityId: entityId(i + j),
      features: features(i + j),
    }));
    await entities.upsertMany(records);
  }
}

/** Ours: the WorkerPool draining N tasks already in the Redis queue. */
async function prescient(deps: BatchDeps, redisUrl: string, redisPid: number, n: number, keyPrefix: string) {
  const connection = new Redis(redisUrl);
  // Records of completed tasks are kept only briefly: 200k of them would be memory, not throughput.
  const queue = new RedisTaskQueue(connection, { keyPrefix, capacity: n, retentionMs: 60_000 });
  for (let i = 0; i < n; i += CHUNK)
    await queue.enqueueMany(Array.from({ length: Math.min(CHUNK, n - i) }, (_, j) => newTask(i + j)));
  const pool = new WorkerPool(queue, deps, {
    claimSize: CLAIM,
    batchesInFlight: BATCHES_IN_FLIGHT,
    maxIdleMs: 5,
    logger: quiet,
  });
  const measured = await measure(
    `worker pool, claim ${CLAIM} x ${BATCHES_IN_FLIGHT} in flight`,
    n,
    () => pool.counters.completed,
    redisPid,
    async () => {
      pool.start();
      while (pool.counters.completed + pool.counters.failed < n)
        await new Promise((resolve) => setTimeout(resolve, 5));
      await pool.stop();
    },
  );
  const stats = await queue.stats();
  if (stats.total.completed !== n || stats.size !== 0 || pool.counters.failed !== 0)
    throw new Error(`the pool did not complete every task: ${JSON.stringify(stats.total)}`);
  await connection.quit();
  return measured;
}

/** Baseline: BullMQ, one job per task, each job the same work for one task. */
async function bullmq(deps: BatchDeps, port: number, redisPid: number, n: number) {
  const connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null };
  const name = `bench-executor-${n}`;
  const queue = new Queue(name, { connection });
  for (let i = 0; i < n; i += CHUNK)
    await queue.addBulk(
      Array.from({ length: Math.min(CHUNK, n - i) }, (_, j) => ({
        name: "task",
        data: { key: keyOf(i + j) },
        opts: { priority: 1 + ((i + j) % 10), removeOnComplete: true, removeOnFail: true },
      })),
    );
  let completed = 0;
  let failed = 0;
  let finish: () => void = () => {};
  const allDone = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const worker = new Worker<{ key: string }>(
    name,
    async (job) => {
      const outcome = await processBatch([{ id: job.id ?? "", key: job.data.key }], deps);
      if (outcome.completed.length !== 1) throw new Error(outcome.failed[0]?.error ?? "no result");
    },
    { connection, concurrency: BULL_CONCURRENCY, autorun: false },
  );
  const settle = () => {
    if (completed + failed === n) finish();
  };
  worker.on("completed", () => {
    completed++;
    settle();
  });
  worker.on("failed", () => {
    failed++;
    settle();
  });
  const measured = await measure(
    `BullMQ, concurrency ${BULL_CONCURRENCY}, one job per task`,
    n,
    () => completed,
    redisPid,
    async () => {
      void worker.run();
      await allDone;
    },
  );
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  if (failed > 0) throw new Error(`BullMQ baseline: ${failed} jobs failed`);
  return measured;
}

interface Servers {
  address: string;
  close(): Promise<void>;
}

/** The predictor (ctr model) and the cache (on Redis) on one loopback host. */
async function startServers(redisUrl: string): Promise<Servers> {
  const host = new ServiceHost({ address: "127.0.0.1:0", logger: quiet });
  const predictor = startPredictor(host, { logger: quiet, pollIntervalMs: 0, models: [TYPE] });
  const taskTypes = loadTaskTypes(defaultTaskTypesPath);
  await Promise.all([
    startCache(host, { taskTypes, store: { redisUrl, keyPrefix: "bench:cache:" }, logger: undefined }),
    host.start(),
  ]);
  await predictor.ready;
  return { address: host.address, close: () => host.shutdown() };
}

/** startServers in a worker thread running this module; any message shuts it down. */
async function serversInThread(redisUrl: string): Promise<Servers> {
  const thread = new Thread(new URL(import.meta.url), { workerData: { role: "executor-servers", redisUrl } });
  const address = await new Promise<string>((resolve, reject) => {
    thread.once("message", (m: { address: string }) => resolve(m.address));
    thread.once("error", reject);
  });
  return {
    address,
    close: async () => {
      const exited = new Promise((resolve) => thread.once("exit", resolve));
      thread.postMessage("stop");
      await exited;
    },
  };
}

if (!isMainThread && workerData?.role === "executor-servers") {
  const servers = await startServers(workerData.redisUrl as string);
  parentPort?.on("message", () => {
    void servers.close().then(() => process.exit(0));
  });
  parentPort?.postMessage({ address: servers.address });
}

export async function run(): Promise<BenchReport> {
  const redis = await startRedisServer();
  const admin = new Redis(redis.url);
  const redisPid = await redisServerPid(redis.url);
  const taskTypes = loadTaskTypes(defaultTaskTypesPath);
  const servers = SERVERS === "thread" ? await serversInThread(redis.url) : await startServers(redis.url);
  log(
    `predictor and cache on ${SERVERS === "thread" ? "a worker thread" : "the main thread"} at ${servers.address}`,
  );
  const entityConnection = new Redis(redis.url);
  const entities = new RedisEntityStore(entityConnection, { keyPrefix: "bench:entity:" });
  const oip = new OipPredictor(servers.address);
  const sink = new GrpcCacheSink(servers.address);
  const deps: BatchDeps = { taskTypes, entities, predictor: oip, handlers: noHandlers, sink };
  try {
    const seeded = Math.max(TASKS, BASELINE_TASKS);
    log(`storing features of ${seeded} entities`);
    await seedFeatures(entities, seeded);

    const warm = Math.min(5_000, Math.max(500, Math.floor(TASKS / 40)));
    log(`warm-up: ${warm} tasks each way`);
    await prescient(deps, redis.url, redisPid, warm, "bench:warm");
    await bullmq(deps, redis.port, redisPid, Math.min(warm, 1_000));

    log(`prescient: ${TASKS} tasks through the queue, the predictor and the cache`);
    const ours = await prescient(deps, redis.url, redisPid, TASKS, "bench:q");
    const cached = await admin.dbsize();
    log(`BullMQ: ${BASELINE_TASKS} jobs, the same work one task per job`);
    const theirs = await bullmq(deps, redis.port, redisPid, BASELINE_TASKS);
    log(
      `end to end: ${(ours.perSecond / theirs.perSecond).toFixed(1)}x BullMQ in tasks/s, ` +
        `${(theirs.cpuUs / ours.cpuUs).toFixed(1)}x less CPU per task (redis keys after ours: ${cached})`,
    );

    const label = `${TASKS} ctr tasks, Redis queue -> predictor -> Redis cache`;
    const baseline = `BullMQ c=${BULL_CONCURRENCY}, one job per task (${BASELINE_TASKS} jobs)`;
    return newReport("executor", [
      result({
        case: label,
        metric: "throughput",
        unit: "tasks/s",
        value: ours.perSecond,
        baseline,
        baseline_value: theirs.perSecond,
        // Issue 16: at least 15x BullMQ.
        target_ratio: 15,
      }),
      result({
        case: label,
        metric: "throughput vs the 30,000/s target",
        unit: "tasks/s",
        value: ours.perSecond,
        baseline: "target",
        baseline_value: 30_000,
        target_ratio: 1,
      }),
      result({
        case: label,
        metric: "CPU per task, every process (this one and redis-server)",
        unit: "us",
        value: ours.cpuUs,
        baseline,
        baseline_value: theirs.cpuUs,
        target_ratio: null,
        lowerIsBetter: true,
      }),
      result({
        case: label,
        metric: "node CPU per task (workers, predictor, cache)",
        unit: "us",
        value: ours.nodeCpuUs,
        baseline,
        baseline_value: theirs.nodeCpuUs,
        target_ratio: null,
        lowerIsBetter: true,
      }),
      result({
        case: label,
        metric: "redis-server CPU per task",
        unit: "us",
        value: ours.redisCpuUs,
        baseline,
        baseline_value: theirs.redisCpuUs,
        target_ratio: null,
        lowerIsBetter: true,
      }),
    ]);
  } finally {
    oip.close();
    sink.close();
    await servers.close();
    await entities.close();
    await admin.quit();
    await redis.stop();
  }
}
