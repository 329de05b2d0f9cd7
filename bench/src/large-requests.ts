import { monitorEventLoopDelay } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { startMesh } from "@prescient/cli";
import { freePort } from "@prescient/kit/testing";
import { largeCases } from "./large-requests-cases.js";
import { type BenchReport, type BenchResult, newReport, result } from "./report.js";

/**
 * Issue 13's bounded-work target: no single request of up to 16 MB holds the
 * event loop more than 50 ms. The whole mesh runs on this thread (as
 * `prescient up`); a worker thread builds and sends each request, so its
 * encoding is not counted. For each request the longest event-loop stall on
 * this thread is read from monitorEventLoopDelay. Baseline, same run: a bare
 * grpc-js server on this thread that only decodes the same bytes with the
 * generated code, the least any service must do with them.
 */
const identity = (b: Buffer): Buffer => b;
const TARGET_MS = 50;

interface Sent {
  ms: number;
  code: number;
  details: string;
}

function sendFromWorker(address: string, path: string, caseIndex: number): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./large-requests-worker.js", import.meta.url), {
      workerData: { address, path, caseIndex },
    });
    worker.once("message", (m: Sent) => {
      void worker.terminate();
      resolve(m);
    });
    worker.once("error", reject);
  });
}

/** The longest stall of this thread while `work` runs, in ms. */
async function longestStall<T>(work: () => Promise<T>): Promise<{ stallMs: number; value: T }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const value = await work();
  h.disable();
  return { stallMs: h.max / 1e6, value };
}

async function startDecodeOnly(): Promise<{ address: string; close(): void }> {
  const server = new Server({ "grpc.max_receive_message_length": 16 * 1024 * 1024 });
  const handlers: Record<string, (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => void> =
    {};
  const definition: Record<string, object> = {};
  largeCases.forEach((c, i) => {
    const name = `Case${i}`;
    definition[name] = {
      path: `/bench.DecodeOnly/${name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    };
    handlers[name] = (call, cb) => {
      c.decode(call.request);
      cb(null, Buffer.alloc(0));
    };
  });
  // biome-ignore lint/suspicious/noExplicitAny: a raw-bytes service built at run time
  server.addService(definition as any, handlers as any);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { address: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
}

export async function run(): Promise<BenchReport> {
  const address = `127.0.0.1:${await freePort()}`;
  const mesh = await startMesh({
    services: ["analyzer", "predictor", "precomputer", "executor", "cache"],
    address,
    env: { ...process.env, LOG_LEVEL: "fatal", REDIS_URL: "" },
  });
  await mesh.ready;
  const baseline = await startDecodeOnly();
  const results: BenchResult[] = [];
  try {
    const only = process.env.LARGE_REQUESTS_ONLY;
    for (const [i, c] of largeCases.entries()) {
      if (only !== undefined && !c.name.includes(only)) continue;
      // Once untimed, so first-use costs (model warm-up, code paths) are not charged to the request.
      await sendFromWorker(address, c.path, i);
      const service = await longestStall(() => sendFromWorker(address, c.path, i));
      const base = await longestStall(() =>
        sendFromWorker(baseline.address, `/bench.DecodeOnly/Case${i}`, i),
      );
      const status = service.value.code === 0 ? "OK" : `code ${service.value.code}`;
      process.stderr.write(
        `${c.name}: ${status} in ${service.value.ms.toFixed(0)} ms, longest stall ${service.stallMs.toFixed(1)} ms ` +
          `(decode only ${base.stallMs.toFixed(1)} ms)${service.stallMs > TARGET_MS ? "  OVER 50 ms" : ""}\n`,
      );
      results.push(
        result({
          case: `${c.name} (${status})`,
          metric: "longest event-loop stall",
          unit: "ms",
          value: service.stallMs,
          baseline: "decode only (bare grpc-js)",
          baseline_value: base.stallMs,
          lowerIsBetter: true,
          target_ratio: null,
        }),
      );
    }
  } finally {
    baseline.close();
    await mesh.host.shutdown();
  }
  return newReport("large-requests", results);
}
