import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { waitForServing } from "@prescient/kit";
import { freePort, inCi, systemTool } from "@prescient/kit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The Python client (clients/python) and the Python analytics example
 * (examples/python-analytics) against `prescient up`, as a backend team
 * would run them: Debian's Python with its python3-grpcio. Needs the build.
 */
// Debian's Python by default: the pyenv python3 first on PATH does not see Debian's packages.
const python = process.env.PRESCIENT_TEST_PYTHON ?? "/usr/bin/python3";
const repo = fileURLToPath(new URL("../../", import.meta.url));
const cli = fileURLToPath(new URL("../../packages/cli/dist/main.js", import.meta.url));
const pythonGrpc = systemTool(
  python,
  "apt-get install python3-grpcio python3-grpc-tools",
  ["-c", "import grpc, google.protobuf"],
  `gRPC in ${python}`,
);

/** The live tests in clients/python/tests/test_live.py; each must run and pass, not skip. */
const liveTests = [
  "test_lookup_miss",
  "test_put_then_lookup_hits_with_the_value",
  "test_put_tensors_bytes_and_ttl",
  "test_lookup_many_answers_in_request_order",
  "test_get_or_compute_computes_once",
  "test_the_mesh_computes_a_miss_and_infer_agrees",
  "test_trigger_campaign_created_fans_out_and_results_land",
  "test_invalid_argument_is_a_typed_error",
  "test_not_found_is_a_typed_error",
  "test_digest_computed_here_names_the_servers_key",
  "test_server_digests_the_shared_vectors_alike",
  "test_invalidate_by_pattern",
];
/** Fewer than this many tests ran: discovery lost some. */
const minTests = 39;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runPython(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      python,
      args,
      {
        cwd: repo,
        timeout: 120_000,
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", ...env },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe.runIf(pythonGrpc.runTests)("the Python client against prescient up", () => {
  let mesh: ChildProcess | undefined;
  let addr = "";
  let meshOutput = "";

  beforeAll(async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (npm test does)`);
    const port = await freePort();
    addr = `127.0.0.1:${port}`;
    mesh = spawn("node", [cli, "up", "--port", String(port)], {
      env: { ...process.env, LOG_LEVEL: "warn", REDIS_URL: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (c: Buffer) => {
      meshOutput = (meshOutput + c.toString()).slice(-20_000);
    };
    mesh.stdout?.on("data", keep);
    mesh.stderr?.on("data", keep);
    await waitForServing(addr, "", 60_000);
  }, 90_000);

  afterAll(async () => {
    if (mesh && mesh.exitCode === null) {
      const exited = new Promise((resolve) => mesh?.once("exit", resolve));
      mesh.kill("SIGTERM");
      await exited;
    }
  });

  it("passes the client's unittest suite, live tests included", async () => {
    const run = await runPython(
      ["-m", "unittest", "discover", "-v", "-s", "clients/python/tests", "-t", "clients/python"],
      { PRESCIENT_TEST_ADDR: addr },
    );
    // unittest reports on stderr.
    const report = run.stderr;
    expect(run.code, `${report}\n--- mesh\n${meshOutput}`).toBe(0);
    const ran = Number(/^Ran (\d+) tests? in /m.exec(report)?.[1] ?? 0);
    expect(ran).toBeGreaterThanOrEqual(minTests);
    const summary = /^OK(?: \((.*)\))?$/m.exec(report);
    expect(summary, report).not.toBeNull();
    if (inCi) expect(summary?.[1] ?? "", "nothing may skip in CI").not.toMatch(/skipped/);

    const outcomes = new Map<string, string>();
    for (const m of report.matchAll(/^(test_\w+) \(([\w.]+)\) \.\.\. (.+)$/gm))
      if (m[2]?.includes("LiveMeshTest")) outcomes.set(m[1]!, m[3]!);
    for (const name of liveTests) expect(outcomes.get(name), name).toBe("ok");
  }, 150_000);

  it("runs the Python analytics example: triggers launches, reads the panel, caches its summary", async () => {
    const tenant = `analytics-${process.pid}`;
    const first = await runPython([
      "examples/python-analytics/analytics.py",
      "--addr",
      addr,
      "--tenant",
      tenant,
      "--json",
    ]);
    expect(first.code, first.stderr).toBe(0);
    const panel = JSON.parse(first.stdout) as {
      queued: number;
      rows: {
        campaign: string;
        ctr: number;
        conversions: number;
        predicted_roas: number;
        variant_score: number;
        fresh: boolean;
      }[];
      summary: { campaigns: number; conversions: number; best_campaign: string };
      summary_source: string;
    };
    // campaign_launch_scheduled fans out to three task types, for three campaigns.
    expect(panel.queued).toBe(9);
    expect(panel.rows.map((r) => r.campaign)).toEqual(["spring-sale", "summer-launch", "brand-awareness"]);
    for (const r of panel.rows) {
      expect(r.fresh).toBe(true);
      expect(r.ctr).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(r.conversions)).toBe(true);
      expect(r.predicted_roas).toBeGreaterThan(0);
      expect(r.variant_score).toBeGreaterThan(0);
      expect(r.variant_score).toBeLessThan(1);
    }
    expect(panel.summary).toMatchObject({
      campaigns: 3,
      conversions: panel.rows.reduce((a, r) => a + r.conversions, 0),
    });
    expect(panel.summary_source).toBe("computed");

    // Same campaigns, same results: the summary's semantic key now hits.
    const second = await runPython([
      "examples/python-analytics/analytics.py",
      "--addr",
      addr,
      "--tenant",
      tenant,
    ]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^spring-sale\s/m);
    expect(second.stdout).toContain(`best ${panel.summary.best_campaign} (summary cached)`);
  }, 120_000);
});
