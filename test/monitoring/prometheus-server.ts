import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@prescient/kit/testing";
import { stringify } from "yaml";
import { type RuleGroup, writeRuleFile } from "./monitoring-files.js";

/**
 * A real Prometheus (Debian's `prometheus` package: CI installs it) that
 * scrapes one target every second and evaluates the given rule groups every
 * second, in a throw-away data directory.
 */
export interface PrometheusServer {
  url: string;
  /** An instant query's result vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** /api/v1/rules: each rule's name, health and last error. */
  rules(): Promise<{ name: string; health: string; lastError?: string; lastEvaluation: string }[]>;
  output(): string;
  stop(): Promise<void>;
}

export const prometheusBinary = "/usr/bin/prometheus";

export async function startPrometheus(options: {
  target: string;
  /** Target labels, as the PodMonitor's relabelling would give them. */
  labels: Record<string, string>;
  groups: RuleGroup[];
}): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), "prescient-prometheus-"));
  const port = await freePort();
  const ruleFile = writeRuleFile(dir, options.groups);
  const config = {
    global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
    rule_files: [ruleFile],
    scrape_configs: [
      { job_name: "prescient", static_configs: [{ targets: [options.target], labels: options.labels }] },
    ],
  };
  const configFile = join(dir, "prometheus.yml");
  writeFileSync(configFile, stringify(config));
  let output = "";
  const child: ChildProcess = spawn(
    prometheusBinary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const append = (chunk: Buffer): void => {
    output = `${output}${chunk.toString()}`.slice(-20_000);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  const spawned = new Promise<void>((_, reject) => {
    child.once("error", (e) =>
      reject(new Error(`cannot start ${prometheusBinary} (apt-get install -y prometheus): ${e.message}`)),
    );
    child.once("exit", (code) => reject(new Error(`prometheus exited with ${code}: ${output}`)));
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([spawned, waitUntil(() => ready(url), 30_000, "prometheus ready")]);
  } catch (e) {
    await stop();
    throw e;
  }
  spawned.catch(() => undefined);
  return {
    url,
    query: async (expr) => {
      const data = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
        url,
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      return data.result;
    },
    rules: async () => {
      const data = await api<{
        groups: { rules: { name: string; health: string; lastError?: string; lastEvaluation: string }[] }[];
      }>(url, "/api/v1/rules");
      return data.groups.flatMap((g) => g.rules);
    },
    output: () => output,
    stop,
  };
}

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/-/ready`)).ok;
  } catch {
    return false;
  }
}

async function api<T>(url: string, path: string): Promise<T> {
  const res = await fetch(`${url}${path}`);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== "success") throw new Error(`${path}: ${body.error ?? res.status}`);
  return body.data;
}

/** Polls `check` every 250 ms until it holds, or throws naming `what` after `timeoutMs`. */
export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
