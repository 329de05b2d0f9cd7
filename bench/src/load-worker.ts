import { parentPort, Worker, workerData } from "node:worker_threads";
import { closedLoop, type LoadOptions, type LoadResult } from "./load.js";
import { createScenario, type ScenarioArgs } from "./scenarios.js";

interface Job {
  scenario: ScenarioArgs;
  options: LoadOptions;
}

/** Told when the measured phase (after the warm-up) starts and ends, e.g. to take CPU readings. */
export interface PhaseHooks {
  onMeasureStart?(): unknown;
  onMeasureEnd?(): unknown;
}

type WorkerMessage = { phase: "start" | "end" } | { result: LoadResult } | { error: string };

/** Runs a closed loop of `scenario` in a worker thread and returns its figures. */
export function loadInWorker(
  scenario: ScenarioArgs,
  options: LoadOptions,
  hooks: PhaseHooks = {},
): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./load-worker.js", import.meta.url), {
      workerData: { scenario, options },
    });
    // Hooks may be async (a CPU probe's stop); the result waits for them.
    const pending: unknown[] = [];
    worker.on("message", (m: WorkerMessage) => {
      if ("phase" in m) {
        pending.push(m.phase === "start" ? hooks.onMeasureStart?.() : hooks.onMeasureEnd?.());
        return;
      }
      void worker.terminate();
      if ("result" in m) Promise.all(pending).then(() => resolve(m.result), reject);
      else reject(new Error(m.error));
    });
    worker.once("error", reject);
  });
}

if (
  parentPort !== null &&
  workerData !== null &&
  typeof workerData === "object" &&
  "scenario" in workerData
) {
  const job = workerData as Job;
  const port = parentPort;
  const scenario = createScenario(job.scenario);
  // The same boundaries as closedLoop's, which starts now too.
  setTimeout(() => port.postMessage({ phase: "start" }), job.options.warmupMs);
  let ended = false;
  const end = (): void => {
    if (!ended) port.postMessage({ phase: "end" });
    ended = true;
  };
  const endTimer = setTimeout(end, job.options.warmupMs + job.options.durationMs);
  closedLoop(() => scenario.call(), job.options).then(
    (result) => {
      // The loop can finish in the same turn the timer comes due, before it fires.
      clearTimeout(endTimer);
      end();
      scenario.close();
      port.postMessage({ result });
    },
    (e: unknown) => port.postMessage({ error: String(e) }),
  );
}
