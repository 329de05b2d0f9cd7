import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { checkHealth, waitForServing } from "@prescient/kit";
import { freePort } from "@prescient/kit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RawClient } from "./raw-client.js";
import { regressionCases } from "./regressions.js";
import { formatReport, fuzzRpc, fuzzTargets, loadRegistry, type RpcReport, seedOf } from "./rpc-fuzz.js";
import { exampleModels } from "./valid-hints.js";

/**
 * Property-based fuzzing of every unary and client-streaming RPC of a real
 * `prescient up`, from the descriptor set. CI runs FUZZ_RUNS (default 1,000)
 * cases per RPC with a fixed seed; `npm run fuzz` runs 10,000 with a fresh
 * one. A failure is an INTERNAL or UNKNOWN status, no answer within the
 * deadline, or the process dying or turning unhealthy. The report names
 * the base seed: FUZZ_SEED=<it> replays a run, FUZZ_ONLY=<regex> narrows it
 * to some RPCs, FUZZ_VERBOSE=1 lists why "valid" requests were refused.
 */
const runs = Number(process.env.FUZZ_RUNS ?? 1_000);
const seed = process.env.FUZZ_SEED === "random" ? Date.now() % 2 ** 31 : Number(process.env.FUZZ_SEED ?? 13);
/** Generous: every fuzzed request is small work that answers in milliseconds. */
const deadlineMs = 5_000;

const cli = fileURLToPath(new URL("../../packages/cli/dist/main.js", import.meta.url));
const registry = loadRegistry();
/** FUZZ_ONLY: a regular expression on the method path, to fuzz some RPCs only. */
const only = new RegExp(process.env.FUZZ_ONLY ?? "");
const targets = fuzzTargets(registry).filter((t) => only.test(t.path));
const regressions = regressionCases(registry);
let mesh: ChildProcess;
let addr: string;
let client: RawClient;
/** The mesh's last log lines, shown with a failure. */
const logTail: string[] = [];

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (npm test does)`);
  const port = await freePort();
  addr = `127.0.0.1:${port}`;
  mesh = spawn("node", [cli, "up", "--port", String(port)], {
    env: { ...process.env, LOG_LEVEL: "error", REDIS_URL: "" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  mesh.stderr?.on("data", (c: Buffer) => {
    logTail.push(...c.toString().split("\n").filter(Boolean));
    logTail.splice(0, Math.max(0, logTail.length - 40));
  });
  await waitForServing(addr, "", 60_000);
  client = new RawClient(addr);
}, 60_000);

afterAll(async () => {
  client?.close();
  if (mesh && mesh.exitCode === null) {
    const exited = new Promise((resolve) => mesh.once("exit", resolve));
    mesh.kill("SIGTERM");
    await exited;
  }
});

async function loadExampleModels(): Promise<string[]> {
  const load = registry.getMessage("prescient.predictor.v1.LoadModelRequest")!;
  const problems: string[] = [];
  for (const name of exampleModels) {
    const o = await client.unary(
      "/prescient.predictor.v1.ModelRepositoryService/LoadModel",
      toBinary(load, create(load, { name })),
      deadlineMs,
    );
    if (o.code !== status.OK) problems.push(`loading ${name}: ${status[o.code]} ${o.details}`);
  }
  return problems;
}

/**
 * The process is up and every service it registered reports SERVING. The
 * predictor is NOT_SERVING on purpose once a fuzzed UnloadModel removed a
 * configured model: loading them again must bring it back.
 */
async function healthProblem(): Promise<string | undefined> {
  const exited = () => mesh.exitCode !== null || mesh.signalCode !== null;
  if (exited()) return `process exited (${mesh.exitCode ?? mesh.signalCode})`;
  if ((await checkHealth(addr, "", 5_000)) === "SERVING") return undefined;
  const reload = await loadExampleModels();
  const overall = await checkHealth(addr, "", 5_000);
  if (overall === "SERVING") return undefined;
  return exited()
    ? "process exited"
    : `health is ${overall} even with the models loaded again ${reload.join("; ")}`;
}

describe("fuzzing every RPC of prescient up from its descriptors", () => {
  it(
    `answers ${runs} generated requests per RPC with no INTERNAL, hang or crash (seed ${seed})`,
    async () => {
      if (!process.env.FUZZ_ONLY) expect(targets.length).toBeGreaterThan(40);
      const reports: RpcReport[] = [];
      const failures: string[] = [];
      for (const target of targets) {
        const report = await fuzzRpc(client, target, {
          numRuns: runs,
          seed: seedOf(seed, target.path),
          deadlineMs,
          examples: regressions[target.path] ?? [],
        });
        reports.push(report);
        // Long runs take many minutes: show each RPC as it finishes.
        if (runs > 1_000) process.stderr.write(`${formatReport([report]).split("\n")[0]}\n`);
        if (report.failure) failures.push(report.failure);
        const problem = await healthProblem();
        if (problem) {
          failures.push(`after ${target.path}: ${problem}\n${logTail.join("\n")}`);
          break;
        }
      }
      console.log(
        `fuzz seed ${seed}, ${runs} runs per RPC\n${formatReport(reports, process.env.FUZZ_VERBOSE === "1")}`,
      );

      // Unloading models is fuzzed on purpose: the mesh must be able to load them again.
      failures.push(...(await loadExampleModels()));
      expect(failures).toEqual([]);
    },
    // About 2 ms a call on 2 cores, and room for the deadline of a hang.
    60_000 + runs * targets.length * 10,
  );
});
