import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type OtlpReceiver, startOtlpReceiver } from "./otlp-receiver.test-util.js";

/**
 * The preload as services run it: a child `node --import @prescient/tracing/preload`
 * (resolved through the package's exports, as in the Kubernetes command) that
 * exports to a loopback OTLP/HTTP receiver. The child needs JavaScript, so the
 * package is built first.
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL("../../../", import.meta.url));
const fixture = fileURLToPath(new URL("./preload.fixture.mjs", import.meta.url));

// OTLP kinds as the receiver sees them.
const SERVER = 2;
const CLIENT = 3;

async function child(mode: string, otel: Record<string, string>): Promise<Record<string, unknown>> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    // The child must see only the OTEL_* of the case, and no loader that vitest set.
    if (value !== undefined && !key.startsWith("OTEL_") && key !== "NODE_OPTIONS") env[key] = value;
  }
  const { stdout } = await run(process.execPath, ["--import", "@prescient/tracing/preload", fixture, mode], {
    cwd: root,
    env: { ...env, ...otel },
    timeout: 20_000,
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  await run(process.execPath, [`${root}node_modules/typescript/bin/tsc`, "-b", "packages/tracing"], {
    cwd: root,
  });
});

describe("preload with an endpoint", () => {
  let receiver: OtlpReceiver;
  let otel: Record<string, string>;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "tracing-test",
    };
  });
  afterAll(() => receiver.close());
  beforeEach(() => {
    receiver.spans.length = 0;
  });

  it("exports one trace: client span, server span under it, manual span under that", async () => {
    const result = await child("call", otel);
    expect(result.started).toBe(true);

    const spans = receiver.spans;
    expect(spans).toHaveLength(3);
    const client = spans.find((s) => s.kind === CLIENT);
    const server = spans.find((s) => s.kind === SERVER);
    const manual = spans.find((s) => s.name === "echo.work");
    expect(client?.name).toBe("grpc.prescient.test.v1.EchoService/Echo");
    expect(client?.parentSpanId).toBe("");
    expect(server?.parentSpanId).toBe(client?.spanId);
    expect(manual?.parentSpanId).toBe(server?.spanId);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([client?.traceId]));
    expect(new Set(spans.map((s) => s.serviceName))).toEqual(new Set(["tracing-test"]));
    // Inside the handler, currentTraceparent names the manual span.
    expect(result.handlerTraceparent).toBe(`00-${manual?.traceId}-${manual?.spanId}-01`);
  });

  it("starts the SDK, so spans record", async () => {
    const result = await child("probe", otel);
    expect(result).toMatchObject({ started: true, sdkLoaded: true, recording: true });
    expect(result.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it("flushes on beforeExit when the process just runs out of work", async () => {
    await child("natural", otel);
    expect(receiver.spans.map((s) => s.name)).toEqual(["natural"]);
  });

  it("honours OTEL_TRACES_SAMPLER", async () => {
    const result = await child("call", { ...otel, OTEL_TRACES_SAMPLER: "always_off" });
    expect(result.started).toBe(true);
    expect(receiver.spans).toEqual([]);
  });
});

describe("preload without an endpoint", () => {
  it("starts nothing and loads no SDK", async () => {
    expect(await child("probe", {})).toEqual({
      started: false,
      sdkLoaded: false,
      recording: false,
      traceparent: "",
    });
  });

  it("starts nothing when disabled, even with an endpoint", async () => {
    const result = await child("probe", {
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9",
      OTEL_SDK_DISABLED: "true",
    });
    expect(result).toMatchObject({ started: false, sdkLoaded: false });
  });
});
