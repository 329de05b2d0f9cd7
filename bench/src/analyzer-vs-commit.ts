import { type ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { credentials } from "@grpc/grpc-js";
import { analyzerV1 } from "@prescient/contracts";
import { clientChannelOptions } from "@prescient/kit";
import { startRedisServer } from "@prescient/kit/testing";
import { Redis } from "ioredis";
import { ingestThroughService, messages, timedIngest, ZIPF_S } from "./analyzer.js";
import { positiveFromEnv } from "./bench-env.js";
import { redisServerPid } from "./proc-cpu.js";
import { type BenchReport, newReport, result } from "./report.js";

/**
 * Issue 16's "CPU per event at most half of today's", against the analyzer as
 * it was when the issue was filed rather than against today's code with one
 * option off (bench analyzer's baseline, which cannot credit what changed
 * in learning since). The baseline is a built checkout of an older commit,
 * BENCH_BASELINE_TREE (61480f5, the last commit before issue 16's work began):
 *
 *   git worktree add /tmp/prescient-61480f5 61480f5
 *   (cd /tmp/prescient-61480f5 && npm ci && npx tsc -b)
 *   BENCH_BASELINE_TREE=/tmp/prescient-61480f5 npm run bench -- analyzer-vs-commit
 *
 * Each analyzer runs in a child process of its own checkout
 * (analyzer-process.ts), both on one redis-server under their own prefixes,
 * and this process feeds each the same Zipf(1.1) RecordQueries stream as
 * bench analyzer does, with readahead taken as the shipped schedule takes it
 * (the same period and limit at both commits; the floor, which the older
 * analyzer does not read, as today's). Rounds alternate, baseline first,
 * then the reverse, so drift falls on both. A round ends when the analyzer's
 * store holds every event (checked against its count). CPU per event is
 * summed over the analyzer process, redis-server and this process (the load
 * generator), from /proc.
 *
 * BENCH_ANALYZER_EVENTS sets the events per round (default 200,000),
 * BENCH_ROUNDS the rounds of each (default 4).
 */
const EVENTS = positiveFromEnv("BENCH_ANALYZER_EVENTS", 200_000);
const ROUNDS = positiveFromEnv("BENCH_ROUNDS", 4);
const here = fileURLToPath(new URL(".", import.meta.url));
const thisCheckout = resolve(here, "../..");

interface Side {
  name: "baseline" | "today";
  child: ChildProcess;
  client: analyzerV1.AnalyzerServiceClient;
  prefix: string;
  rounds: Round[];
}

interface Round {
  seconds: number;
  /** CPU µs per event: the analyzer process, redis-server, this process. */
  analyzerUs: number;
  redisUs: number;
  loadUs: number;
}

function baselineTree(): string {
  const tree = process.env.BENCH_BASELINE_TREE;
  if (tree === undefined || tree === "")
    throw new Error(
      "BENCH_BASELINE_TREE must name a built checkout of the baseline commit, e.g.\n" +
        "  git worktree add /tmp/prescient-61480f5 61480f5\n" +
        "  (cd /tmp/prescient-61480f5 && npm ci && npx tsc -b)\n" +
        "  BENCH_BASELINE_TREE=/tmp/prescient-61480f5 npm run bench -- analyzer-vs-commit",
    );
  const path = resolve(tree);
  if (!existsSync(`${path}/services/analyzer/dist/index.js`))
    throw new Error(`BENCH_BASELINE_TREE: ${path} has no built analyzer (run npm ci && npx tsc -b there)`);
  return path;
}

async function startSide(name: Side["name"], checkout: string, redisUrl: string): Promise<Side> {
  const prefix = `bench:{${name}}:`;
  const child = fork(new URL("./analyzer-process.js", import.meta.url), [checkout, redisUrl, prefix], {
    // As npm start runs a service.
    execArgv: ["--max-semi-space-size=32"],
    env: { ...process.env, LOG_LEVEL: "warn" },
  });
  const address = await new Promise<string>((resolveAddress, reject) => {
    child.once("message", (m: { address: string }) => resolveAddress(m.address));
    child.once("exit", (code) => reject(new Error(`the ${name} analyzer exited (${code}) before serving`)));
  });
  const client = new analyzerV1.AnalyzerServiceClient(
    address,
    credentials.createInsecure(),
    clientChannelOptions(),
  );
  return { name, child, client, prefix, rounds: [] };
}

const flushed = (child: ChildProcess): Promise<void> =>
  new Promise((resolveFlush) => {
    child.once("message", () => resolveFlush());
    child.send("flush");
  });

async function measureRound(
  side: Side,
  batches: analyzerV1.QueryEvent[][],
  redis: Redis,
  redisPid: number,
): Promise<Round> {
  const pid = side.child.pid;
  if (pid === undefined) throw new Error(`the ${side.name} analyzer has no pid`);
  const { seconds, events, cpu } = await timedIngest(
    side.name,
    { client: side.client, prefix: side.prefix, flush: () => flushed(side.child) },
    batches,
    [pid, redisPid, process.pid],
    redis,
  );
  const round = {
    seconds,
    analyzerUs: (cpu.byPid.get(pid) ?? 0) / events,
    redisUs: (cpu.byPid.get(redisPid) ?? 0) / events,
    loadUs: (cpu.byPid.get(process.pid) ?? 0) / events,
  };
  process.stdout.write(
    `  ${side.name.padEnd(8)} ${Math.round(events / seconds)} events/s, CPU µs/event: analyzer ${round.analyzerUs.toFixed(2)} + ` +
      `redis-server ${round.redisUs.toFixed(2)} + load ${round.loadUs.toFixed(2)} = ` +
      `${(round.analyzerUs + round.redisUs + round.loadUs).toFixed(2)}\n`,
  );
  return round;
}

const mean = (rounds: Round[], f: (r: Round) => number): number =>
  rounds.reduce((a, r) => a + f(r), 0) / rounds.length;

export async function run(): Promise<BenchReport> {
  const baselineCheckout = baselineTree();
  const redisServer = await startRedisServer();
  const redis = new Redis(redisServer.url);
  const redisPid = await redisServerPid(redisServer.url);
  const sides: Side[] = [];
  try {
    sides.push(await startSide("baseline", baselineCheckout, redisServer.url));
    sides.push(await startSide("today", thisCheckout, redisServer.url));
    const batches = messages(Date.now(), EVENTS);
    process.stdout.write(
      `analyzer-vs-commit: ${EVENTS} Zipf(${ZIPF_S}) events per round, ${ROUNDS} rounds each; ` +
        `baseline ${baselineCheckout}, today ${thisCheckout}\n`,
    );
    // Warm-up of both: connections, JIT, scripts.
    for (const side of sides) await ingestThroughService(side.client, batches.slice(0, 40));
    for (let i = 0; i < ROUNDS; i++)
      for (const side of i % 2 === 0 ? sides : [...sides].reverse())
        side.rounds.push(await measureRound(side, batches, redis, redisPid));
  } finally {
    for (const side of sides) {
      side.client.close();
      const exited = new Promise((resolveExit) => side.child.once("exit", resolveExit));
      side.child.send("stop");
      await exited;
    }
    await redis.quit();
    await redisServer.stop();
  }
  const [baseline, today] = sides as [Side, Side];
  const events = EVENTS * ROUNDS;
  const rate = (s: Side) => events / s.rounds.reduce((a, r) => a + r.seconds, 0);
  const total = (r: Round) => r.analyzerUs + r.redisUs + r.loadUs;
  const serving = (r: Round) => r.analyzerUs + r.redisUs;
  const baselineLabel = `the analyzer at BENCH_BASELINE_TREE, same stream, alternate rounds`;
  const kase = `RecordQueries streaming, Zipf(${ZIPF_S}), Redis store, readahead taken, ${ROUNDS}x${EVENTS} events`;
  return newReport("analyzer-vs-commit", [
    result({
      case: kase,
      metric: "throughput",
      unit: "events/s",
      value: rate(today),
      baseline: baselineLabel,
      baseline_value: rate(baseline),
      target_ratio: null,
    }),
    result({
      case: kase,
      metric: "CPU per event (analyzer + redis-server + load generator)",
      unit: "us",
      value: mean(today.rounds, total),
      baseline: baselineLabel,
      baseline_value: mean(baseline.rounds, total),
      target_ratio: 2,
      lowerIsBetter: true,
    }),
    result({
      case: kase,
      metric: "CPU per event (analyzer + redis-server)",
      unit: "us",
      value: mean(today.rounds, serving),
      baseline: baselineLabel,
      baseline_value: mean(baseline.rounds, serving),
      target_ratio: null,
      lowerIsBetter: true,
    }),
  ]);
}
