/**
 * Whether this process traces, decided from the standard OTEL_* variables
 * alone. Kept free of OpenTelemetry imports so that the preload can decide
 * before loading the SDK: a process that does not trace pays for nothing.
 */
export interface TracingDecision {
  readonly enabled: boolean;
  /** Why, for a log line or a test assertion. */
  readonly reason: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Tracing is on when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
 * or OTEL_EXPORTER_OTLP_ENDPOINT), or when OTEL_TRACES_EXPORTER explicitly asks
 * for the console exporter (local debugging). OTEL_SDK_DISABLED=true and
 * OTEL_TRACES_EXPORTER=none turn it off. The SDK's own default endpoint
 * (localhost:4318) is deliberately not assumed: no endpoint means no tracing.
 */
export function tracingDecision(env: Env): TracingDecision {
  if (flag(env.OTEL_SDK_DISABLED)) return { enabled: false, reason: "OTEL_SDK_DISABLED is true" };
  const exporters = list(env.OTEL_TRACES_EXPORTER);
  if (exporters[0] === "none") return { enabled: false, reason: "OTEL_TRACES_EXPORTER is none" };
  const endpoint =
    nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ?? nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (endpoint !== undefined) return { enabled: true, reason: `exporting to ${endpoint}` };
  if (exporters.includes("console")) return { enabled: true, reason: "OTEL_TRACES_EXPORTER is console" };
  return { enabled: false, reason: "no OTLP endpoint is set" };
}

function flag(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === "true";
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "" && s !== "null");
}
