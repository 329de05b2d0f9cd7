import { monitorEventLoopDelay } from "node:perf_hooks";
import { type Client, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { executorV1 } from "@prescient/contracts";
import { afterEach, describe, expect, it } from "vitest";
import { unary } from "./handlers.js";
import { checkHealth } from "./health-client.js";
import { ServiceHost } from "./service-host.js";

const EXECUTOR = "prescient.executor.v1.ExecutorService";
const hosts: ServiceHost[] = [];
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(hosts.splice(0).map((h) => h.shutdown()));
});

/** An executor whose EnqueueMany answers with what it received. */
async function startHost(): Promise<{ host: ServiceHost; received: executorV1.EnqueueManyRequest[] }> {
  const host = new ServiceHost({ address: "127.0.0.1:0", decoding: { sliceMs: 2 } });
  hosts.push(host);
  const received: executorV1.EnqueueManyRequest[] = [];
  const impl: Record<string, unknown> = {};
  impl.enqueueMany = unary(EXECUTOR, "EnqueueMany", async (req: executorV1.EnqueueManyRequest) => {
    received.push(req);
    return { results: req.tasks.map((_, i) => ({ taskId: String(i), deduplicated: false })) };
  });
  host.addService(EXECUTOR, executorV1.ExecutorServiceService, impl as never);
  await host.start();
  host.setServing(EXECUTOR, true);
  return { host, received };
}

const request = (tasks: number, features: number): executorV1.EnqueueManyRequest => ({
  tasks: Array.from({ length: tasks }, (_, i) => ({
    key: { tenant: "t", taskType: "ctr_prediction", entityId: `e-${i}` },
    priority: 1,
    reason: 1,
    features: Object.fromEntries(
      Array.from({ length: features }, (_, j) => [`f${j}`, { text: "x".repeat(40) }]),
    ),
  })),
});

/** Sends raw bytes to a unary method, as a client whose encoder is not ours would. */
function sendBytes(
  host: ServiceHost,
  path: string,
  bytes: Buffer,
): Promise<{ code: number; details: string }> {
  const client = new (executorV1.ExecutorServiceClient as unknown as new (a: string, c: unknown) => Client)(
    host.address,
    credentials.createInsecure(),
  );
  clients.push(client);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      new Metadata(),
      (e: ServiceError | null) => resolve({ code: e?.code ?? status.OK, details: e?.details ?? "" }),
    );
  });
}

describe("requests decoded in slices", () => {
  it("holds the event loop for a fraction of a one-piece decode, answers health checks meanwhile, and hands the handler the same request", async () => {
    const { host, received } = await startHost();
    const bytes = Buffer.from(executorV1.EnqueueManyRequest.encode(request(1000, 200)).finish());
    expect(bytes.length).toBeGreaterThan(8 * 1024 * 1024);
    let started = performance.now();
    const expected = executorV1.EnqueueManyRequest.decode(bytes);
    const onePieceMs = performance.now() - started;

    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    let done = false;
    started = performance.now();
    const sent = sendBytes(host, "/prescient.executor.v1.ExecutorService/EnqueueMany", bytes).finally(() => {
      done = true;
    });
    let answeredMeanwhile = 0;
    while (!done) {
      expect(await checkHealth(host.address, EXECUTOR)).toBe("SERVING");
      if (!done) answeredMeanwhile++;
    }
    loop.disable();
    expect((await sent).code).toBe(status.OK);
    expect(received).toHaveLength(1);
    expect(received[0]).toEqual(expected);
    expect(answeredMeanwhile).toBeGreaterThan(1);
    // grpc-js alone would hold the loop for the whole decode at least.
    expect(loop.max / 1e6).toBeLessThan(onePieceMs / 2);
  });

  it("decodes small requests as before", async () => {
    const { host, received } = await startHost();
    const small = request(2, 2);
    const bytes = Buffer.from(executorV1.EnqueueManyRequest.encode(small).finish());
    expect((await sendBytes(host, "/prescient.executor.v1.ExecutorService/EnqueueMany", bytes)).code).toBe(
      status.OK,
    );
    expect(received[0]).toEqual(executorV1.EnqueueManyRequest.decode(bytes));
  });

  it("answers a large request that does not decode as grpc-js answers any: INTERNAL, and the handler never runs", async () => {
    const { host, received } = await startHost();
    const bytes = Buffer.from(executorV1.EnqueueManyRequest.encode(request(500, 16)).finish());
    // A length prefix in the last task that runs past the end of the message.
    const truncated = bytes.subarray(0, bytes.length - 5);
    const answer = await sendBytes(host, "/prescient.executor.v1.ExecutorService/EnqueueMany", truncated);
    expect(answer.code).toBe(status.INTERNAL);
    expect(answer.details).toMatch(/^Error deserializing request/);
    expect(received).toHaveLength(0);
    expect(await checkHealth(host.address, EXECUTOR)).toBe("SERVING");
  });
});
