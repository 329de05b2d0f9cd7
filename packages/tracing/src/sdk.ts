import { GrpcInstrumentation } from "@opentelemetry/instrumentation-grpc";
import { envDetector, hostDetector, type ResourceDetector } from "@opentelemetry/resources";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { samplerFromEnv } from "./sampler.js";

/**
 * Health checks and reflection are polled by kubelet and tooling every few
 * seconds; tracing them would bury the domain traces in root spans.
 */
const IGNORED_METHODS = ["Check", "Watch", "ServerReflectionInfo"];

/**
 * The SDK's process detector exports `process.command_args`, `process.command`
 * and `process.executable.path`: a traced CLI call would send its flags
 * (`--features '{...}'`, a token) to the collector, and paths describe the
 * host. This one keeps what identifies the runtime and nothing that can hold
 * input.
 */
const safeProcessDetector: ResourceDetector = {
  detect: () => ({
    attributes: {
      "process.pid": process.pid,
      "process.runtime.name": "nodejs",
      "process.runtime.version": process.versions.node,
      "process.runtime.description": "Node.js",
    },
  }),
};

/**
 * Starts the OpenTelemetry SDK the way the OpenTelemetry demo does: gRPC
 * instrumentation only, and exporter, protocol, sampler, resource and
 * propagators from the standard OTEL_* variables (NodeSDK reads them). The
 * sampler named by OTEL_TRACES_SAMPLER is wrapped so that queued work linked
 * to a kept trace is kept too (sampler.ts). Metrics and logs are not sent over
 * OTLP: prescient exposes Prometheus metrics and writes pino logs, so only
 * traces go to the collector. Returns the SDK's shutdown.
 */
export function startSdk(env: Readonly<Record<string, string | undefined>>): () => Promise<void> {
  const named =
    Boolean(env.OTEL_SERVICE_NAME) || /(^|,)\s*service\.name=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? "");
  const sdk = new NodeSDK({
    instrumentations: [new GrpcInstrumentation({ ignoreGrpcMethods: IGNORED_METHODS })],
    metricReaders: [],
    logRecordProcessors: [],
    sampler: samplerFromEnv(env),
    // Explicit, so OTEL_NODE_RESOURCE_DETECTORS cannot bring the process detector back.
    resourceDetectors: [envDetector, hostDetector, safeProcessDetector],
    // Better than "unknown_service:node" when a local run forgets OTEL_SERVICE_NAME.
    ...(named ? {} : { serviceName: "prescient" }),
  });
  sdk.start();
  return () => sdk.shutdown();
}
