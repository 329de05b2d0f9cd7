import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { credentials } from "@grpc/grpc-js";
import { analyzerV1, precomputerV1 } from "@prescient/contracts";
import { callUnary, checkHealth, waitForServing } from "@prescient/kit";
import { freePort } from "@prescient/kit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ctrFeatures } from "./ctr-features.test-util.js";

/**
 * Boots `prescient up` as a child process, exactly as `npm start` does, and
 * drives it through the CLI. Needs the build (`npm test` runs it first).
 */
const cli = fileURLToPath(new URL("../../packages/cli/dist/main.js", import.meta.url));
let mesh: ChildProcess;
let addr: string;
let meshOutput = "";
/** The mesh's own temp folder: what it leaves there after its drain is a leak. */
const meshTmp = mkdtempSync(join(tmpdir(), "prescient-cli-up-"));

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function prescient(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile("node", [cli, ...args, "--addr", addr], { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (npm test does)`);
  const port = await freePort();
  addr = `127.0.0.1:${port}`;
  mesh = spawn("node", [cli, "up", "--port", String(port)], {
    env: { ...process.env, LOG_LEVEL: "info", REDIS_URL: "", TMPDIR: meshTmp },
    stdio: ["ignore", "pipe", "pipe"],
  });
  mesh.stdout?.on("data", (c: Buffer) => {
    meshOutput += c.toString();
  });
  mesh.stderr?.on("data", (c: Buffer) => {
    meshOutput += c.toString();
  });
  // The process as a whole serves once every service it implements does.
  await waitForServing(addr, "", 60_000);
}, 60_000);

afterAll(async () => {
  if (mesh && mesh.exitCode === null) {
    const exited = new Promise((resolve) => mesh.once("exit", resolve));
    mesh.kill("SIGTERM");
    await exited;
  }
  rmSync(meshTmp, { recursive: true, force: true });
});

describe("prescient up, driven by the CLI", () => {
  it("puts, looks up, invalidates and counts", async () => {
    const put = await prescient(
      "put",
      "acme/ctr_prediction/ad-42",
      "--json",
      '{"probability":0.031}',
      "--tag",
      "spring",
    );
    expect(put.stderr).toBe("");
    expect(JSON.parse(put.stdout)).toMatchObject({ key: "acme/ctr_prediction/ad-42" });

    const hit = JSON.parse((await prescient("lookup", "acme/ctr_prediction/ad-42", "--json")).stdout);
    expect(hit).toMatchObject({ hit: true, stale: false, value: { probability: 0.031 } });
    // CTR results live 6 h by the shipped task-type configuration.
    const ttlMs = Date.parse(hit.expires_at) - Date.parse(hit.computed_at);
    expect(ttlMs).toBe(6 * 3600 * 1000);

    const human = await prescient("lookup", "acme/ctr_prediction/ad-42");
    expect(human.stdout).toMatch(/hit\s+true/);

    const removed = JSON.parse((await prescient("invalidate", "acme/ctr_prediction/ad-*", "--json")).stdout);
    expect(removed).toEqual({ removed: 1 });

    const miss = JSON.parse((await prescient("lookup", "acme/ctr_prediction/ad-42", "--json")).stdout);
    expect(miss).toMatchObject({ hit: false });

    const stats = JSON.parse((await prescient("stats", "--json")).stdout);
    expect(stats.total.hits).toBeGreaterThanOrEqual(2);
    expect(stats.total.misses).toBeGreaterThanOrEqual(1);
    expect(stats.by_task_type.map((g: { name: string }) => g.name)).toContain("ctr_prediction");
  });

  it("leaves a key a client put, still read after it expired, to the client: no task, no dead letter", async () => {
    const key = "acme/ctr_prediction/put-only";
    expect((await prescient("put", key, "--json", '{"probability":0.02}', "--ttl", "1")).code).toBe(0);
    for (let i = 0; i < 3; i++) expect((await prescient("lookup", key)).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1_200));
    // Hot and expired: due for refresh-ahead, but the executor has no features to compute it from
    // (it was put, never computed), so a task could only be dead-lettered.
    const run = JSON.parse((await prescient("schedule", "run", "refresh_ahead", "--json")).stdout);
    expect(run).toMatchObject({ status: "succeeded" });
    const precomputer = new precomputerV1.PrecomputerServiceClient(addr, credentials.createInsecure());
    const stats = await callUnary(precomputer.stats.bind(precomputer), {});
    precomputer.close();
    const noFeatures = stats.skippedByReason.find((r) => r.name === "no_features");
    expect(Number(noFeatures?.count ?? 0)).toBeGreaterThanOrEqual(1);
    expect((await prescient("task", key)).stderr).toMatch(/NOT_FOUND/);
  });

  it("lists the schedule runs that did something; --all adds those that found nothing to do", async () => {
    type Run = { schedule: string; status: string; items: number };
    const all: Run[] = JSON.parse((await prescient("runs", "--all", "--limit", "50", "--json")).stdout).runs;
    // readahead runs every second, and on an idle mesh finds nothing each time.
    expect(all.some((r) => r.schedule === "readahead" && r.status === "succeeded" && r.items === 0)).toBe(
      true,
    );
    const shown: Run[] = JSON.parse((await prescient("runs", "--json")).stdout).runs;
    expect(shown.filter((r) => r.status === "succeeded" && r.items === 0)).toEqual([]);
    expect((await prescient("runs")).stdout).toMatch(
      /\(\d+ runs with nothing to do hidden; --all shows them\)/,
    );
  });

  it("answers bad input with a status and stays healthy", async () => {
    const unknownType = await prescient("lookup", "acme/no_such_type/x");
    expect(unknownType.code).toBe(1);
    expect(unknownType.stderr).toMatch(/INVALID_ARGUMENT: key: unknown task type/);

    const escaping = await prescient("invalidate", "acme/../other/*");
    expect(escaping.code).toBe(1);
    expect(escaping.stderr).toMatch(/INVALID_ARGUMENT/);

    const noFeatures = await prescient("lookup", "acme/ctr_prediction/never", "--on-miss", "compute");
    expect(noFeatures.code).toBe(1);
    expect(noFeatures.stderr).toMatch(/INVALID_ARGUMENT: cannot compute .*no features stored/);

    expect(await checkHealth(addr, "prescient.cache.v1.CacheService")).toBe("SERVING");
  });

  it("computes a key that was never computed, through executor and predictor, and caches it", async () => {
    const features = JSON.stringify(ctrFeatures);
    const computed = await prescient(
      "lookup",
      "acme/ctr_prediction/fresh-ad",
      "--on-miss",
      "compute",
      "--features",
      features,
      "--json",
    );
    expect(computed.stderr).toBe("");
    const first = JSON.parse(computed.stdout);
    expect(first).toMatchObject({
      hit: false,
      computed: true,
      model_name: "ctr_prediction",
      model_version: "1",
    });
    const probability = first.value.probability.data[0];
    expect(probability).toBeGreaterThan(0);
    expect(probability).toBeLessThan(1);

    const again = JSON.parse((await prescient("lookup", "acme/ctr_prediction/fresh-ad", "--json")).stdout);
    expect(again).toMatchObject({ hit: true, computed: false });
    expect(again.value.probability.data[0]).toBe(probability);
  });

  it("enqueues a task with features; a worker completes it and the lookup hits", async () => {
    const enqueued = await prescient(
      "enqueue",
      "acme/ctr_prediction/queued-ad",
      "--priority",
      "9",
      "--reason",
      "trigger",
      "--features",
      JSON.stringify(ctrFeatures),
      "--json",
    );
    expect(enqueued.stderr).toBe("");
    const { task_id: taskId, deduplicated } = JSON.parse(enqueued.stdout);
    expect(deduplicated).toBe(false);

    let task = JSON.parse((await prescient("task", taskId, "--json")).stdout);
    for (let i = 0; i < 50 && task.state !== "completed"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      task = JSON.parse((await prescient("task", "acme/ctr_prediction/queued-ad", "--json")).stdout);
    }
    expect(task).toMatchObject({
      id: taskId,
      state: "completed",
      priority: 9,
      reasons: ["trigger"],
      attempts: 1,
    });

    const hit = JSON.parse((await prescient("lookup", "acme/ctr_prediction/queued-ad", "--json")).stdout);
    expect(hit).toMatchObject({ hit: true, model_name: "ctr_prediction", model_version: "1" });
    expect(hit.value.probability.data[0]).toBeGreaterThan(0);

    const stats = JSON.parse((await prescient("queue-stats", "--json")).stdout);
    expect(stats).toMatchObject({ paused: false, total: { processing: 0 } });
    expect(stats.total.completed).toBeGreaterThanOrEqual(1);
    expect(JSON.parse((await prescient("dlq", "list", "--json")).stdout)).toEqual({
      tasks: [],
      next_page_token: "",
    });
    const neither = await prescient("dlq", "requeue");
    expect(neither.code).toBe(1);
    expect(neither.stderr).toMatch(/give task ids or --all/);
  });

  it("reports lookups to the analyzer, whose demand ranking then knows the key", async () => {
    for (let i = 0; i < 3; i++) await prescient("lookup", "acme/roas_prediction/campaign-7");
    const analyzer = new analyzerV1.AnalyzerServiceClient(addr, credentials.createInsecure());
    const top = async () =>
      (
        await callUnary(analyzer.topPatterns.bind(analyzer), {
          limit: 10,
          taskType: "roas_prediction",
          tenant: "acme",
        })
      ).patterns;
    // The cache ships its query log in batches, every 250 ms at the latest.
    let patterns = await top();
    for (let i = 0; i < 20 && patterns.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      patterns = await top();
    }
    analyzer.close();
    expect(patterns.map((p) => p.key)).toContain("acme/roas_prediction/campaign-7");
  });

  it("serves health for every service of the mesh", async () => {
    for (const name of [
      "prescient.cache.v1.CacheService",
      "prescient.precomputer.v1.PrecomputerService",
      "prescient.analyzer.v1.AnalyzerService",
      "prescient.executor.v1.ExecutorService",
      "inference.GRPCInferenceService",
    ])
      expect(await checkHealth(addr, name)).toBe("SERVING");
  });

  it("drains on SIGTERM and exits 0", async () => {
    const exited = new Promise<number | null>((resolve) => mesh.once("exit", (code) => resolve(code)));
    mesh.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(meshOutput).toContain("draining");
    // Quiet at info: schedule runs that found nothing to do (readahead, every second) log at debug.
    expect(meshOutput).not.toContain("nothing to do");
    // Its copy of the example models is gone, and onnxruntime wrote no telemetry files.
    expect(readdirSync(meshTmp)).toEqual([]);
  });
});
