import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { inference } from "@prescient/contracts";
import { callUnary, clientChannelOptions, disableOrtTelemetry, ServiceHost } from "@prescient/kit";
import { shippedModelsPath, startPredictor } from "@prescient/predictor";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { pino } from "pino";
import { startEchoServer } from "./echo-server.js";
import { heavyMlp } from "./heavy-model.js";
import { closedLoop, loadOptions } from "./load.js";
import { loadInWorker } from "./load-worker.js";
import { type BenchReport, newReport, result } from "./report.js";
import type { ScenarioArgs } from "./scenarios.js";

/**
 * Issue 3's predictor benchmark, every baseline measured in the same run:
 * 1. ModelInfer with 256 rows over gRPC against raw InferenceSession.run on 256 rows (the limit);
 * 2. single-row requests at concurrency 64 with dynamic batching on against off;
 * 3. single-row ctr requests at concurrency 1 against a bare grpc-js echo of the same sizes (p99).
 * All on the shipped ctr_prediction model, served from a temporary repository with per-case configs.
 * Load generators run in worker threads (the echo's too), so server and client each get a core.
 */
const FEATURES = 8;
const progress = (line: string): void => {
  process.stderr.write(`predictor bench: ${line}\n`);
};

const configs: Record<string, string> = {
  // Concurrent 256-row requests may merge into batches of up to 1024 rows.
  ctr_wide: "max_batch_size: 1024\nmax_queue_delay_ms: 0\n",
  // Tuned for throughput, as Triton's guide does: a short wait lets concurrent single rows meet.
  ctr_batched: "max_batch_size: 256\nmax_queue_delay_ms: 1\nmax_queue_size: 100000\n",
  ctr_unbatched: "max_batch_size: 256\ndynamic_batching: false\nmax_queue_size: 100000\n",
};

const heavyConfigs: Record<string, string> = {
  heavy_batched: "max_batch_size: 64\nmax_queue_delay_ms: 1\nmax_queue_size: 100000\n",
  heavy_unbatched: "max_batch_size: 64\ndynamic_batching: false\nmax_queue_size: 100000\n",
};

function repository(): string {
  const root = mkdtempSync(join(tmpdir(), "prescient-bench-models-"));
  const heavy = heavyMlp();
  for (const [name, config] of Object.entries(heavyConfigs)) {
    mkdirSync(join(root, name, "1"), { recursive: true });
    writeFileSync(join(root, name, "1", "model.onnx"), heavy);
    writeFileSync(join(root, name, "config.yaml"), config);
  }
  const shipped = readFileSync(join(shippedModelsPath, "ctr_prediction", "config.yaml"), "utf8");
  for (const [name, config] of Object.entries({ ...configs, ctr_prediction: shipped })) {
    mkdirSync(join(root, name, "1"), { recursive: true });
    copyFileSync(
      join(shippedModelsPath, "ctr_prediction", "1", "model.onnx"),
      join(root, name, "1", "model.onnx"),
    );
    writeFileSync(join(root, name, "config.yaml"), config);
  }
  return root;
}

function rowsOf(n: number): Float32Array {
  const data = new Float32Array(n * FEATURES);
  for (let r = 0; r < n; r++)
    data.set([1 + (r % 4), 5, 1 + (r % 10), r % 24, 10, 0.03, 0.7, r % 2], r * FEATURES);
  return data;
}

const request = (model: string, rows: number): inference.ModelInferRequest =>
  inference.ModelInferRequest.fromPartial({
    modelName: model,
    inputs: [{ name: "features", datatype: "FP32", shape: [BigInt(rows), BigInt(FEATURES)] }],
    rawInputContents: [Buffer.from(rowsOf(rows).buffer)],
  });

const inferScenario = (address: string, model: string, rows: number): ScenarioArgs => ({
  kind: "infer",
  address,
  request: inference.ModelInferRequest.encode(request(model, rows)).finish(),
});

export async function run(): Promise<BenchReport> {
  const root = repository();
  const host = new ServiceHost({ address: "127.0.0.1:0", logger: pino({ level: "warn" }) });
  const runtime = startPredictor(host, {
    repositoryPath: root,
    pollIntervalMs: 0,
    logger: pino({ level: "warn" }),
  });
  await host.start();
  await runtime.ready;
  const client = new inference.GRPCInferenceServiceClient(
    host.address,
    credentials.createInsecure(),
    clientChannelOptions(),
  );
  const infer = (req: inference.ModelInferRequest) => callUnary(client.modelInfer.bind(client), req);
  const results = [];
  try {
    progress("case 1: raw InferenceSession.run, 256 rows");
    disableOrtTelemetry();
    const session = await InferenceSession.create(
      readFileSync(join(shippedModelsPath, "ctr_prediction", "1", "model.onnx")),
      { intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ["cpu"] },
    );
    const feeds = { features: new Tensor("float32", rowsOf(256), [256, FEATURES]) };
    const raw = await closedLoop(() => session.run(feeds), loadOptions(1));
    await session.release();
    progress("case 1: ModelInfer 256 rows over gRPC, 8 in flight");
    const served = await loadInWorker(inferScenario(host.address, "ctr_wide", 256), loadOptions(8));
    results.push(
      result({
        case: "ModelInfer 256 rows/request over gRPC (8 in flight) vs raw session.run 256 rows",
        metric: "throughput",
        unit: "rows/s",
        value: served.throughput * 256,
        baseline: "raw InferenceSession.run, 256 rows, 1 thread",
        baseline_value: raw.throughput * 256,
        target_ratio: 0.5,
      }),
    );

    progress("case 2: single rows at concurrency 64, batching off");
    const off = await loadInWorker(inferScenario(host.address, "ctr_unbatched", 1), loadOptions(64));
    progress("case 2: single rows at concurrency 64, batching on");
    const on = await loadInWorker(inferScenario(host.address, "ctr_batched", 1), loadOptions(64));
    results.push(
      result({
        case: "single-row ModelInfer at concurrency 64, dynamic batching on vs off",
        metric: "throughput",
        unit: "req/s",
        value: on.throughput,
        baseline: "same requests, dynamic_batching: false",
        baseline_value: off.throughput,
        target_ratio: 5,
      }),
    );

    progress("case 2b: single rows at concurrency 64 on a compute-bound model, batching off, then on");
    const heavyOff = await loadInWorker(inferScenario(host.address, "heavy_unbatched", 1), loadOptions(64));
    const heavyOn = await loadInWorker(inferScenario(host.address, "heavy_batched", 1), loadOptions(64));
    results.push(
      result({
        case: "single-row ModelInfer at concurrency 64, compute-bound MLP (8-1024-1024-1), batching on vs off",
        metric: "throughput",
        unit: "req/s",
        value: heavyOn.throughput,
        baseline: "same requests, dynamic_batching: false",
        baseline_value: heavyOff.throughput,
        target_ratio: 5,
      }),
    );

    progress("case 3: concurrency 1, single-row ctr vs echo of the same sizes");
    // The shipped config (no queue delay), as a latency-sensitive caller gets it.
    const one = request("ctr_prediction", 1);
    const answer = await infer(one);
    const echoServer = await startEchoServer(inference.ModelInferResponse.encode(answer).finish().length);
    const requestBytes = inference.ModelInferRequest.encode(one).finish().length;
    const echoRun = await loadInWorker(
      { kind: "echo", address: echoServer.address, requestBytes },
      loadOptions(1),
    );
    await echoServer.close();
    const single = await loadInWorker(inferScenario(host.address, "ctr_prediction", 1), loadOptions(1));
    results.push(
      result({
        case: "single-row ctr ModelInfer at concurrency 1 vs bare grpc-js echo (p99)",
        metric: "p99 latency",
        unit: "ms",
        value: single.p99Ms,
        baseline: "grpc-js echo, same message sizes",
        baseline_value: echoRun.p99Ms,
        lowerIsBetter: true,
        // At most 2x the echo's p99, so at least 0.5 with the ratio oriented higher-is-better.
        target_ratio: 0.5,
      }),
    );
  } finally {
    client.close();
    await host.shutdown();
    rmSync(root, { recursive: true, force: true });
  }
  return newReport("predictor", results);
}
