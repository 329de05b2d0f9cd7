import { type AnalyzerRuntime, startAnalyzer } from "@prescient/analyzer";
import { analyzerV1 } from "@prescient/contracts";
import { clientChannelOptions, insecure, ServiceHost } from "@prescient/kit";
import { freePort, startRedisServer } from "@prescient/kit/testing";
import { Redis } from "ioredis";
import { ingestThroughService, messages, PER_MESSAGE } from "./analyzer.js";
import { CpuProbe, redisServerPid } from "./proc-cpu.js";
import { type BenchReport, type BenchResult, newReport, result } from "./report.js";

/**
 * Issue 15 item 3: what keeping analyzer replicas consistent costs, the two
 * ways the issue offers.
 *
 * - **Ring (built):** replicas own tenants and forward each message's other
 *   tenants' events to their owners (ring-router.ts). Two replicas, each fed
 *   half the messages as a load balancer would, against one analyzer fed all
 *   of them, in the same run: CPU µs per event summed over this process (both
 *   replicas and the client) and redis-server, and the forwarding overhead
 *   (the difference).
 * - **Shared store (not built), its floor:** the least the other way would
 *   add per event is one write to each piece of in-process state that a read
 *   changes: the user's last key (HSET), the user's relation to the entity
 *   (ZINCRBY), the fan-out learner's pending reads of the user (HSET), the
 *   key's sequential stream (HSET: the bench's entity ids end in digits) and
 *   the readahead queue (ZREM of the key read), pipelined per message. No
 *   reads, no decay, no logic (the learners would need Lua for that), so the
 *   real cost would be higher. If the ring's whole overhead is under this
 *   floor, the ring is the cheaper design; the HSET of the last key alone is
 *   printed too.
 *
 * Events: Zipf(1.1) keys over 12 tenants (BENCH_ANALYZER_EVENTS, default
 * 200,000), 500 per message. Both replicas run in this process; on separate
 * machines each would spend its share of the CPU.
 */
const TENANTS = Array.from({ length: 12 }, (_, i) => `tenant-${i}`);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? "3");

interface Replica {
  host: ServiceHost;
  runtime: AnalyzerRuntime;
  client: analyzerV1.AnalyzerServiceClient;
}

async function replica(redisUrl: string, keyPrefix: string, ring: boolean): Promise<Replica> {
  const port = await freePort();
  const host = new ServiceHost({ address: `127.0.0.1:${port}` });
  const runtime = await startAnalyzer(host, {
    store: { redisUrl, keyPrefix },
    retrainIntervalMs: 0,
    cleanupIntervalMs: 0,
    ...(ring ? { advertiseAddress: `127.0.0.1:${port}` } : {}),
  });
  await host.start();
  await runtime.ready;
  const client = new analyzerV1.AnalyzerServiceClient(host.address, insecure(), clientChannelOptions());
  return { host, runtime, client };
}

async function untilRing(replicas: readonly Replica[]): Promise<void> {
  const end = Date.now() + 15_000;
  while (!replicas.every((r) => r.runtime.ringMembers().length === replicas.length)) {
    if (Date.now() > end) throw new Error("the analyzer ring did not form");
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Figures {
  eventsPerSecond: number;
  cpuUsPerEvent: number;
}

/** Sends `batches` spread over the replicas (message i to replica i mod n), then flushes every replica. */
async function ingest(
  replicas: readonly Replica[],
  batches: analyzerV1.QueryEvent[][],
  pids: readonly number[],
  count: () => Promise<number>,
): Promise<Figures> {
  const before = await count();
  const probe = await CpuProbe.start(pids);
  const t0 = performance.now();
  await Promise.all(
    replicas.map((r, i) =>
      ingestThroughService(
        r.client,
        batches.filter((_, j) => j % replicas.length === i),
      ),
    ),
  );
  // A read writes out what a replica holds pre-aggregated.
  for (const r of replicas) await r.runtime.analyzer.topMembers("tenants", 1);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = await probe.stop();
  const events = batches.length * PER_MESSAGE;
  const stored = (await count()) - before;
  if (stored !== events) throw new Error(`the store counted ${stored} of ${events} events`);
  return { eventsPerSecond: events / seconds, cpuUsPerEvent: cpu.totalUs / events };
}

/**
 * The shared-store design's floor: a write per event to each piece of state a
 * read changes (`all`), or to the user's last key alone; a pipeline per message.
 */
async function sharedStateFloor(
  redis: Redis,
  batches: analyzerV1.QueryEvent[][],
  pids: readonly number[],
  all: boolean,
): Promise<Figures> {
  const probe = await CpuProbe.start(pids);
  const t0 = performance.now();
  for (const events of batches) {
    const pipeline = redis.pipeline();
    for (const e of events) {
      const key = `${e.tenant}/${e.taskType}/${e.entityId}`;
      const p = `bench:{floor-${e.tenant}}:`;
      pipeline.hset(`${p}last`, e.userId, key);
      if (!all) continue;
      pipeline.zincrby(`${p}rel:${e.userId}`, 1, e.entityId);
      pipeline.hset(`${p}pending`, e.userId, e.taskType);
      pipeline.hset(`${p}streams`, key.replace(/\d+$/, ""), key);
      pipeline.zrem(`${p}readahead`, key);
    }
    await pipeline.exec();
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = await probe.stop();
  const events = batches.length * PER_MESSAGE;
  return { eventsPerSecond: events / seconds, cpuUsPerEvent: cpu.totalUs / events };
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

export async function run(): Promise<BenchReport> {
  const server = await startRedisServer();
  const redis = new Redis(server.url);
  const replicas: Replica[] = [];
  try {
    const one = await replica(server.url, "one:{analyzer}:", false);
    const pair = [
      await replica(server.url, "ring:{analyzer}:", true),
      await replica(server.url, "ring:{analyzer}:", true),
    ];
    replicas.push(one, ...pair);
    await untilRing(pair);
    const pids = [process.pid, await redisServerPid(server.url)];
    const counter = (prefix: string) => async () =>
      Number((await redis.hget(`${prefix}meta`, "events")) ?? 0);
    const batches = messages(Date.now(), undefined, TENANTS);
    process.stdout.write(
      `analyzer replicas: ${batches.length * PER_MESSAGE} events over ${TENANTS.length} tenants, ${ROUNDS} rounds interleaved\n`,
    );
    const single: Figures[] = [];
    const ring: Figures[] = [];
    const floor: Figures[] = [];
    const lastKeyOnly: Figures[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      single.push(await ingest([one], batches, pids, counter("one:{analyzer}:")));
      ring.push(await ingest(pair, batches, pids, counter("ring:{analyzer}:")));
      floor.push(await sharedStateFloor(redis, batches, pids, true));
      lastKeyOnly.push(await sharedStateFloor(redis, batches, pids, false));
      const [s, r, f, l] = [single.at(-1)!, ring.at(-1)!, floor.at(-1)!, lastKeyOnly.at(-1)!];
      process.stdout.write(
        `  round ${round + 1}: one ${Math.round(s.eventsPerSecond)} events/s, ${s.cpuUsPerEvent.toFixed(1)} µs/event; ` +
          `ring of 2 ${Math.round(r.eventsPerSecond)} events/s, ${r.cpuUsPerEvent.toFixed(1)} µs/event; ` +
          `shared-state floor ${f.cpuUsPerEvent.toFixed(1)} µs/event (last key alone ${l.cpuUsPerEvent.toFixed(1)})\n`,
      );
    }
    const s = mean(single.map((x) => x.cpuUsPerEvent));
    const r = mean(ring.map((x) => x.cpuUsPerEvent));
    const f = mean(floor.map((x) => x.cpuUsPerEvent));
    const l = mean(lastKeyOnly.map((x) => x.cpuUsPerEvent));
    const owned = pair.map((p) => TENANTS.filter((t) => p.runtime.ownsTenant(t)).length);
    process.stdout.write(`  tenants per replica: ${owned.join(" / ")}\n`);
    const results: BenchResult[] = [
      result({
        case: "ingest, ring of 2 replicas (each fed half)",
        metric: "CPU per event, all processes",
        unit: "µs",
        value: r,
        baseline: "one analyzer fed everything",
        baseline_value: s,
        target_ratio: null,
        lowerIsBetter: true,
      }),
      result({
        case: "ingest, ring of 2 replicas (each fed half)",
        metric: "throughput, both in one process",
        unit: "events/s",
        value: mean(ring.map((x) => x.eventsPerSecond)),
        baseline: "one analyzer fed everything",
        baseline_value: mean(single.map((x) => x.eventsPerSecond)),
        target_ratio: null,
      }),
      result({
        case: "ring's forwarding overhead",
        metric: "CPU per event, all processes",
        unit: "µs",
        value: r - s,
        baseline: "shared-store floor: 5 state writes per event, pipelined",
        baseline_value: f,
        target_ratio: 1,
        lowerIsBetter: true,
      }),
      result({
        case: "ring's forwarding overhead",
        metric: "CPU per event, all processes",
        unit: "µs",
        value: r - s,
        baseline: "the user's last key alone in Redis: one HSET per event",
        baseline_value: l,
        target_ratio: null,
        lowerIsBetter: true,
      }),
    ];
    return newReport("analyzer-replicas", results);
  } finally {
    for (const x of replicas) {
      x.client.close();
      await x.host.shutdown();
    }
    redis.disconnect();
    await server.stop();
  }
}
