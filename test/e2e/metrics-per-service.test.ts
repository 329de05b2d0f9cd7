import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { waitForServing } from "@prescient/kit";
import { freePorts, metricFamilies } from "@prescient/kit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * `prescient serve <service>` exports its own service's metric families and
 * no other's (plus the kit's process and gRPC ones, which every process has),
 * and the families the alert rules and dashboards are written against.
 */
const cli = fileURLToPath(new URL("../../packages/cli/dist/main.js", import.meta.url));
const services = ["analyzer", "predictor", "precomputer", "executor", "cache"] as const;
type Service = (typeof services)[number];

/** Families every process exports, whatever it serves: the kit's. */
const shared = ["prescient_process_", "prescient_grpc_", "prescient_auth_"];
const prefixOf: Record<Service, string> = {
  analyzer: "prescient_analyzer_",
  predictor: "prescient_inference_",
  precomputer: "prescient_precomputer_",
  executor: "prescient_executor_",
  cache: "prescient_cache_",
};

/** The contract's families (the monitoring rules use exactly these names). */
const contract: Record<Service, string[]> = {
  executor: [
    "prescient_executor_queue_depth",
    "prescient_executor_queue_tasks",
    "prescient_executor_tasks_in_flight",
    "prescient_executor_dead_letters",
    "prescient_executor_dead_letters_dropped_total",
    "prescient_executor_tasks_dead_lettered_total",
    "prescient_executor_task_retries_total",
    "prescient_executor_tasks_lease_lost_total",
    "prescient_executor_claim_batch_size",
    "prescient_executor_task_duration_seconds",
    "prescient_executor_store_errors_total",
  ],
  analyzer: [
    "prescient_analyzer_events_total",
    "prescient_analyzer_sketch_entries",
    "prescient_analyzer_retrain_total",
    "prescient_analyzer_predictions_total",
    "prescient_analyzer_store_errors_total",
    "prescient_analyzer_learned_rules",
    "prescient_analyzer_relation_subjects",
  ],
  cache: [
    "prescient_cache_lookups_total",
    "prescient_cache_refresh_due_total",
    "prescient_cache_puts_total",
    "prescient_cache_invalidated_total",
    "prescient_cache_store_errors_total",
    "prescient_cache_miss_handler_calls_total",
    "prescient_cache_evictions_total",
    "prescient_cache_entries",
    "prescient_cache_bytes",
  ],
  precomputer: [
    "prescient_precomputer_tasks_enqueued_total",
    "prescient_precomputer_tasks_skipped_total",
    "prescient_precomputer_freshness_lookups_sampled_out_total",
    "prescient_precomputer_budget_used",
    "prescient_precomputer_budget_limit",
    "prescient_precomputer_budget_pressure",
    "prescient_precomputer_observed_queue_depth",
    "prescient_precomputer_observed_hit_rate",
    "prescient_precomputer_alert_firing",
    "prescient_precomputer_alert_threshold",
    "prescient_precomputer_schedule_runs_total",
    "prescient_precomputer_schedule_windows_missed_total",
    "prescient_precomputer_schedule_last_success_timestamp_seconds",
  ],
  predictor: [
    "prescient_inference_request_success",
    "prescient_inference_request_failure",
    "prescient_inference_count",
    "prescient_inference_exec_count",
    "prescient_inference_pending_request_count",
    "prescient_inference_queue_duration_seconds",
    "prescient_inference_compute_infer_duration_seconds",
    "prescient_inference_request_duration_seconds",
    "prescient_inference_model_ready",
  ],
};

interface Served {
  child: ChildProcess;
  metricsPort: number;
}
const served = new Map<Service | "up", Served>();

/**
 * Starts `prescient <args(port)>` listening on `port`, its metrics on
 * `metricsPort`. A process that exits before it serves fails the start at
 * once, with its exit and the end of its stderr, instead of a minute's wait
 * for a port nobody binds; one that lost its port to another test file's
 * process meanwhile (EADDRINUSE) is started again on fresh ports, twice at most.
 */
async function start(
  name: Service | "up",
  args: (port: number) => string[],
  port: number,
  metricsPort: number,
  attempt = 1,
): Promise<void> {
  // Memory stores, and peers that are absent: only what each process registers is under test.
  const child = spawn("node", [cli, ...args(port)], {
    env: {
      ...process.env,
      LOG_LEVEL: "warn",
      REDIS_URL: "",
      PRESCIENT_METRICS_PORT: String(metricsPort),
      PRESCIENT_METRICS_HOST: "127.0.0.1",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  served.set(name, { child, metricsPort });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    process.stderr.write(chunk);
    stderr = (stderr + chunk).slice(-2000);
  });
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => resolve(signal ?? `code ${code}`));
  });
  const serving = waitForServing(`127.0.0.1:${port}`, "", 60_000).then(() => undefined);
  // A process that exited leaves this polling to its end: its failure is then nobody's.
  serving.catch(() => undefined);
  const how = await Promise.race([serving, exited]);
  if (how === undefined) return;
  if (stderr.includes("EADDRINUSE") && attempt < 3) {
    const [p, m] = (await freePorts(2)) as [number, number];
    return start(name, args, p, m, attempt + 1);
  }
  throw new Error(`prescient ${args(port).join(" ")} exited (${how}) before serving: ${stderr}`);
}

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (npm test does)`);
  const names = [...services, "up"] as const;
  // One batch, so no two of the twelve ports are the same.
  const ports = await freePorts(names.length * 2);
  await Promise.all(
    names.map((name, i) =>
      start(
        name,
        name === "up"
          ? (port) => ["up", "--port", String(port)]
          : (port) => ["serve", name, "--addr", `127.0.0.1:${port}`],
        ports[i] as number,
        ports[names.length + i] as number,
      ),
    ),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(
    [...served.values()].map(
      ({ child }) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve(undefined);
          child.once("exit", resolve);
          child.kill("SIGTERM");
        }),
    ),
  );
});

async function scrape(service: Service | "up"): Promise<string> {
  const s = served.get(service);
  if (s === undefined) throw new Error(`${service} was not started`);
  const response = await fetch(`http://127.0.0.1:${s.metricsPort}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

describe.each(services)("prescient serve %s: metrics", (service) => {
  it("exports its own families only, and every family of the contract", async () => {
    const families = metricFamilies(await scrape(service));
    const own = families.filter((f) => !shared.some((p) => f.startsWith(p)));
    expect(own.filter((f) => !f.startsWith(prefixOf[service]))).toEqual([]);
    for (const f of own) expect(f.startsWith("prescient_")).toBe(true);
    expect(contract[service].filter((f) => !families.includes(f))).toEqual([]);
    expect(families.some((f) => f.startsWith("prescient_process_"))).toBe(true);
  });
});

describe("prescient up: metrics", () => {
  it("exports every service's contract families from its one process", async () => {
    const families = metricFamilies(await scrape("up"));
    expect(services.flatMap((s) => contract[s]).filter((f) => !families.includes(f))).toEqual([]);
  });
});
