import { credentials } from "@grpc/grpc-js";
import { openRedisAnalyzerStore, startAnalyzer } from "@prescient/analyzer";
import { analyzerV1 } from "@prescient/contracts";
import { clientChannelOptions, ServiceHost } from "@prescient/kit";
import { type RedisServerProcess, startRedisCluster, startRedisServer } from "@prescient/kit/testing";
import { Redis } from "ioredis";
import { pino } from "pino";
import { ingestThroughService, messages, PER_MESSAGE, ZIPF_S } from "./analyzer.js";
import { positiveFromEnv } from "./bench-env.js";
import {
  type ExecutorRig,
  type Measured,
  runWorkerPool,
  seedFeatures,
  startExecutorRig,
} from "./executor-e2e.js";
import { CpuProbe } from "./proc-cpu.js";
import { type BenchReport, type BenchResult, newReport, result } from "./report.js";

/**
 * Issue 15's "Throughput" target: the executor end to end and the analyzer's
 * ingest on a 3-master Redis Cluster (3 replicas) against one redis-server,
 * both on this machine, in one run.
 *
 * - executor: the executor bench's path (executor-e2e.ts: queue → WorkerPool
 *   → predictor → cache, predictor and cache on a worker thread), with the
 *   queue in 1 partition on the single node and 3 partitions (one hash tag
 *   per master) on the cluster.
 * - analyzer: RecordQueries streaming (analyzer.ts's Zipf(1.1) events,
 *   pre-aggregated, 1 s flush) into 1 store shard on the single node and 3
 *   shards on the cluster, timed until the store holds every event.
 *
 * Each case reports ops/s and CPU µs per op from /proc, summed over this
 * process and every redis-server involved (on the cluster all six: the
 * replicas' apply work is part of the cost). During the cluster runs it
 * reads the spread over the masters: keys (DBSIZE), commands (INFO stats
 * total_commands_processed deltas) and redis-server CPU.
 *
 * On one machine every process shares the same cores, so the cluster can
 * only show its cost (more processes, more connections, more replication),
 * never its gain. The single node has no replica, so the cluster's extra
 * redis-server CPU is replication (masters feeding it, replicas applying it)
 * as much as cluster mode. The gain with N machines is modelled (model())
 * from what was measured:
 *
 *   throughput_N = min(redis bound_N, node bound_N)
 *   redis bound_N = 1e6 / (redis µs per op on the masters × max share_N)
 *     the hottest master saturates one core (redis-server runs commands on
 *     one thread). max share_1 = 1 (the single node, its own µs per op);
 *     max share_3 = the hottest master's measured share of master CPU; for
 *     N > 3 the partitions (shards) are assumed raised to N, and the
 *     measured excess of the hottest master over the coolest, h, is treated
 *     as pinned to one hash tag (a tenant's entity and cache keys live on
 *     one slot; so do the cache's budget keys), the rest as spreading
 *     evenly: max share_N = h + (1 - h) / N.
 *   node bound_N = N × 1e6 / node µs per op: Node is stateless here (worker
 *     pools, analyzer replicas), one core of it per machine, scaling out
 *     perfectly.
 *
 * Further assumptions: each machine runs one master plus Node; replicas run
 * on cores of their own (their CPU is reported, not bounded); the network
 * costs what loopback does (it does not: a real network adds latency, which
 * the pipelined, batched clients hide only in part); the per-op costs are
 * those of N = 3 for every N > 1 (a client talks to more masters as N
 * grows, and each analyzer replica aggregates separately, so more replicas
 * write more per event: both only lower the real figure), taking the higher
 * of the single node's and the cluster's where the cluster's reads lower.
 *
 * BENCH_CLUSTER_TASKS (default 40,000) and BENCH_CLUSTER_EVENTS (default
 * 50,000) size the measured cases.
 */
const TASKS = positiveFromEnv("BENCH_CLUSTER_TASKS", 40_000);
const EVENTS = positiveFromEnv("BENCH_CLUSTER_EVENTS", 50_000);
const MASTERS = 3;
const MACHINES = [1, 3, 6, 12];
const quiet = pino({ level: "silent" });

const log = (line: string): void => {
  process.stdout.write(`redis-cluster: ${line}\n`);
};

/** One Redis deployment under test. */
interface Deployment {
  name: "single" | "cluster";
  url: string;
  /** Store partitions (queue) or shards (analyzer): one per master. */
  splits: number;
  masters: RedisServerProcess[];
  replicas: RedisServerProcess[];
}

const pidOf = (node: RedisServerProcess): number => node.process.pid ?? 0;
const allPids = (d: Deployment): number[] => [...d.masters, ...d.replicas].map(pidOf);

/** What a case measured: ops/s and CPU µs per op, by process. */
interface Figures {
  perSecond: number;
  cpuUs: number;
  nodeUs: number;
  /** All redis-server processes. */
  redisUs: number;
  /** Masters only (the single node is its own master). */
  masterUs: number;
  replicaUs: number;
  /** µs per op of each master, in `masters` order. */
  byMaster: number[];
}

function figures(d: Deployment, perSecond: number, nodeUs: number, redisByPid: Map<number, number>): Figures {
  const us = (n: RedisServerProcess): number => redisByPid.get(pidOf(n)) ?? 0;
  const byMaster = d.masters.map(us);
  const masterUs = byMaster.reduce((a, b) => a + b, 0);
  const replicaUs = d.replicas.map(us).reduce((a, b) => a + b, 0);
  return {
    perSecond,
    cpuUs: nodeUs + masterUs + replicaUs,
    nodeUs,
    redisUs: masterUs + replicaUs,
    masterUs,
    replicaUs,
    byMaster,
  };
}

/** total_commands_processed of each master. */
async function commandCounts(masters: readonly RedisServerProcess[]): Promise<number[]> {
  return Promise.all(
    masters.map((m) =>
      onNode(m, async (r) =>
        Number(/^total_commands_processed:(\d+)/m.exec(await r.info("stats"))?.[1] ?? 0),
      ),
    ),
  );
}

async function onNode<T>(node: RedisServerProcess, f: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(node.port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    return await f(r);
  } finally {
    r.disconnect();
  }
}

/** How a cluster case spread over the masters: shares of keys, commands and redis-server CPU. */
interface Spread {
  ports: number[];
  keys: number[];
  commands: number[];
  cpuUs: number[];
}

const shares = (xs: readonly number[]): number[] => {
  const total = xs.reduce((a, b) => a + b, 0);
  return xs.map((x) => (total > 0 ? x / total : 0));
};

async function spreadOf(d: Deployment, before: number[], f: Figures, ops: number): Promise<Spread> {
  const after = await commandCounts(d.masters);
  return {
    ports: d.masters.map((m) => m.port),
    keys: await Promise.all(d.masters.map((m) => onNode(m, (r) => r.dbsize()))),
    commands: after.map((a, i) => a - (before[i] ?? 0)),
    cpuUs: f.byMaster.map((us) => us * ops),
  };
}

function printSpread(workload: string, s: Spread, ops: number): void {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const [keys, commands, cpu] = [shares(s.keys), shares(s.commands), shares(s.cpuUs)];
  log(`${workload}: spread over the masters (even would be ${pct(1 / s.ports.length)} each)`);
  log("  master   keys (DBSIZE)     commands (per op)        redis CPU");
  s.ports.forEach((port, i) => {
    log(
      `  :${port}  ${String(s.keys[i]).padStart(7)} ${pct(keys[i] ?? 0).padStart(6)}  ` +
        `${String(s.commands[i]).padStart(8)} (${((s.commands[i] ?? 0) / ops).toFixed(3)}) ${pct(commands[i] ?? 0).padStart(6)}  ` +
        `${pct(cpu[i] ?? 0).padStart(6)}`,
    );
  });
}

interface ModelRow {
  machines: number;
  maxShare: number;
  redisBound: number;
  nodeBound: number;
  throughput: number;
  bound: "redis" | "node";
}

/** The N-machine model (see the comment at the top of this file). */
function model(single: Figures, cluster: Figures, spread: Spread): ModelRow[] {
  const cpu = shares(spread.cpuUs);
  const hottest = Math.max(...cpu);
  const pinned = Math.max(0, hottest - Math.min(...cpu));
  // A cluster costs no less per op than one node: a lower reading is noise, so the higher one counts.
  const clusterMasterUs = Math.max(single.masterUs, cluster.masterUs);
  const clusterNodeUs = Math.max(single.nodeUs, cluster.nodeUs);
  return MACHINES.map((n) => {
    const maxShare = n === 1 ? 1 : n === MASTERS ? hottest : pinned + (1 - pinned) / n;
    const redisBound = 1e6 / ((n === 1 ? single.masterUs : clusterMasterUs) * maxShare);
    const nodeBound = (n * 1e6) / (n === 1 ? single.nodeUs : clusterNodeUs);
    return {
      machines: n,
      maxShare,
      redisBound,
      nodeBound,
      throughput: Math.min(redisBound, nodeBound),
      bound: redisBound <= nodeBound ? "redis" : "node",
    };
  });
}

function printModel(
  workload: string,
  unit: string,
  rows: ModelRow[],
  single: Figures,
  cluster: Figures,
  commandsPerOp: string,
): void {
  const n0 = (x: number): string => Math.round(x).toLocaleString("en-US");
  const base = rows[0]?.throughput ?? 1;
  log(`${workload}: measured here (every process on the same cores, so this is the cluster's cost)`);
  log(
    `  single node ${n0(single.perSecond)} ${unit}/s; cluster ${n0(cluster.perSecond)} ${unit}/s ` +
      `= ${n0(cluster.perSecond / MASTERS)} per master; ` +
      `CPU µs per op: node ${single.nodeUs.toFixed(1)} → ${cluster.nodeUs.toFixed(1)}, ` +
      `masters ${single.masterUs.toFixed(1)} → ${cluster.masterUs.toFixed(1)}, replicas ${cluster.replicaUs.toFixed(1)}; ` +
      `Redis commands per op ${commandsPerOp}`,
  );
  log(
    `${workload}: model with N machines, each one master (one core) and one Node core; ` +
      "N > 3 assumes partitions/shards = N and the measured hot spot pinned to one master",
  );
  log("  N    max share  redis bound      node bound       modelled     gain  limited by");
  for (const r of rows)
    log(
      `  ${String(r.machines).padEnd(3)}  ${`${(r.maxShare * 100).toFixed(1)}%`.padStart(9)}  ` +
        `${n0(r.redisBound).padStart(11)}/s  ${n0(r.nodeBound).padStart(11)}/s  ${n0(r.throughput).padStart(9)}/s  ` +
        `${`${(r.throughput / base).toFixed(1)}x`.padStart(5)}  ${r.bound}`,
    );
}

/** The executor's path on one deployment; on the cluster, with the spread over the masters. */
async function executorCase(d: Deployment): Promise<{ figures: Figures; spread: Spread }> {
  const rig: ExecutorRig = await startExecutorRig({
    redisUrl: d.url,
    redisPids: allPids(d),
    servers: "thread",
    log,
  });
  try {
    log(`executor on the ${d.name}: storing features of ${TASKS} entities`);
    await seedFeatures(rig.entities, TASKS);
    const warm = Math.min(5_000, Math.max(500, Math.floor(TASKS / 20)));
    await runWorkerPool(rig, warm, "bench:warm", { partitions: d.splits });
    log(`executor on the ${d.name}: ${TASKS} tasks, queue in ${d.splits} partition(s)`);
    let before: number[] = [];
    const measured: Measured = await runWorkerPool(rig, TASKS, "bench:q", {
      partitions: d.splits,
      beforeWork: async () => {
        before = await commandCounts(d.masters);
      },
    });
    const f = figures(d, measured.perSecond, measured.nodeCpuUs, measured.redisByPid);
    const spread = await spreadOf(d, before, f, TASKS);
    return { figures: f, spread };
  } finally {
    await rig.close();
  }
}

/** RecordQueries into the analyzer on one deployment, timed until the store holds every event. */
async function analyzerCase(d: Deployment): Promise<{ figures: Figures; spread: Spread }> {
  const host = new ServiceHost({ address: "127.0.0.1:0", logger: quiet });
  const prefix = "bench:{analyzer}:";
  const store = { redisUrl: d.url, keyPrefix: prefix };
  const runtime = await startAnalyzer(host, {
    store,
    storeShards: d.splits,
    retrainIntervalMs: 0,
    cleanupIntervalMs: 0,
    logger: quiet,
  });
  await host.start();
  await runtime.ready;
  const client = new analyzerV1.AnalyzerServiceClient(
    host.address,
    credentials.createInsecure(),
    clientChannelOptions(),
  );
  // A second view of the same store, to count what it holds.
  const check = openRedisAnalyzerStore({ ...store, shards: d.splits }).store;
  const stored = async (): Promise<number> => (await check.profile()).value.events;
  try {
    const batches = messages(Date.now(), EVENTS);
    log(`analyzer on the ${d.name}: ${EVENTS} Zipf(${ZIPF_S}) events, ${d.splits} store shard(s)`);
    await ingestThroughService(client, batches.slice(0, 40));
    await runtime.analyzer.topMembers("tenants", 1);
    const already = await stored();
    const before = await commandCounts(d.masters);
    const probe = await CpuProbe.start([process.pid, ...allPids(d)]);
    const t0 = performance.now();
    await ingestThroughService(client, batches);
    await runtime.analyzer.topMembers("tenants", 1);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = await probe.stop();
    const events = batches.length * PER_MESSAGE;
    const counted = (await stored()) - already;
    if (counted !== events)
      throw new Error(`analyzer on the ${d.name}: stored ${counted} of ${events} events`);
    const perPid = new Map([...cpu.byPid].map(([pid, us]) => [pid, us / events]));
    const f = figures(d, events / seconds, perPid.get(process.pid) ?? 0, perPid);
    log(
      `  ${events} in ${seconds.toFixed(2)} s = ${Math.round(f.perSecond)} events/s, CPU per event ` +
        `${f.cpuUs.toFixed(1)} us (node ${f.nodeUs.toFixed(1)}, redis-server ${f.redisUs.toFixed(1)})`,
    );
    const spread = await spreadOf(d, before, f, events);
    return { figures: f, spread };
  } finally {
    client.close();
    await check.close();
    await host.shutdown();
  }
}

/** Drops every key (on a cluster, master by master), so each workload's DBSIZE is its own. */
async function flush(d: Deployment): Promise<void> {
  await Promise.all(d.masters.map((m) => onNode(m, (r) => r.flushall())));
}

function results(
  workload: string,
  unit: string,
  single: Figures,
  cluster: Figures,
  spread: Spread,
  rows: ModelRow[],
): BenchResult[] {
  const baseline = "single redis-server, 1 partition/shard, same run";
  const per = unit.replace(/s$/, "");
  const out: BenchResult[] = [
    result({
      case: workload,
      metric: "throughput, 3-master cluster (3 partitions/shards)",
      unit: `${unit}/s`,
      value: cluster.perSecond,
      baseline,
      baseline_value: single.perSecond,
      target_ratio: null,
    }),
  ];
  for (const [metric, key] of [
    [`CPU per ${per}, every process (node + all redis-servers)`, "cpuUs"],
    [`node CPU per ${per}`, "nodeUs"],
    [`redis-server CPU per ${per} (masters and replicas)`, "redisUs"],
  ] as const)
    out.push(
      result({
        case: workload,
        metric,
        unit: "us",
        value: cluster[key],
        baseline,
        baseline_value: single[key],
        target_ratio: null,
        lowerIsBetter: true,
      }),
    );
  for (const [what, xs] of [
    ["keys", spread.keys],
    ["commands", spread.commands],
    ["redis CPU", spread.cpuUs],
  ] as const)
    out.push(
      result({
        case: `${workload}: spread over 3 masters`,
        metric: `hottest master's share of ${what}`,
        unit: "%",
        value: Math.max(...shares(xs)) * 100,
        baseline: "even split",
        baseline_value: 100 / MASTERS,
        target_ratio: null,
        lowerIsBetter: true,
      }),
    );
  const one = rows[0]?.throughput ?? 0;
  for (const r of rows)
    out.push(
      result({
        case: `${workload}: model, ${r.machines} machine(s)`,
        metric: `modelled throughput (${r.bound}-bound, max share ${(r.maxShare * 100).toFixed(1)}%)`,
        unit: `${unit}/s`,
        value: r.throughput,
        baseline: "modelled 1 machine",
        baseline_value: one,
        target_ratio: null,
      }),
    );
  return out;
}

export async function run(): Promise<BenchReport> {
  log("starting one redis-server and a 3-master cluster (3 replicas)");
  const [server, cluster] = await Promise.all([
    startRedisServer(),
    startRedisCluster({ masters: MASTERS, replicasPerMaster: 1 }),
  ]);
  try {
    const roles = await Promise.all(
      cluster.nodes.map((n) => onNode(n, async (r) => /^role:(\w+)/m.exec(await r.info("replication"))?.[1])),
    );
    const single: Deployment = {
      name: "single",
      url: server.url,
      splits: 1,
      masters: [server],
      replicas: [],
    };
    const clustered: Deployment = {
      name: "cluster",
      url: cluster.url,
      splits: MASTERS,
      masters: cluster.nodes.filter((_, i) => roles[i] === "master"),
      replicas: cluster.nodes.filter((_, i) => roles[i] !== "master"),
    };
    if (clustered.masters.length !== MASTERS) throw new Error(`expected ${MASTERS} masters, found ${roles}`);

    const exSingle = await executorCase(single);
    const exCluster = await executorCase(clustered);
    await Promise.all([flush(single), flush(clustered)]);
    const anSingle = await analyzerCase(single);
    const anCluster = await analyzerCase(clustered);

    const out: BenchResult[] = [];
    for (const [workload, unit, s, c, ops] of [
      [`executor e2e, ${TASKS} ctr tasks`, "tasks", exSingle, exCluster, TASKS],
      [`analyzer ingest, ${EVENTS} events`, "events", anSingle, anCluster, EVENTS],
    ] as const) {
      const spread = c.spread;
      process.stdout.write("\n");
      printSpread(workload, spread, ops);
      const rows = model(s.figures, c.figures, spread);
      const commands = (x: Spread): string => (x.commands.reduce((a, b) => a + b, 0) / ops).toFixed(2);
      printModel(workload, unit, rows, s.figures, c.figures, `${commands(s.spread)} → ${commands(spread)}`);
      out.push(...results(workload, unit, s.figures, c.figures, spread, rows));
    }
    return newReport("redis-cluster", out);
  } finally {
    await server.stop();
    await cluster.stop();
  }
}
