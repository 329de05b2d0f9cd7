import { writeFileSync } from "node:fs";
import { maxHalfLifeS } from "@prescient/analyzer";
import {
  defaultTaskTypesPath,
  InvalidArgumentError,
  loadTaskTypes,
  type TaskTypeRegistry,
} from "@prescient/core";
import {
  checkLiveAddress,
  type FeatureSampler,
  glossaryText,
  type LiveAddresses,
  type LiveConnection,
  type LiveOnMiss,
  type LiveResult,
  liveReplay,
  liveTypeMap,
  MappedTraceSource,
  meshBudgetPerTraceSecond,
  meshTimeScale,
  openTrace,
  type PolicyName,
  parseAddressList,
  policyNames,
  type ReplayOptions,
  type ReplayReport,
  renderHtml,
  renderLive,
  renderTable,
  replay,
  scaleMatches,
  scaleTaskTypes,
  syntheticFeatures,
  type TraceFormat,
  type TraceSource,
  timeScaleLine,
  traceFormats,
} from "@prescient/evaluator";
import { exampleSpecs, Rng } from "@prescient/predictor";
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import {
  type ClientTarget,
  clientCredentials,
  clientOptions,
  parsePositiveInt,
  parsePositiveNumber,
  runClient,
  withConnectionFlags,
} from "../client-command.js";

interface ReplayFlags extends Omit<ClientTarget, "addr"> {
  policy?: string[];
  keyHalfLife?: number;
  budget?: number;
  ttl?: string[];
  latency?: string[];
  json: boolean;
  html?: string;
  skipBad: boolean;
  format: string;
  blockPageSize: number;
  ab?: string;
  split: string;
  config: string;
  live: boolean;
  addr: string;
  /** Comma-separated replicas of a split mesh. */
  cacheAddr?: string;
  precomputerAddr?: string;
  executorAddr?: string;
  analyzerAddr?: string;
  speed: number;
  allowRemote: boolean;
  onMiss: string;
  concurrency: number;
  timeout: number;
  liveType?: string[];
  runTag?: string;
  progress: boolean;
}

const isPolicy = (p: string): p is PolicyName => (policyNames as readonly string[]).includes(p);

function policy(p: string): PolicyName {
  if (!isPolicy(p))
    throw new InvalidArgumentError(`unknown policy ${JSON.stringify(p)}; known: ${policyNames.join(", ")}`);
  return p;
}

/**
 * Plausible feature rows for the shipped example models: the distributions
 * the predictor's example specs train them on, drawn from a seed.
 */
export function exampleFeatureSamplers(): Map<string, FeatureSampler> {
  return new Map(
    exampleSpecs.map((spec) => [
      spec.model,
      { features: spec.features, sample: (seed: number) => spec.sample(new Rng(seed)) },
    ]),
  );
}

/** `from=to` task-type pairs (repeatable, or comma-separated). */
export function parseTypeMap(items: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of (items ?? []).flatMap((i) => i.split(","))) {
    const [from, to, extra] = item.split("=").map((x) => x.trim());
    if (!from || !to || extra !== undefined)
      throw new InvalidArgumentError(
        `--live-type ${JSON.stringify(item)}: expected trace_type=mesh_type (trace type "default" for all unknown types)`,
      );
    out[from] = to;
  }
  return out;
}

/** `type=value` pairs (repeatable, or comma-separated), values positive numbers. */
export function parseTypeValues(items: string[] | undefined, flag: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of (items ?? []).flatMap((i) => i.split(","))) {
    const [type, value, extra] = item.split("=");
    const v = Number(value);
    if (type === undefined || type === "" || extra !== undefined || !Number.isFinite(v) || v <= 0)
      throw new InvalidArgumentError(
        `${flag} ${JSON.stringify(item)}: expected type=positive number (type "default" for all others)`,
      );
    out[type] = v;
  }
  return out;
}

export function registerReplay(program: Command): void {
  const command = program
    .command("replay")
    .description("replay an access trace under a virtual clock and compare precomputation policies")
    .argument("<trace>", "trace file (generic CSV, CacheLib, libCacheSim CSV, plain ids or ARC)")
    .option("--policy <p...>", `policies to compare (${policyNames.join(", ")}); default all`)
    .option(
      "--budget <tasks/s>",
      "ahead-of-time computes per second (default: a quarter of the mean read rate; with --live, the mesh's own budget in trace time)",
      parsePositiveNumber,
    )
    .option("--ttl <type=s...>", "TTL in seconds per task type; type 'default' for unconfigured types")
    .option("--latency <type=ms...>", "simulated compute latency per task type; 'default' for the rest")
    .option("--json", "print the report as JSON", false)
    .option("--html <file>", "write a self-contained HTML report")
    .option("--skip-bad", "skip malformed lines (counted) instead of stopping at the first", false)
    .option("--format <format>", `trace format (${traceFormats.join(", ")})`, "auto")
    .option(
      "--block-page-size <bytes>",
      "block formats (cachelib-block, msr-cambridge, alibaba-block, tencent-cbs): the cache's page size; a read is of every page its byte range touches",
      parsePositiveInt,
      1024 * 1024,
    )
    .option("--ab <p1,p2>", "A/B mode: two policies on a deterministic hash split")
    .option("--split <key|user>", "what the A/B split hashes", "key")
    .option("--config <file>", "task types (TTL, stale grace)", defaultTaskTypesPath)
    .option("--live", "drive a running mesh with the trace, then compare with the simulation", false)
    .option("--addr <host:port>", "the mesh, for --live", "127.0.0.1:50051")
    .option(
      "--cache-addr <host:port,...>",
      "--live, a split mesh: the CacheService replicas, lookups spread over them in turn (default --addr)",
    )
    .option(
      "--precomputer-addr <host:port,...>",
      "--live, a split mesh: the PrecomputerService replicas, triggers spread over them in turn (default --addr)",
    )
    .option(
      "--executor-addr <host:port,...>",
      "--live, a split mesh: the ExecutorService replicas, for the queue's dead letters (default --addr)",
    )
    .option(
      "--analyzer-addr <host:port,...>",
      "--live, a split mesh: the AnalyzerService replicas, for the backends' actions and launch announcements (default --addr)",
    )
    .option(
      "--speed <factor>",
      "--live: time compression factor; start the mesh with `prescient up --time-scale <factor>` to match",
      parsePositiveNumber,
      60,
    )
    .option("--allow-remote", "--live: allow an --addr outside loopback", false)
    .option(
      "--on-miss <enqueue|none>",
      "--live: what a missed lookup asks of the mesh (enqueue: computed for later reads, as the simulation's cache-aside does)",
      "enqueue",
    )
    .option("--concurrency <n>", "--live: calls in flight at most", parsePositiveInt, 64)
    .option("--timeout <ms>", "--live: deadline of each call", parsePositiveInt, 5000)
    .option(
      "--live-type <trace=mesh...>",
      "--live: the mesh task type a trace type is replayed as ('default' for every type the mesh does not know)",
    )
    .option(
      "--run-tag <tag>",
      "--live: suffix every tenant with -<tag>, so a repeated run starts from a cold cache",
    )
    .option(
      "--key-half-life <seconds>",
      "prescient: the analyzer's key-demand half-life, as PRESCIENT_ANALYZER_KEY_HALF_LIFE_S sets it live (default: the analyzer's)",
      parsePositiveInt,
    )
    .option("--no-progress", "no progress bar");
  // --live against a mesh with TLS or auth on: the client commands' own flags and variables.
  withConnectionFlags(command)
    // The report's words, from the same text as the HTML report's glossary.
    .addHelpText(
      "after",
      () => `\nWhat the report means\n\n${glossaryText(Math.min(100, process.stdout.columns || 80))}`,
    )
    .action(async (path: string, flags: ReplayFlags) =>
      runClient(async () => {
        if (!(traceFormats as readonly string[]).includes(flags.format))
          throw new InvalidArgumentError(`--format must be one of ${traceFormats.join(", ")}`);
        if (flags.split !== "key" && flags.split !== "user")
          throw new InvalidArgumentError("--split must be key or user");
        const ab = flags.ab?.split(",").map((p) => policy(p.trim()));
        if (ab !== undefined && ab.length !== 2)
          throw new InvalidArgumentError("--ab takes exactly two policies: p1,p2");
        // The bound PRESCIENT_ANALYZER_KEY_HALF_LIFE_S has live.
        if (flags.keyHalfLife !== undefined && flags.keyHalfLife > maxHalfLifeS)
          throw new InvalidArgumentError(`--key-half-life must be at most ${maxHalfLifeS} seconds (a year)`);
        const ttl = parseTypeValues(flags.ttl, "--ttl");
        const latency = parseTypeValues(flags.latency, "--latency");
        const loaded = loadTaskTypes(flags.config);
        let source: TraceSource = await openTrace(path, {
          format: flags.format as TraceFormat,
          skipBad: flags.skipBad,
          blockPageBytes: flags.blockPageSize,
        });
        let taskTypes = loaded;
        let typeMap: ReturnType<typeof liveTypeMap> | undefined;
        let meshScale: number | undefined;
        let budgetPerSecond = flags.budget;
        const addrs = liveAddressesOfFlags(flags);
        if (flags.live) {
          checkLiveAddress(flags.addr, flags.allowRemote);
          for (const a of [...addrs.cache, ...addrs.precomputer, ...addrs.executor])
            checkLiveAddress(a, flags.allowRemote);
          if (flags.onMiss !== "enqueue" && flags.onMiss !== "none")
            throw new InvalidArgumentError("--on-miss must be enqueue or none");
          if (flags.ttl !== undefined)
            throw new InvalidArgumentError(
              "--ttl does not apply with --live: the mesh keeps results for the TTLs of its task-type configuration " +
                "(--config, the file `prescient up` loads), and the simulation uses those (times --speed over the mesh's --time-scale)",
            );
          if (ab !== undefined) throw new InvalidArgumentError("--ab and --live do not go together");
          // The simulation sees the trace as the mesh will: its types, and its TTLs in trace time,
          // which are the configured ones when the mesh lives as fast as the trace is played.
          typeMap = liveTypeMap(loaded, parseTypeMap(flags.liveType));
          source = new MappedTraceSource(source, typeMap.map);
          // Every replica runs the same configuration: the first precomputer's budget tells the scale.
          meshScale = await meshTimeScale(
            addrs.precomputer[0] ?? flags.addr,
            loaded,
            flags.timeout,
            connectionOfFlags(flags),
          );
          if (!scaleMatches(meshScale, flags.speed)) {
            process.stderr.write(`${timeScaleLine({ meshTimeScale: meshScale, speed: flags.speed })}\n`);
            taskTypes = scaleTaskTypes(loaded, flags.speed / (meshScale ?? 1));
          }
          // The simulation spends what the mesh may (a trace's default budget is far below a
          // configured one, and the two would not compare), unless --budget says otherwise.
          if (budgetPerSecond === undefined && meshScale !== undefined)
            budgetPerSecond = meshBudgetPerTraceSecond(loaded, meshScale, flags.speed);
        } else if (
          flags.liveType !== undefined ||
          flags.runTag !== undefined ||
          flags.allowRemote ||
          flags.cacheAddr !== undefined ||
          flags.precomputerAddr !== undefined ||
          flags.executorAddr !== undefined ||
          flags.analyzerAddr !== undefined
        )
          throw new InvalidArgumentError(
            "--live-type, --run-tag, --allow-remote and the --*-addr flags of a split mesh need --live",
          );
        const bar =
          flags.progress && process.stderr.isTTY
            ? new SingleBar({
                format: "replay [{bar}] {percentage}% {value}/{total} records {eta_formatted}",
                stream: process.stderr,
              })
            : undefined;
        let barStarted = false;
        const options: Partial<ReplayOptions> = {
          policies: (flags.policy ?? [...policyNames])
            .flatMap((p) => p.split(","))
            .map((p) => policy(p.trim())),
          budgetPerSecond,
          ttlSeconds: ttl,
          latencyMs: latency,
          taskTypes,
          ...(flags.keyHalfLife !== undefined
            ? { prescient: { analyzer: { keyHalfLifeMs: flags.keyHalfLife * 1000 } } }
            : {}),
          ...(ab !== undefined ? { ab: { policies: [ab[0]!, ab[1]!], split: flags.split } } : {}),
          onProgress: (done, total) => {
            if (bar === undefined) return;
            if (!barStarted) {
              bar.start(total, 0);
              barStarted = true;
            }
            bar.update(done);
          },
        };
        const report = await replay(source, options);
        bar?.stop();
        if (flags.live && typeMap !== undefined) {
          const live = await runLive(source, report, flags, addrs, typeMap, loaded, meshScale);
          process.stdout.write(
            flags.json
              ? `${JSON.stringify({ report, live }, null, 2)}\n`
              : `${renderTable(report)}\n${renderLive(live)}`,
          );
          // Interrupted: the report is printed, and the exit status says it is partial.
          if (live.aborted) process.exitCode = 130;
        } else
          process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderTable(report));
        if (flags.html !== undefined) {
          writeFileSync(flags.html, renderHtml(report));
          process.stderr.write(`wrote ${flags.html}\n`);
        }
      }),
    );
}

/** The live run, with a progress bar on stderr and Ctrl-C stopping it (a second Ctrl-C quits at once). */
async function runLive(
  source: TraceSource,
  report: ReplayReport,
  flags: ReplayFlags,
  addrs: LiveAddresses,
  typeMap: ReturnType<typeof liveTypeMap>,
  taskTypes: TaskTypeRegistry,
  meshScale: number | undefined,
): Promise<LiveResult> {
  const stop = new AbortController();
  const onSigint = (): void => {
    stop.abort();
    process.stderr.write("\nstopping: waiting for the calls in flight (Ctrl-C again quits at once)\n");
  };
  process.once("SIGINT", onSigint);
  const bar =
    flags.progress && process.stderr.isTTY
      ? new SingleBar({
          format: "live   [{bar}] {percentage}% {value}/{total} records, hit rate {hit} {eta_formatted}",
          stream: process.stderr,
        })
      : undefined;
  process.stderr.write(
    `live: replaying ${report.trace.records} records (${(
      (report.trace.endMs - report.trace.startMs) / 1000 / flags.speed
    ).toFixed(1)} s at ${flags.speed}x) against ${describeAddresses(flags.addr, addrs)}\n`,
  );
  bar?.start(report.trace.records, 0, { hit: "-" });
  try {
    return await liveReplay(source, report, {
      addr: flags.addr,
      addrs,
      connection: connectionOfFlags(flags),
      speed: flags.speed,
      onMiss: flags.onMiss as LiveOnMiss,
      concurrency: flags.concurrency,
      timeoutMs: flags.timeout,
      allowRemote: flags.allowRemote,
      mapType: typeMap.map,
      typeMap: typeMap.used,
      features: syntheticFeatures(taskTypes, exampleFeatureSamplers()),
      ...(meshScale !== undefined ? { meshTimeScale: meshScale } : {}),
      ...(flags.runTag !== undefined ? { runTag: flags.runTag } : {}),
      signal: stop.signal,
      onProgress: (p) => bar?.update(p.done, { hit: `${(p.hitRate * 100).toFixed(1)}%` }),
    });
  } finally {
    bar?.stop();
    process.off("SIGINT", onSigint);
  }
}

/** Each service's replicas: the --*-addr lists, else --addr. */
function liveAddressesOfFlags(flags: ReplayFlags): LiveAddresses {
  const given = (list: string | undefined, flag: string): string[] | undefined => {
    const parsed = parseAddressList(list);
    if (parsed !== undefined && parsed.length === 0)
      throw new InvalidArgumentError(`${flag} names no address`);
    return parsed;
  };
  return {
    cache: given(flags.cacheAddr, "--cache-addr") ?? [flags.addr],
    precomputer: given(flags.precomputerAddr, "--precomputer-addr") ?? [flags.addr],
    executor: given(flags.executorAddr, "--executor-addr") ?? [flags.addr],
    analyzer: given(flags.analyzerAddr, "--analyzer-addr") ?? [flags.addr],
  };
}

function describeAddresses(addr: string, addrs: LiveAddresses): string {
  const all = [...addrs.cache, ...addrs.precomputer, ...addrs.executor, ...addrs.analyzer];
  if (all.length === 4 && all.every((a) => a === addr)) return addr;
  return `${addrs.cache.length} cache, ${addrs.precomputer.length} precomputer, ${addrs.executor.length} executor and ${addrs.analyzer.length} analyzer replicas`;
}

/** The live client's TLS and token, from the same flags as every client command. */
function connectionOfFlags(flags: ReplayFlags): LiveConnection {
  return { credentials: clientCredentials(flags), channel: clientOptions(flags) };
}
