import { monitorEventLoopDelay } from "node:perf_hooks";
import { type Client, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { analyzerV1, executorV1 } from "@prescient/contracts";
import { afterEach, describe, expect, it } from "vitest";
import { clientStream, unary } from "./handlers.js";
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

/**
 * The longest the loop was held, as a share of a one-piece decode: the best
 * of up to three tries. On a shared machine one preemption of the process
 * can exceed the bound once; a decoder that does not slice fails every try.
 */
async function bestOfThree(measure: () => Promise<number>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3 && best >= 0.5; i++) best = Math.min(best, await measure());
  return best;
}

describe("requests decoded in slices", () => {
  it("holds the event loop for a fraction of a one-piece decode, answers health checks meanwhile, and hands the handler the same request", async () => {
    const { host, received } = await startHost();
    const bytes = Buffer.from(executorV1.EnqueueManyRequest.encode(request(1000, 200)).finish());
    expect(bytes.length).toBeGreaterThan(8 * 1024 * 1024);
    const held = await bestOfThree(async () => {
      received.length = 0;
      const started = performance.now();
      const expected = executorV1.EnqueueManyRequest.decode(bytes);
      const onePieceMs = performance.now() - started;
      const loop = monitorEventLoopDelay({ resolution: 1 });
      loop.enable();
      let done = false;
      const sent = sendBytes(host, "/prescient.executor.v1.ExecutorService/EnqueueMany", bytes).finally(
        () => {
          done = true;
        },
      );
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
      return loop.max / 1e6 / onePieceMs;
    });
    // grpc-js alone would hold the loop for the whole decode at least.
    expect(held).toBeLessThan(0.5);
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

describe("client-stream messages decoded in slices", () => {
  const ANALYZER = "prescient.analyzer.v1.AnalyzerService";
  const path = "/prescient.analyzer.v1.AnalyzerService/RecordQueries";

  async function startAnalyzer(): Promise<{
    host: ServiceHost;
    received: analyzerV1.RecordQueriesRequest[];
  }> {
    const host = new ServiceHost({ address: "127.0.0.1:0", decoding: { sliceMs: 2 } });
    hosts.push(host);
    const received: analyzerV1.RecordQueriesRequest[] = [];
    const impl: Record<string, unknown> = {
      recordQueries: clientStream(
        ANALYZER,
        "RecordQueries",
        async (messages: AsyncIterable<analyzerV1.RecordQueriesRequest>) => {
          for await (const m of messages) received.push(m);
          return { accepted: BigInt(received.length), rejected: 0n, rejections: [] };
        },
      ),
    };
    host.addService(ANALYZER, analyzerV1.AnalyzerServiceService, impl as never);
    await host.start();
    host.setServing(ANALYZER, true);
    return { host, received };
  }

  /** Streams raw messages to a client-streaming method. */
  function streamBytes(host: ServiceHost, messages: Buffer[]): Promise<{ code: number; details: string }> {
    const client = new (analyzerV1.AnalyzerServiceClient as unknown as new (a: string, c: unknown) => Client)(
      host.address,
      credentials.createInsecure(),
    );
    clients.push(client);
    return new Promise((resolve) => {
      const call = client.makeClientStreamRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        new Metadata(),
        (e: ServiceError | null) => resolve({ code: e?.code ?? status.OK, details: e?.details ?? "" }),
      );
      for (const m of messages) call.write(m);
      call.end();
    });
  }

  const events = (n: number): analyzerV1.RecordQueriesRequest => ({
    events: Array.from({ length: n }, (_, i) => ({
      tenant: "t",
      taskType: "ctr_prediction",
      entityId: `e-${i}`,
      key: "",
      userId: `u-${i % 100}`,
      outcome: 1,
      computeMs: 1,
      latencyMs: 2,
    })),
  });

  it("holds the event loop for a fraction of a one-piece decode of a large stream message, in order", async () => {
    const { host, received } = await startAnalyzer();
    const small = Buffer.from(analyzerV1.RecordQueriesRequest.encode(events(3)).finish());
    const big = Buffer.from(analyzerV1.RecordQueriesRequest.encode(events(120_000)).finish());
    expect(big.length).toBeGreaterThan(5 * 1024 * 1024);
    const held = await bestOfThree(async () => {
      received.length = 0;
      const started = performance.now();
      const expected = analyzerV1.RecordQueriesRequest.decode(big);
      const onePieceMs = performance.now() - started;
      const loop = monitorEventLoopDelay({ resolution: 1 });
      loop.enable();
      const answer = await streamBytes(host, [small, big, small]);
      loop.disable();
      expect(answer.code).toBe(status.OK);
      expect(received).toEqual([
        analyzerV1.RecordQueriesRequest.decode(small),
        expected,
        analyzerV1.RecordQueriesRequest.decode(small),
      ]);
      return loop.max / 1e6 / onePieceMs;
    });
    expect(held).toBeLessThan(0.5);
  });

  it("answers a stream message that does not decode with INTERNAL, as grpc-js does", async () => {
    const { host } = await startAnalyzer();
    const big = Buffer.from(analyzerV1.RecordQueriesRequest.encode(events(5_000)).finish());
    const answer = await streamBytes(host, [big.subarray(0, big.length - 3)]);
    expect(answer.code).toBe(status.INTERNAL);
    expect(answer.details).toMatch(/^Error deserializing request/);
  });
});
