import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitForServing } from "@prescient/kit";
import { freePort } from "@prescient/kit/testing";
import { afterEach, beforeAll, describe, expect, it } from "vitest";

/**
 * A new user's first run, on the built CLI as `npm start` runs it: a bad
 * variable is one line and exit code 1 before anything starts, the temp
 * folder is left as it was found, and a reader that stops early (`| head`)
 * ends the command quietly. Needs the build (`npm test` runs it first).
 */
const cli = fileURLToPath(new URL("../../packages/cli/dist/main.js", import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A private temp folder per run, so what a run leaves there is its own. */
const temps: string[] = [];
function privateTmp(): string {
  const dir = mkdtempSync(join(tmpdir(), "prescient-first-run-"));
  temps.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

function prescient(args: string[], env: Record<string, string>, tmp = privateTmp()): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      "node",
      [cli, ...args],
      // LOG_LEVEL debug unless the case sets it: a service that started at all would say so.
      { timeout: 20_000, env: { ...process.env, REDIS_URL: "", LOG_LEVEL: "debug", TMPDIR: tmp, ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The run refused its configuration as one line naming `variable`, having started nothing. */
function expectRefused(run: Run, variable: string, tmp?: string): void {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr).toMatch(/^prescient: cannot start: invalid configuration: [^\n]+\n$/);
  expect(run.stderr).toContain(variable);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  // Not a log line: no service started, no schedule ran, nothing bound.
  expect(run.stdout).toBe("");
  if (tmp !== undefined) expect(readdirSync(tmp)).toEqual([]);
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (npm test does)`);
});

describe("a bad configuration is refused before anything starts", () => {
  const cases: [variable: string, value: string, message: RegExp][] = [
    ["LOG_LEVEL", "loud", /LOG_LEVEL \("loud"\): .*expected one of "fatal"\|"error"/],
    [
      "PRESCIENT_ADDR",
      "nonsense",
      /PRESCIENT_ADDR \("nonsense"\): expected host:port, e\.g\. 127\.0\.0\.1:50051$/m,
    ],
    ["PRESCIENT_METRICS_PORT", "x", /PRESCIENT_METRICS_PORT \("x"\): expected an integer from 0 to 65535/],
    ["REDIS_URL", "http://x", /REDIS_URL .*redis:\/\//],
    ["PRESCIENT_TIME_SCALE", "0", /PRESCIENT_TIME_SCALE/],
    [
      "PRESCIENT_TASK_TYPES",
      "/nonexistent.yaml",
      /PRESCIENT_TASK_TYPES \("\/nonexistent\.yaml"\): cannot read/,
    ],
    ["PRESCIENT_CACHE_MAX_ENTRIES", "0", /PRESCIENT_CACHE_MAX_ENTRIES \("0"\): must be at least 1/],
    ["PRESCIENT_PRECOMPUTER_SCHEDULES", "maybe", /PRESCIENT_PRECOMPUTER_SCHEDULES/],
    ["PRESCIENT_QUEUE_CAPACITY", "lots", /PRESCIENT_QUEUE_CAPACITY/],
    ["PRESCIENT_ANALYZER_HALF_LIFE_S", "0", /PRESCIENT_ANALYZER_HALF_LIFE_S/],
    ["PRESCIENT_PREDICTOR_EXECUTION_PROVIDERS", "tpu", /PRESCIENT_PREDICTOR_EXECUTION_PROVIDERS/],
    ["PRESCIENT_EXECUTOR_ADDR", "executor", /PRESCIENT_EXECUTOR_ADDR/],
  ];

  it.each(cases)("up with %s=%s", async (variable, value, message) => {
    const tmp = privateTmp();
    const run = await prescient(["up", "--port", String(await freePort())], { [variable]: value }, tmp);
    expectRefused(run, variable, tmp);
    expect(run.stderr).toMatch(message);
  });

  it.each([
    ["cache", "PRESCIENT_CACHE_MAX_BYTES", "1"],
    ["precomputer", "PRESCIENT_PRECOMPUTER_OWNER", "x".repeat(200)],
    ["precomputer", "PRESCIENT_PRECOMPUTER_FRESH_PEEK_MIN_RATE", "2"],
    ["executor", "PRESCIENT_EXECUTOR_CLAIM_SIZE", "0"],
    ["analyzer", "PRESCIENT_ANALYZER_KEY_CAPACITY", "1"],
    ["predictor", "PRESCIENT_MODEL_POLL_MS", "-1"],
    // The reference task handler validates the same environment as the services.
    ["task-handler", "PRESCIENT_METRICS_PORT", "70000"],
    // Another service's variable fails as well: the process validates all it could read.
    ["cache", "LOG_LEVEL", "loud"],
  ])("serve %s with %s=%s", async (service, variable, value) => {
    const port = await freePort();
    expectRefused(
      await prescient(["serve", service, "--addr", `127.0.0.1:${port}`], { [variable]: value }),
      variable,
    );
  });

  it("names every bad variable at once, in one line", async () => {
    const run = await prescient(["up"], {
      LOG_LEVEL: "loud",
      PRESCIENT_ADDR: "nonsense",
      PRESCIENT_CACHE_MAX_ENTRIES: "0",
      PRESCIENT_QUEUE_LEASE_MS: "1",
    });
    expectRefused(run, "LOG_LEVEL");
    for (const v of ["PRESCIENT_ADDR", "PRESCIENT_CACHE_MAX_ENTRIES", "PRESCIENT_QUEUE_LEASE_MS"])
      expect(run.stderr).toContain(v);
  });

  it("checks the command line's overrides too", async () => {
    expectRefused(await prescient(["up", "--port", "70000"], {}), "port must be at most 65535");
    expectRefused(await prescient(["up", "--redis", "localhost:6379"], {}), "--redis");
  });
});

describe("the temp folder is left as it was found", () => {
  let holder: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (holder ? holder.close(resolve) : resolve(undefined)));
    holder = undefined;
  });

  it("removes the model repository copy when `up` is stopped with SIGINT", async () => {
    const tmp = privateTmp();
    const port = await freePort();
    const mesh = spawn("node", [cli, "up", "--port", String(port)], {
      env: { ...process.env, REDIS_URL: "", LOG_LEVEL: "warn", TMPDIR: tmp },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    mesh.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => mesh.once("exit", (code) => resolve(code)));
    await waitForServing(`127.0.0.1:${port}`, "", 60_000);
    expect(readdirSync(tmp).filter((f) => f.startsWith("prescient-models-"))).toHaveLength(1);
    mesh.kill("SIGINT");
    expect(await exited).toBe(0);
    // Nothing else either: onnxruntime's telemetry files (.ses, mat-debug-*.log) stay off.
    expect(readdirSync(tmp)).toEqual([]);
    expect(stderr).toBe("");
  }, 90_000);

  it("removes it when `up` exits because it cannot start (its port is taken)", async () => {
    const port = await freePort();
    const server = createServer();
    holder = server;
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    const tmp = privateTmp();
    const run = await prescient(["up", "--port", String(port)], { LOG_LEVEL: "warn" }, tmp);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot start: .*EADDRINUSE/);
    expect(readdirSync(tmp)).toEqual([]);
  }, 60_000);
});

describe("a reader that stops early (`| head`) ends the command quietly", () => {
  /** Runs the CLI with stdout a pipe whose reader has already gone. */
  function withClosedStdout(args: string[]): Promise<Run> {
    return new Promise((resolve) => {
      const child = spawn("node", [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      child.stdout?.destroy();
      let stderr = "";
      child.stderr?.on("data", (c: Buffer) => {
        stderr += c.toString();
      });
      child.once("exit", (code) => resolve({ code, stdout: "", stderr }));
    });
  }

  it("on stdout itself", async () => {
    const out = join(privateTmp(), "w.csv");
    const run = await withClosedStdout([
      "workload",
      "generate",
      "zipf",
      "--seed",
      "1",
      "--days",
      "1",
      "--out",
      out,
    ]);
    expect(run).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("on a file argument that is stdout, through a real pipe into head", async () => {
    // A shell pipe, as a user types it (Node's own pipes are sockets, which /dev/stdout cannot open);
    // the CSV is far larger than the pipe's buffer, so the writes outlive head.
    const command = `set -o pipefail; node "$0" workload generate zipf --seed 1 --days 1 --out /dev/stdout | head -n 2 >/dev/null`;
    const run = await new Promise<Run>((resolve) =>
      execFile("bash", ["-c", command, cli], { timeout: 20_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr }),
      ),
    );
    expect(run).toEqual({ code: 0, stdout: "", stderr: "" });
  });
});
