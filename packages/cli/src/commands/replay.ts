import { writeFileSync } from "node:fs";
import { defaultTaskTypesPath, InvalidArgumentError, loadTaskTypes } from "@prescient/core";
import {
  liveReplay,
  openTrace,
  type PolicyName,
  policyNames,
  type ReplayOptions,
  renderHtml,
  renderTable,
  replay,
  type TraceFormat,
  traceFormats,
} from "@prescient/evaluator";
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { parsePositiveNumber, runClient } from "../client-command.js";

interface ReplayFlags {
  policy?: string[];
  budget?: number;
  ttl?: string[];
  latency?: string[];
  json: boolean;
  html?: string;
  skipBad: boolean;
  format: string;
  ab?: string;
  split: string;
  config: string;
  live: boolean;
  addr: string;
  speed: number;
  progress: boolean;
}

const isPolicy = (p: string): p is PolicyName => (policyNames as readonly string[]).includes(p);

function policy(p: string): PolicyName {
  if (!isPolicy(p))
    throw new InvalidArgumentError(`unknown policy ${JSON.stringify(p)}; known: ${policyNames.join(", ")}`);
  return p;
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
  program
    .command("replay")
    .description("replay an access trace under a virtual clock and compare precomputation policies")
    .argument("<trace>", "trace file (generic CSV, CacheLib, libCacheSim CSV, plain ids or ARC)")
    .option("--policy <p...>", `policies to compare (${policyNames.join(", ")}); default all`)
    .option(
      "--budget <tasks/s>",
      "ahead-of-time computes per second (default: a quarter of the mean read rate)",
      parsePositiveNumber,
    )
    .option("--ttl <type=s...>", "TTL in seconds per task type; type 'default' for unconfigured types")
    .option("--latency <type=ms...>", "simulated compute latency per task type; 'default' for the rest")
    .option("--json", "print the report as JSON", false)
    .option("--html <file>", "write a self-contained HTML report")
    .option("--skip-bad", "skip malformed lines (counted) instead of stopping at the first", false)
    .option("--format <format>", `trace format (${traceFormats.join(", ")})`, "auto")
    .option("--ab <p1,p2>", "A/B mode: two policies on a deterministic hash split")
    .option("--split <key|user>", "what the A/B split hashes", "key")
    .option("--config <file>", "task types (TTL, stale grace)", defaultTaskTypesPath)
    .option("--live", "drive a running mesh with the trace, then compare with the simulation", false)
    .option("--addr <host:port>", "the mesh, for --live", "127.0.0.1:50051")
    .option("--speed <factor>", "--live: time compression factor", parsePositiveNumber, 60)
    .option("--no-progress", "no progress bar")
    .action(async (path: string, flags: ReplayFlags) =>
      runClient(async () => {
        if (!(traceFormats as readonly string[]).includes(flags.format))
          throw new InvalidArgumentError(`--format must be one of ${traceFormats.join(", ")}`);
        if (flags.split !== "key" && flags.split !== "user")
          throw new InvalidArgumentError("--split must be key or user");
        const ab = flags.ab?.split(",").map((p) => policy(p.trim()));
        if (ab !== undefined && ab.length !== 2)
          throw new InvalidArgumentError("--ab takes exactly two policies: p1,p2");
        const ttl = parseTypeValues(flags.ttl, "--ttl");
        const latency = parseTypeValues(flags.latency, "--latency");
        const source = await openTrace(path, { format: flags.format as TraceFormat, skipBad: flags.skipBad });
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
          budgetPerSecond: flags.budget,
          ttlSeconds: ttl,
          latencyMs: latency,
          taskTypes: loadTaskTypes(flags.config),
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
        if (flags.live) {
          const live = await liveReplay(source, report, { addr: flags.addr, speed: flags.speed });
          process.stdout.write(
            flags.json
              ? `${JSON.stringify({ report, live }, null, 2)}\n`
              : `${renderTable(report)}\n${live.text}`,
          );
        } else
          process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderTable(report));
        if (flags.html !== undefined) {
          writeFileSync(flags.html, renderHtml(report));
          process.stderr.write(`wrote ${flags.html}\n`);
        }
      }),
    );
}
