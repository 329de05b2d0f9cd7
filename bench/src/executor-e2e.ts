import { isMainThread, parentPort, Worker as Thread, workerData } from "node:worker_threads";
import { startCache } from "@prescient/cache";
import { defaultTaskTypesPath, formatKey, loadTaskTypes } from "@prescient/core";
import {
  type Features,
  GrpcCacheSink,
  type NewTask,
  OipPredictor,
  type processBatch,
  RedisEntityStore,
  RedisTaskQueue,
  type TaskHandlers,
  WorkerPool,
} from "@prescient/executor";
import { connectRedis, ServiceHost } from "@prescient/kit";
import { startPredictor } from "@prescient/predictor";
import { pino } from "pino";
import { positiveFromEnv } from "./bench-env.js";
import { CpuProbe } from "./proc-cpu.js";
import { timed } from "./timed.js";

/**
 * The executor's end-to-end path as the benches drive it (executor.ts, and
 * redis-cluster.ts on a single node and on a Redis Cluster): ctr_prediction
 * tasks from the Redis task queue through the predictor (the shipped ctr
 * model, ONNX Runtime) into the cache on Redis. A WorkerPool claims 512 at a
 * time (one feature read, two ModelInfers of the model's 256 rows, one
 * PutMany and one ack per batch).
 *
 * The predictor and the cache listen on one loopback ServiceHost in a worker
 * thread (its own event loop, so its own core, as a separate deployment
 * would have), and the workers on the main thread call them over real gRPC;
 * `servers: "inline"` puts them on the main thread instead, as one
 * `prescient up` process would. Every Redis client comes from connectRedis,
 * so a `redis+cluster://` URL works as REDIS_URL does in the services.
 *
 * BENCH_CLAIM and BENCH_BATCHES_IN_FLIGHT override the pool's claim size and
 * batches in flight, for experiments; the defaults are the WorkerPool's.
 */
export const CLAIM = positiveFromEnv("BENCH_CLAIM", 512); // the WorkerPool's default: two of the ctr model's batches (max_batch_size 256)
export const BATCHES_IN_FLIGHT = positiveFromEnv("BENCH_BATCHES_IN_FLIGHT", 4); // the WorkerPool's default
export const CHUNK = 1_000;
export const TENANT = "bench";
export const TYPE = "ctr_prediction";
const quiet = pino({ level: "silent" });

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
export const keyOf = (i: number): string =>
  formatKey({ tenant: TENANT, taskType: TYPE, entityId: entityId(i) });
const newTask = (i: number): NewTask => ({
  key: keyOf(i),
  taskType: TYPE,
  tenant: TENANT,
  priority: 1 + (i % 10),
  reason: "trigger",
});

/** What a batch needs (the executor's BatchDeps). */
export type BatchDeps = Parameters<typeof processBatch>[1];

const noHandlers: TaskHandlers = { handle: () => Promise.reject(new Error("no external types here")) };

export interface Measured {
  perSecond: number;
  /** CPU per task in microseconds (utime + stime from /proc), summed over every process involved. */
  cpuUs: number;
  /** The part of cpuUs in this process: the workers, and the predictor and cache on their thread. */
  nodeCpuUs: number;
  /** The part of cpuUs in redis-server (queue, entity features and cache alike), over every redis pid. */
  redisCpuUs: number;
  /** redisCpuUs by redis-server pid (one per cluster node). */
  redisByPid: Map<number, number>;
}

/** One Redis deployment (a node or a cluster) with the predictor and cache on it, ready for tasks. */
export interface ExecutorRig {
  redisUrl: string;
  /** Every redis-server process of the deployment, whose CPU counts. */
  redisPids: readonly number[];
  deps: BatchDeps;
  entities: RedisEntityStore;
  log(line: string): void;
  close(): Promise<void>;
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

/** Starts the predictor and the cache on `redisUrl` and wires the batch dependencies to them. */
export async function startExecutorRig(options: {
  redisUrl: string;
  redisPids: readonly number[];
  servers: "thread" | "inline";
  log(line: string): void;
}): Promise<ExecutorRig> {
  const { redisUrl, log } = options;
  const taskTypes = loadTaskTypes(defaultTaskTypesPath);
  const servers =
    options.servers === "thread" ? await serversInThread(redisUrl) : await startServers(redisUrl);
  log(
    `predictor and cache on ${options.servers === "thread" ? "a worker thread" : "the main thread"} at ${servers.address}`,
  );
  const entities = new RedisEntityStore(connectRedis(redisUrl), { keyPrefix: "bench:entity:" });
  const oip = new OipPredictor(servers.address);
  const sink = new GrpcCacheSink(servers.address);
  const deps: BatchDeps = { taskTypes, entities, predictor: oip, handlers: noHandlers, sink };
  return {
    redisUrl,
    redisPids: options.redisPids,
    deps,
    entities,
    log,
    async close() {
      oip.close();
      sink.close();
      await servers.close();
      await entities.close();
    },
  };
}

/** Times `work` over `total` tasks, printing progress once a second, with CPU use of every process. */
export async function measure(
  rig: Pick<ExecutorRig, "redisPids" | "log">,
  label: string,
  total: number,
  done: () => number,
  work: () => Promise<void>,
): Promise<Measured> {
  const { log } = rig;
  // Every process the tasks touch: this one (load, workers, predictor, cache) and redis-server(s).
  const probe = await CpuProbe.start([process.pid, ...rig.redisPids]);
  const seconds = await timed(log, label, total, done, work);
  const cpu = await probe.stop();
  const nodeCpuUs = (cpu.byPid.get(process.pid) ?? 0) / total;
  const redisByPid = new Map(rig.redisPids.map((pid) => [pid, (cpu.byPid.get(pid) ?? 0) / total]));
  const redisCpuUs = [...redisByPid.values()].reduce((a, b) => a + b, 0);
  const perSecond = total / seconds;
  log(
    `  ${label}: ${total} in ${seconds.toFixed(2)} s = ${Math.round(perSecond)}/s, ` +
      `CPU per task ${(cpu.totalUs / total).toFixed(1)} us (node ${nodeCpuUs.toFixed(1)}, redis-server ${redisCpuUs.toFixed(1)})`,
  );
  return { perSecond, cpuUs: cpu.totalUs / total, nodeCpuUs, redisCpuUs, redisByPid };
}

export async function seedFeatures(entities: RedisEntityStore, n: number): Promise<void> {
  for (let i = 0; i < n; i += CHUNK) {
    const records = Array.from({ length: Math.min(CHUNK, n - i) }, (_, j) => ({
      tenant: TENANT,
      entityId: entityId(i + j),
      features: features(i + j),
    }));
    await entities.upsertMany(records);
  }
}

/**
 * The WorkerPool draining N tasks already in the Redis queue. `partitions`
 * splits the queue (one hash tag each, so one master each on a cluster);
 * `beforeWork` runs after the enqueue, just before the timing starts.
 */
export async function runWorkerPool(
  rig: ExecutorRig,
  n: number,
  keyPrefix: string,
  options: { partitions?: number; beforeWork?: () => Promise<void> } = {},
): Promise<Measured> {
  const partitions = options.partitions ?? 1;
  const connection = connectRedis(rig.redisUrl);
  // Records of completed tasks are kept only briefly: 200k of them would be memory, not throughput.
  // Each partition holds an even share of capacity while keys hash unevenly: give each all n.
  const queue = new RedisTaskQueue(connection, {
    keyPrefix,
    capacity: n * partitions,
    retentionMs: 60_000,
    partitions,
  });
  for (let i = 0; i < n; i += CHUNK)
    await queue.enqueueMany(Array.from({ length: Math.min(CHUNK, n - i) }, (_, j) => newTask(i + j)));
  const pool = new WorkerPool(queue, rig.deps, {
    claimSize: CLAIM,
    batchesInFlight: BATCHES_IN_FLIGHT,
    maxIdleMs: 5,
    logger: quiet,
  });
  await options.beforeWork?.();
  const measured = await measure(
    rig,
    `worker pool, claim ${CLAIM} x ${BATCHES_IN_FLIGHT} in flight${partitions > 1 ? `, ${partitions} partitions` : ""}`,
    n,
    () => pool.counters.completed,
    async () => {
      pool.start();
      while (pool.counters.completed + pool.counters.failed < n)
        await new Promise((resolve) => setTimeout(resolve, 5));
      await pool.stop();
    },
  );
  const stats = await queue.stats();
  if (stats.total.completed !== n || stats.size !== 0 || pool.counters.failed !== 0)
    throw new Error(
      `the pool did not complete every task: ${JSON.stringify(stats.total)}, size ${stats.size}, ` +
        `pool ${JSON.stringify(pool.counters)}`,
    );
  await connection.quit();
  return measured;
}
