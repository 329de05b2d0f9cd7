import { mkdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { createClient } from "@prescient/client";
import { ErrorCounts } from "./error-counts.js";
import { type FaultEvent, faultSchedule, runFault } from "./faults.js";
import { startHandlerServer } from "./handler-server.js";
import { MeshProcesses, roles } from "./mesh-processes.js";
import { ProcSampler } from "./proc-sampler.js";
import { RedisProcess } from "./redis-process.js";
import { rssFailed, rssVerdicts } from "./rss-bounds.js";
import { soakOptionsFromEnv } from "./soak-options.js";
import {
  type ProcessSummary,
  printSoakReport,
  type SoakReport,
  summarizeProcess,
  writeSoakReport,
} from "./soak-report.js";
import { TaskLedger } from "./task-ledger.js";
import { Workload } from "./workload.js";

/**
 * `npm run soak`: the split, Redis-backed mesh under bounded mixed load for
 * SOAK_MINUTES while faults are injected on a schedule, then a drain and an
 * audit of every task the executor acknowledged. Exits 1 if any was lost.
 */
const o = soakOptionsFromEnv();
const start = Date.now();
const startedAt = new Date(start).toISOString();
const log = (line: string): void => {
  process.stdout.write(`[${((Date.now() - start) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const logDir = join("bench-results", `soak-logs-${startedAt.replace(/[:.]/g, "-")}`);
mkdirSync(logDir, { recursive: true });

const handler = await startHandlerServer();
const redis = new RedisProcess();
await redis.start();
let mesh: MeshProcesses | undefined;

// Ctrl-C or a kill of the soak must not leave six servers behind.
const cleanup = async (): Promise<void> => {
  await mesh?.stop();
  await redis.dispose();
  await handler.stop();
};
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => {
    log(`${signal}: stopping the mesh`);
    void cleanup().finally(() => process.exit(130));
  });

let exitCode = 0;
try {
  mesh = await MeshProcesses.start({
    redisUrl: redis.url,
    prefix: `soak-${start}`,
    handlerAddr: handler.addr,
    logDir,
  });
  const m = mesh;
  log(`mesh SERVING: ${JSON.stringify(m.addr)}, redis ${redis.url} (AOF in ${redis.dir}), logs in ${logDir}`);

  const sampler = new ProcSampler(
    () => ({
      redis: redis.pid,
      ...Object.fromEntries(roles.map((r) => [r, m.pid(r)])),
      "soak-driver": process.pid,
    }),
    start,
  );
  sampler.start(o.sampleS * 1000);

  const errors = new ErrorCounts();
  const ledger = new TaskLedger(m.addr.executor, errors);
  const client = createClient({
    address: m.addr.cache,
    services: {
      cache: m.addr.cache,
      executor: m.addr.executor,
      precomputer: m.addr.precomputer,
      predictor: m.addr.predictor,
    },
  });
  const workload = new Workload(client, errors, ledger, o.entities);

  const loadMs = o.minutes * 60_000;
  const loadStart = Date.now();
  workload.start(o.rate, o.maxInFlight);
  log(`load: ${o.rate} calls/s for ${o.minutes} min`);

  // Faults run one after another, each at its time or when the previous one is over.
  const faults: FaultEvent[] = [];
  const faultsDone = (async () => {
    for (const fault of faultSchedule(m, redis, { redisDownMs: o.redisDownMs, unloadMs: o.unloadMs })) {
      const wait = loadStart + fault.at * loadMs - Date.now();
      if (wait > 0) await sleep(wait);
      log(`fault: ${fault.name}`);
      const event = await runFault(fault, start);
      faults.push(event);
      log(`  ${event.ok ? "recovered" : "FAILED"} in ${event.recoveryMs} ms: ${event.detail}`);
    }
  })();

  const sweeper = setInterval(() => void ledger.sweep(), o.sweepS * 1000);
  const progress = setInterval(() => {
    log(
      `issued ${workload.issued}, skipped ${workload.skipped}, acknowledged ${ledger.size}, unresolved ${ledger.pending}`,
    );
  }, 30_000);
  await sleep(loadMs);
  await workload.stop();
  const loadEnd = Date.now();
  clearInterval(progress);
  log(`load stopped: ${workload.issued} calls issued, ${ledger.size} tasks acknowledged`);
  await faultsDone;

  // Drain: the queue must empty (leases of killed workers run out, retries come due).
  let drained = false;
  const drainDeadline = Date.now() + o.drainS * 1000;
  while (Date.now() < drainDeadline) {
    const outstanding = await ledger.outstanding();
    if (outstanding === 0) {
      drained = true;
      break;
    }
    log(`draining: ${outstanding ?? "?"} tasks outstanding`);
    await sleep(5_000);
  }
  clearInterval(sweeper);
  await ledger.sweep();
  const idleLeft = loadEnd + o.idleS * 1000 - Date.now();
  if (idleLeft > 0) {
    log(`idle ${Math.round(idleLeft / 1000)} s more before the after-load RSS reading`);
    await sleep(idleLeft);
  }
  sampler.sample();
  sampler.stop();
  const drainEnd = Date.now();
  log(`audit of ${ledger.size} acknowledged tasks (${ledger.pending} not seen completed or dead)`);
  const tasks = await ledger.summarize(client, start);
  ledger.close();
  client.close();

  const processes: Record<string, ProcessSummary> = {};
  const samples: SoakReport["samples"] = {};
  for (const [role, series] of sampler.series) {
    const s = summarizeProcess(series, loadEnd - start, loadStart - start);
    if (s !== undefined) processes[role] = s;
    samples[role] = series.map((x) => [
      Math.round(x.t / 100) / 10,
      x.pid,
      Math.round(x.rssKiB / 102.4) / 10,
      x.cpuPct === null ? null : Math.round(x.cpuPct * 10) / 10,
    ]);
  }
  const report: SoakReport = {
    name: "soak",
    startedAt,
    node: process.version,
    cpus: availableParallelism(),
    config: { ...o },
    phasesS: {
      load: Math.round((loadEnd - loadStart) / 1000),
      drain: Math.round((drainEnd - loadEnd) / 1000),
    },
    drained,
    load: { issued: workload.issued, skippedAtInFlightCap: workload.skipped },
    tasks,
    rpcs: errors.toJSON(),
    errorSamples: Object.fromEntries(errors.samples),
    faults,
    processes,
    rssBounds: rssVerdicts(processes),
    samples,
  };
  printSoakReport(report);
  process.stdout.write(`wrote ${writeSoakReport(report)} (service logs in ${logDir})\n`);
  if (tasks.lost > 0) {
    process.stderr.write(`soak: ${tasks.lost} acknowledged tasks lost\n`);
    exitCode = 1;
  }
  for (const v of report.rssBounds.filter(rssFailed)) {
    process.stderr.write(
      `soak: ${v.role} peaked at ${v.peakMiB} MiB (limit ${v.boundMiB} MiB)${v.cameDown || v.heldFlat ? "" : ", kept what the load added and was still rising at its end"}\n`,
    );
    exitCode = 1;
  }
} catch (e) {
  process.stderr.write(`soak failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  exitCode = 2;
} finally {
  await cleanup();
}
process.exit(exitCode);
