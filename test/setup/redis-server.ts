import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

/**
 * Global setup: a private redis-server on a free loopback port for the whole
 * run, unless REDIS_URL points at one already. Tests read it with
 * `inject("redisUrl")`.
 */
declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let child: ChildProcess | undefined;
let dir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  if (process.env.REDIS_URL) {
    project.provide("redisUrl", process.env.REDIS_URL);
    return;
  }
  const port = await freePort();
  dir = mkdtempSync(join(tmpdir(), "prescient-redis-"));
  child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) resolve();
    };
    child?.stdout?.on("data", onData);
    child?.stderr?.on("data", onData);
    child?.once("error", (e) =>
      reject(new Error(`cannot start redis-server (apt-get install -y redis-server): ${e.message}`)),
    );
    child?.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
  });
  project.provide("redisUrl", `redis://127.0.0.1:${port}`);
}

export async function teardown(): Promise<void> {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
