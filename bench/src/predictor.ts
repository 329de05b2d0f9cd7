import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { inference } from "@prescient/contracts";
import { callUnary, clientChannelOptions, disableOrtTelemetry, ServiceHost } from "@prescient/kit";
import { ortSessionOptions, parseModelConfig, shippedModelsPath, startPredictor } from "@prescient/predictor";
import { heavyMlp } from "@prescient/predictor/models";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { pino } from "pino";
import { startEchoServer } from "./echo-server.js";
import { closedLoop, type LoadOptions, type LoadResult, loadOptions } from "./load.js";
import { loadInWorker } from "./load-worker.js";
import { CpuProbe } from "./proc-cpu.js";
import { type BenchReport, type BenchResult, newReport, result } from "./report.js";
import type { ScenarioArgs } from "./scenarios.js";

/**
 * Issue 16's predictor benchmark, every baseline measured in the same run:
 * 1. ModelInfer with 256 rows over gRPC against raw InferenceSession.run of the
 *    same 256 rows, on the compute-bound MLP, the session built from the same
 *    model config as the served one (same threads);
 *    The same with two instances on worker threads (run_in_worker), whose
 *    batches compute at once, beside the event loop's gRPC work;
 * 2. single-row requests at concurrency 64 on the MLP, dynamic batching on against off,
 *    on the event loop and with the session on a worker thread;
 * 3. latency figures on the shipped ctr model, which runs 256 rows in about 15 µs,
 *    so that a throughput ratio against it would measure only gRPC: 256 rows at
 *    concurrency 1 against raw run, single rows against a bare grpc-js echo (p99).
 * Cases that are compared run alternately, BENCH_ROUNDS times (default 3), so a
 * burst of load from elsewhere on a shared machine falls on both alike. Load
 * generators run in worker threads (the echo's too), so server and client each
 * get a core. CPU per row is this process's (server, client and ORT threads together).
 * BENCH_PREDICTOR_CASES picks cases (overhead, batching, latency; default all).
 */
const FEATURES = 8;
const progress = (line: string): void => {
  process.stderr.write(`predictor bench: ${line}\n`);
};

/** Model configs of the served cases, by model name; the heavy ones serve the MLP. */
const heavyConfigs: Record<string, string> = {
  // 256-row requests, 4 in flight, each run on its own as the raw baseline's are: the
  // others wait in the queue, so the session never idles between runs. One intra-op
  // thread: onnxruntime-node computes on the event loop's thread, and on a 2-core
  // machine a second ORT thread only takes the core the load generator needs.
  heavy_wide: "max_batch_size: 256\nmax_queue_delay_ms: 0\nintra_op_threads: 1\n",
  // Tuned for throughput, as Triton's guide does: a short wait lets concurrent single rows meet.
  heavy_batched: "max_batch_size: 64\nmax_queue_delay_ms: 1\nmax_queue_size: 100000\n",
  heavy_unbatched: "max_batch_size: 64\ndynamic_batching: false\nmax_queue_size: 100000\n",
  // The same, each instance's session on a worker thread (run_in_worker).
  heavy_wide_worker:
    "max_batch_size: 256\nmax_queue_delay_ms: 0\nintra_op_threads: 1\nrun_in_worker: true\ninstance_count: 2\n",
  heavy_batched_worker:
    "max_batch_size: 64\nmax_queue_delay_ms: 1\nmax_queue_size: 100000\nrun_in_worker: true\n",
  heavy_unbatched_worker:
    "max_batch_size: 64\ndynamic_batching: false\nmax_queue_size: 100000\nrun_in_worker: true\n",
};

const ctrConfigs: Record<string, string> = {
  ctr_wide: "max_batch_size: 1024\nmax_queue_delay_ms: 0\n",
};

function repository(heavy: Uint8Array): string {
  const root = mkdtempSync(join(tmpdir(), "prescient-bench-models-"));
  for (const [name, config] of Object.entries(heavyConfigs)) {
    mkdirSync(join(root, name, "1"), { recursive: true });
    writeFileSync(join(root, name, "1", "model.onnx"), heavy);
    writeFileSync(join(root, name, "config.yaml"), config);
  }
  const shipped = readFileSync(join(shippedModelsPath, "ctr_prediction", "config.yaml"), "utf8");
  for (const [name, config] of Object.entries({ ...ctrConfigs, ctr_prediction: shipped })) {
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

interface Measured extends LoadResult {
  /** CPU µs of this process per call over the measured phase. */
  cpuUsPerCall: number;
}

/** A closed loop on this thread (the raw baseline), with this process's CPU over it. */
async function measureHere(call: () => Promise<unknown>, options: LoadOptions): Promise<Measured> {
  // Warm-up outside the probe, as the worker's hooks do for served cases.
  await closedLoop(call, { ...options, durationMs: options.warmupMs, warmupMs: 0 });
  const probe = await CpuProbe.start([process.pid]);
  const load = await closedLoop(call, { ...options, warmupMs: 0 });
  const cpu = await probe.stop();
  return { ...load, cpuUsPerCall: load.calls === 0 ? 0 : cpu.totalUs / load.calls };
}

/** A closed loop in a worker against the server, with this process's CPU over its measured phase. */
async function measureServed(scenario: ScenarioArgs, options: LoadOptions): Promise<Measured> {
  let probe: Promise<CpuProbe> | undefined;
  let stopped: Promise<number> | undefined;
  const load = await loadInWorker(scenario, options, {
    onMeasureStart: () => {
      probe = CpuProbe.start([process.pid]);
      return probe;
    },
    onMeasureEnd: () => {
      stopped = probe?.then((p) => p.stop()).then((u) => u.totalUs);
      return stopped;
    },
  });
  const totalUs = (await stopped) ?? 0;
  return { ...load, cpuUsPerCall: load.calls === 0 ? 0 : totalUs / load.calls };
}

/** Runs each case in turn, BENCH_ROUNDS times over, and pools each case's rounds. */
async function alternate(
  cases: readonly ((options: LoadOptions) => Promise<Measured>)[],
  options: LoadOptions,
): Promise<Measured[]> {
  const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? "3"));
  const each: LoadOptions = {
    ...options,
    durationMs: options.durationMs / rounds,
    warmupMs: Math.min(options.warmupMs, 500),
  };
  const runs: Measured[][] = cases.map(() => []);
  for (let round = 0; round < rounds; round++)
    for (const [i, run] of cases.entries()) runs[i]!.push(await run(each));
  return runs.map((rs) => {
    const calls = rs.reduce((a, r) => a + r.calls, 0);
    const seconds = rs.reduce((a, r) => a + r.seconds, 0);
    const cpu = rs.reduce((a, r) => a + r.cpuUsPerCall * r.calls, 0);
    return {
      calls,
      errors: rs.reduce((a, r) => a + r.errors, 0),
      seconds,
      throughput: calls / seconds,
      p50Ms: Math.max(...rs.map((r) => r.p50Ms)),
      p99Ms: Math.max(...rs.map((r) => r.p99Ms)),
      cpuUsPerCall: calls === 0 ? 0 : cpu / calls,
    };
  });
}

const line = (name: string, r: Measured, rows: number): string =>
  `  ${name.padEnd(34)} ${Math.round((r.throughput * rows) / 1)
    .toLocaleString("en-US")
    .padStart(
      9,
    )} rows/s  p50 ${r.p50Ms.toFixed(3)} ms  p99 ${r.p99Ms.toFixed(3)} ms  errors ${r.errors}  cpu ${(r.cpuUsPerCall / rows).toFixed(2)} us/row\n`;

/** Raw session.run of `rows` rows with the session options the predictor gives `config`. */
async function rawSession(model: Uint8Array, config: string, name: string): Promise<InferenceSession> {
  disableOrtTelemetry();
  return InferenceSession.create(model, ortSessionOptions("cpu", parseModelConfig(config, name)));
}

export async function run(): Promise<BenchReport> {
  const heavy = heavyMlp();
  const root = repository(heavy);
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
  const wanted = new Set((process.env.BENCH_PREDICTOR_CASES ?? "overhead,batching,latency").split(","));
  const results: BenchResult[] = [];
  try {
    if (wanted.has("overhead")) {
      progress("case 1: MLP, 256 rows: raw session.run and ModelInfer over gRPC (4 in flight), alternately");
      const session = await rawSession(heavy, heavyConfigs.heavy_wide!, "heavy_wide");
      const feeds = { features: new Tensor("float32", rowsOf(256), [256, FEATURES]) };
      const [raw, served, inWorkers] = await alternate(
        [
          (o) => measureHere(() => session.run(feeds), { ...o, concurrency: 1 }),
          (o) => measureServed(inferScenario(host.address, "heavy_wide", 256), { ...o, concurrency: 4 }),
          (o) =>
            measureServed(inferScenario(host.address, "heavy_wide_worker", 256), { ...o, concurrency: 4 }),
        ],
        loadOptions(1),
      );
      await session.release();
      process.stdout.write(line("MLP raw session.run, 256 rows", raw!, 256));
      process.stdout.write(line("MLP ModelInfer 256 rows, 4 in flight", served!, 256));
      process.stdout.write(line("MLP ModelInfer 256, 2 workers", inWorkers!, 256));
      results.push(
        result({
          case: "ModelInfer 256 rows/request over gRPC (4 in flight) vs raw session.run 256 rows, compute-bound MLP (8-1024-1024-1)",
          metric: "throughput",
          unit: "rows/s",
          value: served!.throughput * 256,
          baseline: "raw InferenceSession.run, 256 rows, same session options, same process",
          baseline_value: raw!.throughput * 256,
          target_ratio: 0.8,
        }),
        result({
          case: "ModelInfer 256 rows/request over gRPC (4 in flight), 2 instances on worker threads (run_in_worker) vs raw session.run 256 rows on the calling thread, compute-bound MLP",
          metric: "throughput",
          unit: "rows/s",
          value: inWorkers!.throughput * 256,
          baseline: "raw InferenceSession.run, 256 rows, same session options, same process",
          baseline_value: raw!.throughput * 256,
          target_ratio: 0.8,
        }),
      );
    }

    if (wanted.has("batching")) {
      progress("case 2: MLP, single rows at concurrency 64, batching off and on, alternately");
      // The machine's ceiling for any single-row ModelInfer at c=64: a bare grpc-js echo of the same sizes,
      // which 3x batching off would have to exceed when off already serves a third of it.
      const oneRow = request("heavy_batched", 1);
      const echoServer = await startEchoServer(
        inference.ModelInferResponse.encode(await infer(oneRow)).finish().length,
      );
      const echoArgs: ScenarioArgs = {
        kind: "echo",
        address: echoServer.address,
        requestBytes: inference.ModelInferRequest.encode(oneRow).finish().length,
      };
      const [off, on, onWorker, offWorker, echo] = await alternate(
        [
          (o) => measureServed(inferScenario(host.address, "heavy_unbatched", 1), o),
          (o) => measureServed(inferScenario(host.address, "heavy_batched", 1), o),
          (o) => measureServed(inferScenario(host.address, "heavy_batched_worker", 1), o),
          (o) => measureServed(inferScenario(host.address, "heavy_unbatched_worker", 1), o),
          (o) => measureServed(echoArgs, o),
        ],
        loadOptions(64),
      );
      await echoServer.close();
      process.stdout.write(line("MLP c=64 single rows, batching off", off!, 1));
      process.stdout.write(line("MLP c=64 single rows, batching on", on!, 1));
      process.stdout.write(line("MLP c=64 batching on, worker", onWorker!, 1));
      process.stdout.write(line("MLP c=64 batching off, worker", offWorker!, 1));
      process.stdout.write(line("echo c=64, same sizes", echo!, 1));
      results.push(
        result({
          case: "single-row ModelInfer at concurrency 64, compute-bound MLP (8-1024-1024-1), batching on vs off",
          metric: "throughput",
          unit: "req/s",
          value: on!.throughput,
          baseline: "same requests, dynamic_batching: false",
          baseline_value: off!.throughput,
          target_ratio: 3,
        }),
        result({
          case: "single-row ModelInfer at concurrency 64, compute-bound MLP, batching on with the session on a worker thread vs off on the event loop",
          metric: "throughput",
          unit: "req/s",
          value: onWorker!.throughput,
          baseline: "same requests, dynamic_batching: false, on the event loop",
          baseline_value: off!.throughput,
          target_ratio: 3,
        }),
        result({
          case: "single-row ModelInfer at concurrency 64, compute-bound MLP, batching on vs a bare grpc-js echo of the same sizes (the machine's ceiling for any server)",
          metric: "throughput",
          unit: "req/s",
          value: on!.throughput,
          baseline: "grpc-js echo, same message sizes, concurrency 64",
          baseline_value: echo!.throughput,
          target_ratio: null,
        }),
        result({
          case: "single-row ModelInfer at concurrency 64, compute-bound MLP, batching off: session on a worker thread vs on the event loop",
          metric: "throughput",
          unit: "req/s",
          value: offWorker!.throughput,
          baseline: "same requests on the event loop",
          baseline_value: off!.throughput,
          target_ratio: null,
        }),
      );
    }

    if (wanted.has("latency")) {
      progress("case 3a: ctr, 256 rows at concurrency 1: raw session.run and ModelInfer, alternately");
      const ctrModel = readFileSync(join(shippedModelsPath, "ctr_prediction", "1", "model.onnx"));
      const session = await rawSession(ctrModel, ctrConfigs.ctr_wide!, "ctr_wide");
      const feeds = { features: new Tensor("float32", rowsOf(256), [256, FEATURES]) };
      const [raw, served] = await alternate(
        [
          (o) => measureHere(() => session.run(feeds), o),
          (o) => measureServed(inferScenario(host.address, "ctr_wide", 256), o),
        ],
        loadOptions(1),
      );
      await session.release();
      process.stdout.write(line("ctr raw session.run, 256 rows", raw!, 256));
      process.stdout.write(line("ctr ModelInfer 256 rows, c=1", served!, 256));
      results.push(
        result({
          // A latency figure only: the model computes in ~15 µs, so this is the cost of a gRPC call.
          case: "ctr ModelInfer 256 rows at concurrency 1 vs raw session.run 256 rows (p50; the serving path's own latency)",
          metric: "p50 latency",
          unit: "ms",
          value: served!.p50Ms,
          baseline: "raw InferenceSession.run, 256 rows, same process",
          baseline_value: raw!.p50Ms,
          lowerIsBetter: true,
          target_ratio: null,
        }),
      );

      progress(
        "case 3b: ctr, single rows at concurrency 1: echo of the same sizes and ModelInfer, alternately",
      );
      // The shipped config (no queue delay), as a latency-sensitive caller gets it.
      const one = request("ctr_prediction", 1);
      const answer = await infer(one);
      const echoServer = await startEchoServer(inference.ModelInferResponse.encode(answer).finish().length);
      const requestBytes = inference.ModelInferRequest.encode(one).finish().length;
      const [echoRun, single] = await alternate(
        [
          (o) => measureServed({ kind: "echo", address: echoServer.address, requestBytes }, o),
          (o) => measureServed(inferScenario(host.address, "ctr_prediction", 1), o),
        ],
        loadOptions(1),
      );
      await echoServer.close();
      results.push(
        result({
          case: "single-row ctr ModelInfer at concurrency 1 vs bare grpc-js echo (p99)",
          metric: "p99 latency",
          unit: "ms",
          value: single!.p99Ms,
          baseline: "grpc-js echo, same message sizes",
          baseline_value: echoRun!.p99Ms,
          lowerIsBetter: true,
          // At most 2x the echo's p99, so at least 0.5 with the ratio oriented higher-is-better.
          target_ratio: 0.5,
        }),
      );
    }
  } finally {
    client.close();
    await host.shutdown();
    rmSync(root, { recursive: true, force: true });
  }
  return newReport("predictor", results);
}
