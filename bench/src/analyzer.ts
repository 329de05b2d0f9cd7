import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import {
  type AnalyzerRuntime,
  buildCounterDelta,
  decayRatesOf,
  type QueryEvent,
  resolveSettings,
  SequenceTracker,
  startAnalyzer,
  stepsOf,
} from "@prescient/analyzer";
import { analyzerV1 } from "@prescient/contracts";
import { defaultTaskTypesPath, loadTaskTypes } from "@prescient/core";
import { callUnary, clientChannelOptions, ServiceHost } from "@prescient/kit";
import { startRedisServer } from "@prescient/kit/testing";
import { parsePrecomputerConfig } from "@prescient/precomputer";
import { startPredictor } from "@prescient/predictor";
import { Redis } from "ioredis";
import { positiveFromEnv } from "./bench-env.js";
import { closedLoop, loadOptions } from "./load.js";
import { CpuProbe, type CpuUsage, redisServerPid } from "./proc-cpu.js";
import { type BenchReport, type BenchResult, newReport, result } from "./report.js";

/**
 * Issues 5 and 16's analyzer benchmark, on Zipf(1.1) keys.
 *
 * Ingestion: RecordQueries streaming into the Redis store, with the query
 * counters pre-aggregated in process for up to a second (the default),
 * against today's path in the same run: the same service with
 * `ingestFlushIntervalMs: 0`, one Lua call per gathered batch (the stream
 * keeps one store update in flight and gathers the messages that arrive
 * meanwhile). Each is timed until the store holds every event (a read
 * flushes), and costed in CPU µs per event summed over this process (client,
 * service) and redis-server, read from /proc. A raw ioredis pipeline that
 * writes each message's aggregated counters with plain commands (no gRPC,
 * no validation, no Lua, no bound on memory) is kept as issue 5's baseline.
 *
 * Serving: PredictNextActions latency at concurrency 1 and 64, answered by
 * the learned model through the predictor.
 *
 * As in the mesh, a precomputer takes each analyzer's readahead throughout:
 * TakeReadAhead once a second, as the shipped `readahead` schedule runs, with
 * the shipped limit and `predicted.min_confidence` as its floor.
 */
const EVENTS = positiveFromEnv("BENCH_ANALYZER_EVENTS", 200_000);
/** Zipf exponent of the key popularity. */
export const ZIPF_S = 1.1;
export const PER_MESSAGE = 500;
const KEYS = 50_000;
const TYPES = ["ctr_prediction", "roas_prediction", "video_analysis", "variant_scoring"];
const TENANTS = ["acme", "globex", "initech"];
const ACTIONS = ["login", "search", "view_campaign", "view_report", "edit_campaign", "export", "logout"];

function zipf(n: number, random: () => number): number {
  // Inverse CDF of a continuous power law x^-s over [1, n + 1), floored: Zipf(s) over n ranks.
  const a = 1 - ZIPF_S;
  const x = (1 + random() * ((n + 1) ** a - 1)) ** (1 / a);
  return Math.min(n - 1, Math.floor(x) - 1);
}

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `total` events (BENCH_ANALYZER_EVENTS by default) in messages of PER_MESSAGE, the same for every run. */
export function messages(
  now: number,
  total = EVENTS,
  tenants: readonly string[] = TENANTS,
): analyzerV1.QueryEvent[][] {
  const random = seeded(1);
  const out: analyzerV1.QueryEvent[][] = [];
  for (let m = 0; m < total / PER_MESSAGE; m++) {
    const events: analyzerV1.QueryEvent[] = [];
    for (let i = 0; i < PER_MESSAGE; i++) {
      const k = zipf(KEYS, random);
      const miss = random() < 0.3;
      events.push({
        time: new Date(now - 60_000 + Math.floor(((m * PER_MESSAGE + i) / total) * 60_000)),
        tenant: tenants[k % tenants.length]!,
        taskType: TYPES[k % TYPES.length]!,
        entityId: `entity-${k}`,
        key: "",
        userId: `user-${Math.floor(random() * 1000)}`,
        outcome: miss ? 3 : 1,
        computeMs: miss ? 5 + random() * 50 : 0,
        latencyMs: 1,
      });
    }
    out.push(events);
  }
  return out;
}

export async function ingestThroughService(
  client: analyzerV1.AnalyzerServiceClient,
  batches: analyzerV1.QueryEvent[][],
): Promise<void> {
  const response = await new Promise<analyzerV1.RecordQueriesResponse>((resolve, reject) => {
    const call = client.recordQueries((err, res) => (err ? reject(err) : resolve(res)));
    let i = 0;
    const pump = (): void => {
      while (i < batches.length) {
        if (!call.write({ events: batches[i++]! })) {
          call.once("drain", pump);
          return;
        }
      }
      call.end();
    };
    pump();
  });
  const sent = batches.length * PER_MESSAGE;
  if (Number(response.accepted) !== sent) throw new Error(`accepted ${response.accepted} of ${sent}`);
}

interface IngestFigures {
  eventsPerSecond: number;
  cpuUsPerEvent: number;
  redisUsPerEvent: number;
}

interface ReadAheadTaker {
  everyMs: number;
  limit: number;
  minConfidence: number;
}

let shippedTaker: ReadAheadTaker | undefined;

/** The shipped readahead schedule's period, limit and floor, as a mesh's precomputer takes readahead; read once. */
function readAheadTaker(): ReadAheadTaker {
  shippedTaker ??= shippedReadAheadTaker();
  return shippedTaker;
}

function shippedReadAheadTaker(): ReadAheadTaker {
  const types = loadTaskTypes(defaultTaskTypesPath);
  const config = parsePrecomputerConfig(types.raw, types);
  const schedule = [...config.schedules.values()].find((s) => s.job === "readahead");
  if (schedule === undefined || schedule.timing.kind !== "every")
    throw new Error("the shipped configuration has no periodic readahead schedule");
  return {
    everyMs: schedule.timing.everyMs,
    limit: schedule.limit,
    minConfidence: config.predicted.minConfidence,
  };
}

/** Takes the analyzer's readahead as the shipped schedule does: once now, then every period, until stopped. */
async function takeReadAheadMeanwhile(client: analyzerV1.AnalyzerServiceClient) {
  const taker = readAheadTaker();
  const take = () =>
    callUnary(client.takeReadAhead.bind(client), { limit: taker.limit, minConfidence: taker.minConfidence });
  await take();
  let takes: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    takes = takes.then(take);
  }, taker.everyMs);
  return { stop: () => clearInterval(timer), drained: () => takes };
}

/** One analyzer to stream into: its client, its store's key prefix, and how to wait until the store holds what it acknowledged. */
export interface IngestTarget {
  client: analyzerV1.AnalyzerServiceClient;
  prefix: string;
  /** Resolves once the store holds every acknowledged event (a read flushes any pre-aggregation). */
  flush(): Promise<unknown>;
}

/**
 * Streams the batches into one analyzer and waits until its store holds
 * them all, checking the count the store recorded, while readahead is taken
 * as the mesh's precomputer takes it; CPU is read over `pids`.
 */
export async function timedIngest(
  label: string,
  target: IngestTarget,
  batches: analyzerV1.QueryEvent[][],
  pids: readonly number[],
  redis: Redis,
): Promise<{ seconds: number; events: number; cpu: CpuUsage }> {
  const before = Number((await redis.hget(`${target.prefix}meta`, "events")) ?? 0);
  const taking = await takeReadAheadMeanwhile(target.client);
  const probe = await CpuProbe.start(pids);
  const t0 = performance.now();
  try {
    await ingestThroughService(target.client, batches);
    await target.flush();
  } finally {
    taking.stop();
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = await probe.stop();
  await taking.drained();
  const events = batches.length * PER_MESSAGE;
  const stored = Number((await redis.hget(`${target.prefix}meta`, "events")) ?? 0) - before;
  if (stored !== events) throw new Error(`${label}: the store counted ${stored} of ${events} events`);
  return { seconds, events, cpu };
}

/** timedIngest into an analyzer of this process; CPU is this process plus redis-server. */
async function measureIngest(
  label: string,
  target: { client: analyzerV1.AnalyzerServiceClient; runtime: AnalyzerRuntime; prefix: string },
  batches: analyzerV1.QueryEvent[][],
  pids: { redis: number },
  redis: Redis,
): Promise<IngestFigures> {
  const { seconds, events, cpu } = await timedIngest(
    label,
    { ...target, flush: () => target.runtime.analyzer.topMembers("tenants", 1) },
    batches,
    [process.pid, pids.redis],
    redis,
  );
  const figures = {
    eventsPerSecond: events / seconds,
    cpuUsPerEvent: cpu.totalUs / events,
    redisUsPerEvent: (cpu.byPid.get(pids.redis) ?? 0) / events,
  };
  process.stdout.write(
    `  ${label}: ${Math.round(figures.eventsPerSecond)} events/s, ${figures.cpuUsPerEvent.toFixed(2)} CPU µs/event ` +
      `(redis-server ${figures.redisUsPerEvent.toFixed(2)}), ${seconds.toFixed(2)} s\n`,
  );
  return figures;
}

/**
 * The same logical updates with plain commands: each message's events folded
 * by the analyzer's own aggregation (per key, entity, tenant, type, hour and
 * successor pair), then one ioredis pipeline per message of ZINCRBY and
 * HINCRBYFLOAT per aggregated member, with no gRPC, no validation, no Lua
 * and no Space-Saving bound (nothing is ever evicted). The floor of Redis cost.
 */
async function ingestRawPipeline(redis: Redis, batches: QueryEvent[][]) {
  const rates = decayRatesOf(resolveSettings());
  const sequences = new SequenceTracker(100_000, 30 * 60_000);
  const p = "bench:{raw}:";
  const t0 = performance.now();
  for (const events of batches) {
    const d = buildCounterDelta(events, rates, stepsOf(events, sequences));
    const pipeline = redis.pipeline();
    pipeline.hincrby(`${p}meta`, "events", d.events);
    for (const [k, v] of d.keys) {
      pipeline.zincrby(`${p}keys`, v.w, k);
      if (v.miss > 0) pipeline.hincrbyfloat(`${p}keymiss`, k, v.miss);
    }
    for (const [m, w] of d.entities) pipeline.zincrby(`${p}entities`, w, m);
    for (const [m, w] of d.tenants) pipeline.zincrby(`${p}tenants`, w, m);
    for (const [t, v] of d.types) {
      pipeline.zincrby(`${p}types`, v.w, t);
      const h = `${p}type:${t}`;
      for (const [f, x] of [
        ["w", v.w],
        ["hit", v.hit],
        ["stale", v.stale],
        ["miss", v.miss],
        ["cw", v.computeW],
        ["cs", v.computeSum],
      ] as const)
        if (x !== 0) pipeline.hincrbyfloat(h, f, x);
      for (const [b, w] of v.buckets) pipeline.hincrbyfloat(h, `b${b}`, w);
    }
    for (const [hour, w] of d.hours) pipeline.hincrbyfloat(`${p}hours`, String(hour), w);
    for (const [source, next] of d.successors) {
      let total = 0;
      for (const [k, w] of next) {
        total += w;
        pipeline.zincrby(`${p}succ:${source}`, w, k);
      }
      pipeline.zincrby(`${p}sources`, total, source);
    }
    await pipeline.exec();
  }
  return (batches.length * PER_MESSAGE) / ((performance.now() - t0) / 1000);
}

/** The bench's events as the analyzer's core sees them once validated (built outside the timing). */
function coreEvents(batches: analyzerV1.QueryEvent[][]): QueryEvent[][] {
  const outcomes: readonly QueryEvent["outcome"][] = ["unknown", "hit", "stale", "miss"];
  return batches.map((events) =>
    events.map((e) => ({
      time: e.time!.getTime(),
      key: `${e.tenant}/${e.taskType}/${e.entityId}`,
      tenant: e.tenant,
      taskType: e.taskType,
      entityId: e.entityId,
      entity: `${e.tenant}/${e.entityId}`,
      userId: e.userId,
      outcome: outcomes[e.outcome]!,
      computeMs: e.computeMs,
      latencyMs: e.latencyMs,
    })),
  );
}

function population(now: number): analyzerV1.ActionEvent[] {
  const random = seeded(2);
  const events: analyzerV1.ActionEvent[] = [];
  for (let u = 0; u < 400; u++) {
    let t = now - 5 * 86_400_000 + Math.floor(random() * 86_400_000);
    let last = "login";
    for (let i = 0; i < 30; i++) {
      events.push({
        time: new Date(t),
        tenant: "acme",
        userId: `user-${u}`,
        action: last,
        attributes: {},
        relatedEntityIds: [],
      });
      const favourite =
        ACTIONS[(ACTIONS.indexOf(last) * 3 + (new Date(t).getUTCHours() >> 2)) % ACTIONS.length]!;
      last = random() < 0.7 ? favourite : ACTIONS[Math.floor(random() * ACTIONS.length)]!;
      t += 60_000 + Math.floor(random() * 4 * 3_600_000);
    }
  }
  return events;
}

export async function run(): Promise<BenchReport> {
  const redisServer = await startRedisServer();
  const repository = await mkdtemp(join(tmpdir(), "bench-analyzer-models-"));
  const predictorHost = new ServiceHost({ address: "127.0.0.1:0" });
  const host = new ServiceHost({ address: "127.0.0.1:0" });
  const todayHost = new ServiceHost({ address: "127.0.0.1:0" });
  const redis = new Redis(redisServer.url);
  const results: BenchResult[] = [];
  try {
    const predictor = startPredictor(predictorHost, { repositoryPath: repository, pollIntervalMs: 1000 });
    await predictorHost.start();
    await predictor.ready;
    const common = {
      predictorAddress: predictorHost.address,
      modelRepositoryPath: repository,
      retrainIntervalMs: 0,
      cleanupIntervalMs: 0,
    };
    const prefix = "bench:{analyzer}:";
    const todayPrefix = "bench:{today}:";
    const runtime = await startAnalyzer(host, {
      ...common,
      store: { redisUrl: redisServer.url, keyPrefix: prefix },
    });
    // Today's path, as the baseline: each gathered batch written at once, no pre-aggregation.
    const today = await startAnalyzer(todayHost, {
      ...common,
      ingestFlushIntervalMs: 0,
      store: { redisUrl: redisServer.url, keyPrefix: todayPrefix },
    });
    await host.start();
    await todayHost.start();
    await Promise.all([runtime.ready, today.ready]);
    const client = new analyzerV1.AnalyzerServiceClient(
      host.address,
      credentials.createInsecure(),
      clientChannelOptions(),
    );
    const todayClient = new analyzerV1.AnalyzerServiceClient(
      todayHost.address,
      credentials.createInsecure(),
      clientChannelOptions(),
    );
    const pids = { redis: await redisServerPid(redisServer.url) };

    const batches = messages(Date.now());
    const aggregated = { client, runtime, prefix };
    const baseline = { client: todayClient, runtime: today, prefix: todayPrefix };
    process.stdout.write(
      `analyzer: ${EVENTS} Zipf(${ZIPF_S}) events through RecordQueries (Redis store)...\n`,
    );
    // Warm-up of both paths: connections, JIT, scripts.
    await measureIngest("warm-up, today's path", baseline, batches.slice(0, 40), pids, redis);
    await measureIngest("warm-up, pre-aggregated", aggregated, batches.slice(0, 40), pids, redis);
    const before = await measureIngest("today's path (no pre-aggregation)", baseline, batches, pids, redis);
    const after = await measureIngest("pre-aggregated, 1 s flush", aggregated, batches, pids, redis);
    process.stdout.write("analyzer: the same updates through a raw ioredis pipeline...\n");
    const plain = coreEvents(batches);
    await ingestRawPipeline(redis, plain.slice(0, 20));
    const raw = await ingestRawPipeline(redis, plain);
    const ingestCase = `RecordQueries streaming, Zipf(${ZIPF_S}), Redis store`;
    results.push(
      result({
        case: ingestCase,
        metric: "throughput",
        unit: "events/s",
        value: after.eventsPerSecond,
        baseline: "today's path in this run (ingestFlushIntervalMs 0)",
        baseline_value: before.eventsPerSecond,
        target_ratio: null,
      }),
      result({
        case: ingestCase,
        metric: "CPU per event (this process + redis-server)",
        unit: "µs",
        value: after.cpuUsPerEvent,
        baseline: "today's path in this run (ingestFlushIntervalMs 0)",
        baseline_value: before.cpuUsPerEvent,
        target_ratio: 2,
        lowerIsBetter: true,
      }),
      result({
        case: ingestCase,
        metric: "redis-server CPU per event",
        unit: "µs",
        value: after.redisUsPerEvent,
        baseline: "today's path in this run (ingestFlushIntervalMs 0)",
        baseline_value: before.redisUsPerEvent,
        target_ratio: null,
        lowerIsBetter: true,
      }),
      result({
        case: ingestCase,
        metric: "throughput vs the issue's target",
        unit: "events/s",
        value: after.eventsPerSecond,
        baseline: "issue 16 target",
        baseline_value: 100_000,
        target_ratio: 1,
      }),
      result({
        case: ingestCase,
        metric: "throughput",
        unit: "events/s",
        value: after.eventsPerSecond,
        baseline: "raw ioredis pipeline per message: same aggregated ZINCRBY/HINCRBYFLOAT, no Lua, no bound",
        baseline_value: raw,
        target_ratio: 0.5,
      }),
    );
    todayClient.close();

    process.stdout.write("analyzer: training the next-action model...\n");
    const actions = population(Date.now());
    for (let i = 0; i < actions.length; i += 1000)
      await callUnary(client.recordActions.bind(client), { events: actions.slice(i, i + 1000) });
    const trained = await callUnary(client.retrainNextAction.bind(client), {});
    if (!trained.promoted) throw new Error(`no model promoted: ${trained.explanation}`);
    let calls = 0;
    const predict = async (): Promise<void> => {
      const res = await callUnary(client.predictNextActions.bind(client), {
        tenant: "acme",
        userId: `user-${calls++ % 400}`,
        limit: 3,
      });
      if (res.source !== analyzerV1.PredictionSource.PREDICTION_SOURCE_MODEL)
        throw new Error(res.fallbackReason);
    };
    for (const concurrency of [1, 64]) {
      process.stdout.write(`analyzer: PredictNextActions at concurrency ${concurrency}...\n`);
      const load = await closedLoop(predict, loadOptions(concurrency));
      if (load.errors > 0)
        process.stdout.write(
          `  ${load.errors} of ${load.calls} calls failed (the first: ${load.firstError})\n`,
        );
      for (const [metric, value] of [
        ["p50 latency", load.p50Ms],
        ["p99 latency", load.p99Ms],
      ] as const)
        results.push(
          result({
            case: `PredictNextActions, concurrency ${concurrency} (${Math.round(load.throughput)} calls/s)`,
            metric,
            unit: "ms",
            value,
            baseline: "(none)",
            baseline_value: value,
            target_ratio: null,
            lowerIsBetter: true,
          }),
        );
    }
    client.close();
  } finally {
    await host.shutdown();
    await todayHost.shutdown();
    await predictorHost.shutdown();
    redis.disconnect();
    await redisServer.stop();
    await rm(repository, { recursive: true, force: true });
  }
  return newReport("analyzer", results);
}
