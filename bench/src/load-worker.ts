import { parentPort, Worker, workerData } from "node:worker_threads";
import { closedLoop, type LoadOptions, type LoadResult } from "./load.js";
import { createScenario, type ScenarioArgs } from "./scenarios.js";

interface Job {
  scenario: ScenarioArgs;
  options: LoadOptions;
}

/** Runs a closed loop of `scenario` in a worker thread and returns its figures. */
export function loadInWorker(scenario: ScenarioArgs, options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./load-worker.js", import.meta.url), {
      workerData: { scenario, options },
    });
    worker.once("message", (m: { result?: LoadResult; error?: string }) => {
      void worker.terminate();
      if (m.result) resolve(m.result);
      else reject(new Error(m.error ?? "load worker failed"));
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
  const scenario = createScenario(job.scenario);
  closedLoop(() => scenario.call(), job.options).then(
    (result) => {
      scenario.close();
      parentPort?.postMessage({ result });
    },
    (e: unknown) => parentPort?.postMessage({ error: String(e) }),
  );
}
