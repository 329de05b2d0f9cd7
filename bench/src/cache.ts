import { credentials } from "@grpc/grpc-js";
import { startCache } from "@prescient/cache";
import { cacheV1, type commonV1 } from "@prescient/contracts";
import { defaultTaskTypesPath, loadTaskTypes } from "@prescient/core";
import { callUnary, clientChannelOptions, ServiceHost } from "@prescient/kit";
import { startRedisServer } from "@prescient/kit/testing";
import { Redis } from "ioredis";
import { EchoClient, startEchoServer } from "./echo-server.js";
import { closedLoop, type LoadResult, loadOptions } from "./load.js";
import { type BenchReport, type BenchResult, newReport, result } from "./report.js";

/**
 * Issue 2's cache benchmark: Lookup hits on both stores against a bare
 * grpc-js echo of the same message sizes, and LookupMany of 100 keys on Redis
 * against ioredis MGET of the same keys, all in one run.
 */
const TENANT = "bench";
const TYPE = "ctr_prediction";
const KEYS = 1000;
const REDIS_PREFIX = "bench:cache:";

const entityKey = (i: number): commonV1.Key => ({ tenant: TENANT, taskType: TYPE, entityId: `ad-${i}` });

function entry(i: number): cacheV1.PutEntry {
  return {
    key: entityKey(i),
    value: {
      tensors: {
        tensors: [{ name: "probability", datatype: "FP32", shape: [1n, 1n], data: [0.01 + i / 1e5] }],
      },
      contentType: "",
    },
    modelName: "ctr_prediction",
    modelVersion: "1",
    computeMs: 3,
    inputDigest: "",
    tags: [],
  };
}

async function startCacheHost(store: "memory" | { redisUrl: string }) {
  const host = new ServiceHost({ address: "127.0.0.1:0" });
  const taskTypes = loadTaskTypes(defaultTaskTypesPath);
  const redisStore = typeof store === "object" ? { ...store, keyPrefix: REDIS_PREFIX } : store;
  await startCache(host, { taskTypes, store: redisStore });
  await host.start();
  const client = new cacheV1.CacheServiceClient(
    host.address,
    credentials.createInsecure(),
    clientChannelOptions(),
  );
  for (let i = 0; i < KEYS; i += 250) {
    const entries = Array.from({ length: 250 }, (_, j) => entry(i + j));
    await callUnary(client.putMany.bind(client), { entries });
  }
  return { host, client };
}

function lookupRequest(i: number): cacheV1.LookupRequest {
  return {
    key: entityKey(i % KEYS),
    onMiss: cacheV1.OnMiss.ON_MISS_NONE,
    features: {},
    userId: "",
    rejectStale: false,
  };
}

async function lookupLoad(client: cacheV1.CacheServiceClient, concurrency: number): Promise<LoadResult> {
  let i = 0;
  const lookup = client.lookup.bind(client);
  return closedLoop(async () => {
    const response = await callUnary(lookup, lookupRequest(i++));
    if (!response.hit) throw new Error("benchmark lookup missed");
  }, loadOptions(concurrency));
}

export async function run(): Promise<BenchReport> {
  const redis = await startRedisServer();
  const memory = await startCacheHost("memory");
  const onRedis = await startCacheHost({ redisUrl: redis.url });

  // The echo answers with exactly the bytes a Lookup hit carries.
  const sample = await callUnary(memory.client.lookup.bind(memory.client), lookupRequest(7));
  const requestBytes = cacheV1.LookupRequest.encode(lookupRequest(7)).finish().length;
  const responseBytes = cacheV1.LookupResponse.encode(sample).finish().length;
  const echoServer = await startEchoServer(responseBytes);
  const echo = new EchoClient(echoServer.address, requestBytes);
  process.stdout.write(`cache bench: lookup request ${requestBytes} B, response ${responseBytes} B\n`);

  const results: BenchResult[] = [];
  for (const concurrency of [1, 64]) {
    const base = await closedLoop(() => echo.echo(), loadOptions(concurrency));
    const mem = await lookupLoad(memory.client, concurrency);
    const red = await lookupLoad(onRedis.client, concurrency);
    const line = (name: string, r: LoadResult) =>
      `  c=${concurrency} ${name.padEnd(14)} ${Math.round(r.throughput)} calls/s  p50 ${r.p50Ms.toFixed(3)} ms  p99 ${r.p99Ms.toFixed(3)} ms  errors ${r.errors}\n`;
    process.stdout.write(line("echo", base) + line("lookup memory", mem) + line("lookup redis", red));
    const baseline = `grpc-js echo c=${concurrency}`;
    results.push(
      result({
        case: `lookup hit, memory, c=${concurrency}`,
        metric: "throughput",
        unit: "calls/s",
        value: mem.throughput,
        baseline,
        baseline_value: base.throughput,
        target_ratio: 0.8,
      }),
      result({
        case: `lookup hit, redis, c=${concurrency}`,
        metric: "throughput",
        unit: "calls/s",
        value: red.throughput,
        baseline,
        baseline_value: base.throughput,
        target_ratio: 0.6,
      }),
    );
    if (concurrency === 1) {
      // Target: p99 at most 1.5x the echo's, i.e. ratio (echo / value) at least 1/1.5.
      for (const [store, r] of [
        ["memory", mem],
        ["redis", red],
      ] as const) {
        results.push(
          result({
            case: `lookup hit, ${store}, c=1`,
            metric: "p99 latency",
            unit: "ms",
            value: r.p99Ms,
            baseline,
            baseline_value: base.p99Ms,
            target_ratio: Number((1 / 1.5).toFixed(3)),
            lowerIsBetter: true,
          }),
        );
      }
    }
  }
  results.push(await lookupManyAgainstMget(onRedis.client, redis.url));

  echo.close();
  memory.client.close();
  onRedis.client.close();
  await Promise.all([echoServer.close(), memory.host.shutdown(), onRedis.host.shutdown()]);
  await redis.stop();
  return newReport("cache", results);
}

/** LookupMany of 100 keys through the cache, against MGET of the same 100 entries straight from Redis. */
async function lookupManyAgainstMget(
  client: cacheV1.CacheServiceClient,
  redisUrl: string,
): Promise<BenchResult> {
  const batch = 100;
  const direct = new Redis(redisUrl);
  const physical = (i: number) => `${REDIS_PREFIX}{${TENANT}}/${TYPE}/ad-${i}`;
  const probe = await direct.mgetBuffer(physical(0), physical(1));
  if (probe.some((v) => v === null))
    throw new Error("benchmark's physical key layout does not match the store's");
  let offset = 0;
  const keysOf = () => {
    const start = (offset += batch) % (KEYS - batch);
    return Array.from({ length: batch }, (_, j) => start + j);
  };
  const mget = await closedLoop(async () => {
    const values = await direct.mgetBuffer(...keysOf().map(physical));
    if (values.some((v) => v === null)) throw new Error("mget missed");
  }, loadOptions(16));
  const lookupMany = client.lookupMany.bind(client);
  const many = await closedLoop(async () => {
    const response = await callUnary(lookupMany, {
      keys: keysOf().map(entityKey),
      onMiss: cacheV1.OnMiss.ON_MISS_NONE,
      userId: "",
      rejectStale: false,
    });
    if (response.results.some((r) => !r.hit)) throw new Error("lookupMany missed");
  }, loadOptions(16));
  direct.disconnect();
  process.stdout.write(
    `  LookupMany(100) ${Math.round(many.throughput * batch)} keys/s; ioredis MGET(100) ${Math.round(mget.throughput * batch)} keys/s\n`,
  );
  return result({
    case: "LookupMany 100 keys, redis, c=16",
    metric: "throughput",
    unit: "keys/s",
    value: many.throughput * batch,
    baseline: "ioredis MGET of the same keys, c=16",
    baseline_value: mget.throughput * batch,
    target_ratio: 0.5,
  });
}
