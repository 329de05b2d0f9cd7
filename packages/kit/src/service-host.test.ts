import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { type Client, credentials, loadPackageDefinition, type ServiceError, status } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { executorV1 } from "@prescient/contracts";
import { InvalidArgumentError, UnavailableError } from "@prescient/core";
import { afterEach, describe, expect, it } from "vitest";
import { callUnary } from "./client.js";
import { unary } from "./handlers.js";
import { checkHealth } from "./health-client.js";
import { ServiceHost } from "./service-host.js";

const EXECUTOR = "prescient.executor.v1.ExecutorService";
const hosts: ServiceHost[] = [];
/** Per Pause call, in order: how often its onCancel listener ran, and its taken-back twin's. */
const pauseCancels: Array<{ told: number; takenBack: number }> = [];

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.shutdown()));
});

/** An executor whose Pause waits `delayMs` and whose Resume throws what it is told to. */
async function startHost(delayMs = 0, resumeError?: Error): Promise<ServiceHost> {
  const host = new ServiceHost({ address: "127.0.0.1:0", drainTimeoutMs: 2000 });
  hosts.push(host);
  const notImplemented = async (): Promise<never> => {
    throw new UnavailableError("not in this test");
  };
  const impl: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(executorV1.ExecutorServiceService)) {
    impl[name] = unary(EXECUTOR, method.path, notImplemented);
  }
  impl.pause = unary(EXECUTOR, "Pause", async (_req: executorV1.PauseRequest, ctx) => {
    const cancels = { told: 0, takenBack: 0 };
    pauseCancels.push(cancels);
    ctx.onCancel(() => cancels.told++);
    ctx.onCancel(() => cancels.takenBack++)();
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (cancels.told > 0) throw new Error("aborted");
    return {};
  });
  impl.resume = unary(EXECUTOR, "Resume", async () => {
    if (resumeError) throw resumeError;
    return {};
  });
  host.addService(EXECUTOR, executorV1.ExecutorServiceService, impl as never);
  await host.start();
  return host;
}

const client = (host: ServiceHost) =>
  new executorV1.ExecutorServiceClient(host.address, credentials.createInsecure());

describe("ServiceHost", () => {
  it("reports NOT_SERVING until the service says it is ready", async () => {
    const host = await startHost();
    expect(await checkHealth(host.address, EXECUTOR)).toBe("NOT_SERVING");
    expect(await checkHealth(host.address)).toBe("NOT_SERVING");
    host.setServing(EXECUTOR, true);
    expect(await checkHealth(host.address, EXECUTOR)).toBe("SERVING");
    expect(await checkHealth(host.address)).toBe("SERVING");
    expect(await checkHealth(host.address, "no.such.Service")).toBe("SERVICE_UNKNOWN");
  });

  it("maps domain errors to status codes at the boundary", async () => {
    const host = await startHost(0, new InvalidArgumentError("bad thing"));
    const c = client(host);
    const error = (await callUnary(c.resume.bind(c), {}).catch((e: unknown) => e)) as ServiceError;
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toBe("bad thing");
    c.close();
  });

  it("hides unexpected errors behind INTERNAL", async () => {
    const host = await startHost(0, new TypeError("x is undefined"));
    const c = client(host);
    const error = (await callUnary(c.resume.bind(c), {}).catch((e: unknown) => e)) as ServiceError;
    expect(error.code).toBe(status.INTERNAL);
    c.close();
  });

  it("drains: an in-flight call finishes, health turns NOT_SERVING, new calls are refused", async () => {
    const host = await startHost(300);
    host.setServing(EXECUTOR, true);
    const c = client(host);
    const inFlight = callUnary(c.pause.bind(c), {});
    await new Promise((r) => setTimeout(r, 50));
    const closing = host.shutdown();
    await expect(inFlight).resolves.toEqual({});
    await closing;
    const after = (await callUnary(c.pause.bind(c), {}, { timeoutMs: 1000 }).catch(
      (e: unknown) => e,
    )) as ServiceError;
    expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(after.code);
    c.close();
  });

  it("honours client deadlines", async () => {
    const host = await startHost(1000);
    const c = client(host);
    const error = (await callUnary(c.pause.bind(c), {}, { timeoutMs: 100 }).catch(
      (e: unknown) => e,
    )) as ServiceError;
    expect(error.code).toBe(status.DEADLINE_EXCEEDED);
    c.close();
  });

  it("tells a handler's onCancel listeners when the client cancels, never once the call is answered", async () => {
    const host = await startHost(200);
    const c = client(host);
    pauseCancels.length = 0;
    await callUnary(c.pause.bind(c), {});
    const controller = new AbortController();
    const cancelled = callUnary(c.pause.bind(c), {}, { signal: controller.signal }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    expect(((await cancelled) as ServiceError).code).toBe(status.CANCELLED);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // grpc-js reports the answered call's stream close as a cancellation too; it tells no listener.
    // The cancelled call's listener is told once, and a listener taken back is never told.
    expect(pauseCancels).toEqual([
      { told: 0, takenBack: 0 },
      { told: 1, takenBack: 0 },
    ]);
    c.close();
  });

  it("serves reflection from the exact descriptor set", async () => {
    const host = await startHost();
    const root = dirname(createRequire(import.meta.url).resolve("@grpc/reflection/package.json"));
    const def = loadSync(join(root, "build/proto/grpc/reflection/v1/reflection.proto"), { oneofs: true });
    const pkg = loadPackageDefinition(def) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: new (a: string, c: unknown) => Client } } };
    };
    const reflection = new pkg.grpc.reflection.v1.ServerReflection(
      host.address,
      credentials.createInsecure(),
    );
    // proto-loader's client is dynamic; call through it directly.
    const dynamic = reflection as unknown as {
      ServerReflectionInfo(): NodeJS.ReadWriteStream & { write(m: unknown): void };
    };
    const stream = dynamic.ServerReflectionInfo();
    const answers: Record<string, unknown>[] = [];
    const done = new Promise<void>((resolve) => stream.on("end", () => resolve()));
    stream.on("data", (m: Record<string, unknown>) => answers.push(m));
    stream.write({ listServices: "*" });
    stream.write({ fileContainingSymbol: "prescient.executor.v1.ExecutorService" });
    stream.end();
    await done;
    reflection.close();
    const services = (answers[0]!.listServicesResponse as { service: { name: string }[] }).service.map(
      (s) => s.name,
    );
    expect(services).toEqual([EXECUTOR]);
    const files = (
      answers[1]!.fileDescriptorResponse as { fileDescriptorProto: Buffer[] }
    ).fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
    expect(files[0]?.name).toBe("prescient/executor/v1/executor.proto");
    expect(files.map((f) => f.name)).toContain("prescient/common/v1/common.proto");
    expect(files.map((f) => f.name)).toContain("google/protobuf/timestamp.proto");
  });
});

describe("callUnary", () => {
  it("cancels on abort and leaves no listener behind on a shared signal", async () => {
    const host = await startHost(500);
    const c = client(host);
    const controller = new AbortController();
    await callUnary(c.resume.bind(c), {}, { signal: controller.signal });
    await callUnary(c.resume.bind(c), {}, { signal: controller.signal });
    expect(EventEmitter.getEventListeners(controller.signal, "abort")).toHaveLength(0);
    const slow = callUnary(c.pause.bind(c), {}, { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    expect(((await slow) as ServiceError).code).toBe(status.CANCELLED);
    c.close();
  });
});
