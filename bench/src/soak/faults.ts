import { predictorV1 } from "@prescient/contracts";
import { callUnary, clientChannelOptions, insecure } from "@prescient/kit";
import type { MeshProcesses } from "./mesh-processes.js";
import type { RedisProcess } from "./redis-process.js";

export interface FaultEvent {
  /** ms since the soak started, when the fault began. */
  t: number;
  fault: string;
  /** ms from the fault to the component answering again. */
  recoveryMs: number;
  ok: boolean;
  detail: string;
}

export interface Fault {
  /** When it fires, as a fraction of the load phase. */
  at: number;
  name: string;
  run(): Promise<string>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The fault schedule, spread over the load phase so each fault's recovery is
 * seen under load before the next one: a Redis restart that flushes the AOF
 * (SIGTERM), executor and analyzer SIGKILLs, a model unload/reload, then a
 * Redis SIGKILL, where only what was written to the AOF survives.
 */
export function faultSchedule(
  mesh: MeshProcesses,
  redis: RedisProcess,
  options: { redisDownMs: number; unloadMs: number },
): Fault[] {
  const restartRedis = async (signal: NodeJS.Signals): Promise<string> => {
    await redis.stop(signal);
    await sleep(options.redisDownMs);
    await redis.start();
    return `${signal}, down ${options.redisDownMs} ms, restarted on port ${redis.port} with its AOF`;
  };
  const restart = async (role: "executor" | "analyzer"): Promise<string> => {
    const ms = await mesh.killAndRestart(role);
    return `SIGKILL, new process SERVING after ${ms} ms`;
  };
  return [
    { at: 0.12, name: "redis restart (SIGTERM)", run: () => restartRedis("SIGTERM") },
    { at: 0.27, name: "executor SIGKILL + restart", run: () => restart("executor") },
    { at: 0.42, name: "analyzer SIGKILL + restart", run: () => restart("analyzer") },
    {
      at: 0.57,
      name: "predictor UnloadModel/LoadModel ctr_prediction",
      run: () => reloadModel(mesh.addr.predictor, "ctr_prediction", options.unloadMs),
    },
    { at: 0.72, name: "redis restart (SIGKILL)", run: () => restartRedis("SIGKILL") },
  ];
}

/** Unloads a model through ModelRepositoryService, leaves it out for `downMs`, and loads it again. */
async function reloadModel(addr: string, name: string, downMs: number): Promise<string> {
  const repo = new predictorV1.ModelRepositoryServiceClient(addr, insecure(), clientChannelOptions());
  try {
    const unloaded = await callUnary(repo.unloadModel.bind(repo), { name }, { timeoutMs: 30_000 });
    await sleep(downMs);
    const loaded = await callUnary(repo.loadModel.bind(repo), { name }, { timeoutMs: 60_000 });
    const states = (vs: predictorV1.ModelVersionStatus[]): string =>
      vs.map((v) => `v${v.version}:${predictorV1.ModelState[v.state] ?? v.state}`).join(",");
    return `unloaded [${states(unloaded.versions)}], out ${downMs} ms, loaded [${states(loaded.versions)}]`;
  } finally {
    repo.close();
  }
}

/** Runs one fault and records it; a fault that throws is recorded, and the soak goes on. */
export async function runFault(fault: Fault, start: number): Promise<FaultEvent> {
  const t0 = Date.now();
  try {
    const detail = await fault.run();
    return { t: t0 - start, fault: fault.name, recoveryMs: Date.now() - t0, ok: true, detail };
  } catch (e) {
    return {
      t: t0 - start,
      fault: fault.name,
      recoveryMs: Date.now() - t0,
      ok: false,
      detail: e instanceof Error ? e.message : String(e),
    };
  }
}
