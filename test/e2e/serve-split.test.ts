import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { waitForServing } from "@prescient/kit";
import { freePort } from "@prescient/kit/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

/**
 * The Kubernetes shape: one service per process (`prescient serve`), peers
 * found through PRESCIENT_*_ADDR, shared state in Redis. A miss computed
 * through the cache crosses cache → executor → predictor → back, and a queued
 * task crosses executor → predictor → cache, all over real gRPC.
 */
const cli = fileURLToPath(new URL("../../packages/cli/dist/main.js", import.meta.url));
const children: ChildProcess[] = [];
const addr: Record<string, string> = {};

const ctrFeatures = JSON.stringify({
  bid: 2,
  quality_score: 6,
  position: 2,
  hour_of_day: 9,
  ad_age_days: 1,
  historical_ctr: 0.02,
  relevance: 0.6,
  device_mobile: 0,
});

function prescient(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("node", [cli, ...args], { timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? 1 : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  for (const s of ["predictor", "cache", "executor"]) addr[s] = `127.0.0.1:${await freePort()}`;
  const prefix = `split-${randomUUID().slice(0, 8)}`;
  const common = {
    ...process.env,
    LOG_LEVEL: "warn",
    REDIS_URL: inject("redisUrl"),
    PRESCIENT_CACHE_REDIS_PREFIX: `${prefix}:cache:`,
    PRESCIENT_PREDICTOR_ADDR: addr.predictor,
    PRESCIENT_CACHE_ADDR: addr.cache,
    PRESCIENT_EXECUTOR_ADDR: addr.executor,
  };
  for (const service of ["predictor", "cache", "executor"]) {
    const child = spawn("node", [cli, "serve", service, "--addr", addr[service] as string], {
      env: common,
      stdio: ["ignore", "ignore", "inherit"],
    });
    children.push(child);
  }
  await Promise.all(Object.values(addr).map((a) => waitForServing(a, "", 60_000)));
}, 90_000);

afterAll(async () => {
  await Promise.all(
    children.map(
      (c) =>
        new Promise((resolve) => {
          if (c.exitCode !== null) return resolve(undefined);
          c.once("exit", resolve);
          c.kill("SIGTERM");
        }),
    ),
  );
});

describe("prescient serve, one service per process", () => {
  it("computes a miss through the cache, a remote executor and a remote predictor", async () => {
    const r = await prescient(
      "lookup",
      "acme/ctr_prediction/split-ad",
      "--on-miss",
      "compute",
      "--features",
      ctrFeatures,
      "--json",
      "--addr",
      addr.cache as string,
    );
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toMatchObject({ computed: true, model_name: "ctr_prediction" });
  });

  it("runs a queued task on the remote predictor and writes it to the remote cache", async () => {
    const q = await prescient(
      "enqueue",
      "acme/ctr_prediction/split-queued",
      "--features",
      ctrFeatures,
      "--json",
      "--addr",
      addr.executor as string,
    );
    expect(q.stderr).toBe("");
    let hit = false;
    for (let i = 0; i < 50 && !hit; i++) {
      const l = await prescient(
        "lookup",
        "acme/ctr_prediction/split-queued",
        "--json",
        "--addr",
        addr.cache as string,
      );
      hit = JSON.parse(l.stdout).hit === true;
      if (!hit) await new Promise((r) => setTimeout(r, 100));
    }
    expect(hit).toBe(true);
  });
});
