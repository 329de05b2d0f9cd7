// Child process for worker-crash.test.ts: an executor in a process of its
// own (startExecutor on Redis, as `prescient serve executor` runs it) whose
// predictor calls are slowed down, so that the test can kill it mid-batch.
// Plain JS on the built dist, because the child runs without vitest's
// TypeScript transform. Config is one JSON argument:
//   { redisUrl, keyPrefix, predictorAddr, cacheAddr, inferDelayMs, leaseMs, claimSize, batchesInFlight }
// It prints "serving" once its workers run and "infer <model> <rows>" as
// each ModelInfer begins; SIGTERM drains it (exit 0).
import { OipPredictor, startExecutor } from "@prescient/executor";
import { ServiceHost } from "@prescient/kit";

const config = JSON.parse(process.argv[2]);
const say = (line) => process.stdout.write(`${line}\n`);

const oip = new OipPredictor(config.predictorAddr);
/** The real predictor, reached only after a delay: the batch is "in flight" meanwhile. */
const slowPredictor = {
  async infer(model, version, inputs, outputs, settings) {
    say(`infer ${model} ${inputs[0]?.shape[0] ?? 0}`);
    await new Promise((resolve) => setTimeout(resolve, config.inferDelayMs));
    return oip.infer(model, version, inputs, outputs, settings);
  },
  close: () => oip.close(),
};

const host = new ServiceHost({ address: "127.0.0.1:0", drainTimeoutMs: 30_000 });
const executor = startExecutor(host, {
  store: { redisUrl: config.redisUrl },
  predictor: slowPredictor,
  sink: config.cacheAddr,
  queue: { keyPrefix: config.keyPrefix, leaseMs: config.leaseMs },
  workers: {
    claimSize: config.claimSize,
    batchesInFlight: config.batchesInFlight,
    leaseMs: config.leaseMs,
    maxIdleMs: 20,
    workerId: "child",
  },
});
host.installSignalHandlers((code) => {
  say(`exit ${code}`);
  process.exit(code);
});
await host.start();
await executor.ready;
say("serving");
