import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitForServing } from "@prescient/kit";
import { freePorts } from "@prescient/kit/testing";

/**
 * `prescient up` as a child process (every service in one process, so every
 * family is registered, memory stores) with its Prometheus endpoint on a
 * free port. Needs the build (`npm test` runs it first).
 */
export interface MeshUp {
  /** gRPC address of the mesh. */
  addr: string;
  /** host:port of GET /metrics. */
  metricsTarget: string;
  scrape(): Promise<string>;
  /** What the mesh logged, for a failure's message. */
  output(): string;
  stop(): Promise<void>;
}

const cli = fileURLToPath(new URL("../../packages/cli/dist/main.js", import.meta.url));

export async function startMeshUp(): Promise<MeshUp> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (npm test does)`);
  const [port, metricsPort] = (await freePorts(2)) as [number, number];
  const addr = `127.0.0.1:${port}`;
  const metricsTarget = `127.0.0.1:${metricsPort}`;
  // Its own temp folder: `up` copies the example models there.
  const tmp = mkdtempSync(join(tmpdir(), "prescient-monitoring-"));
  let output = "";
  const child: ChildProcess = spawn("node", [cli, "up", "--port", String(port)], {
    env: {
      ...process.env,
      LOG_LEVEL: "warn",
      REDIS_URL: "",
      TMPDIR: tmp,
      PRESCIENT_METRICS_PORT: String(metricsPort),
      PRESCIENT_METRICS_HOST: "127.0.0.1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const append = (chunk: Buffer): void => {
    output = `${output}${chunk.toString()}`.slice(-20_000);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    await waitForServing(addr, "", 60_000);
  } catch (e) {
    await stop();
    throw new Error(`prescient up did not serve: ${String(e)}\n${output}`);
  }
  return {
    addr,
    metricsTarget,
    scrape: async () => {
      const res = await fetch(`http://${metricsTarget}/metrics`);
      if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
      return res.text();
    },
    output: () => output,
    stop,
  };
}
