import { GrpcInstrumentation } from "@opentelemetry/instrumentation-grpc";
import { NodeSDK } from "@opentelemetry/sdk-node";

/**
 * Health checks and reflection are polled by kubelet and tooling every few
 * seconds; tracing them would bury the domain traces in root spans.
 */
const IGNORED_METHODS = ["Check", "Watch", "ServerReflectionInfo"];

/**
 * Starts the OpenTelemetry SDK the way the OpenTelemetry demo does: gRPC
 * instrumentation only, and exporter, protocol, sampler, resource and
 * propagators from the standard OTEL_* variables (NodeSDK reads them).
 * Metrics and logs are not sent over OTLP: prescient exposes Prometheus
 * metrics and writes pino logs, so only traces go to the collector.
 * Returns the SDK's shutdown.
 */
export function startSdk(env: Readonly<Record<string, string | undefined>>): () => Promise<void> {
  const named =
    Boolean(env.OTEL_SERVICE_NAME) || /(^|,)\s*service\.name=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? "");
  const sdk = new NodeSDK({
    instrumentations: [new GrpcInstrumentation({ ignoreGrpcMethods: IGNORED_METHODS })],
    metricReaders: [],
    logRecordProcessors: [],
    // Better than "unknown_service:node" when a local run forgets OTEL_SERVICE_NAME.
    ...(named ? {} : { serviceName: "prescient" }),
  });
  sdk.start();
  return () => sdk.shutdown();
}
