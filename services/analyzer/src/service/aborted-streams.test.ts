import { Client, credentials, Metadata } from "@grpc/grpc-js";
import { analyzerV1 } from "@prescient/contracts";
import { handlerLog, ServiceHost } from "@prescient/kit";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type AnalyzerRuntime, startAnalyzer } from "./start-analyzer.js";

const path = "/prescient.analyzer.v1.AnalyzerService/RecordQueries";

/** Opens RecordQueries, writes what it is given as raw bytes, and lets the caller end it. */
function openStream(client: Client, frames: Buffer[]) {
  const call = client.makeClientStreamRequest(
    path,
    (b: Buffer) => b,
    (b: Buffer) => b,
    new Metadata(),
    {},
    () => undefined,
  );
  for (const f of frames) call.write(f);
  return call;
}

describe("RecordQueries streams that clients drop or garble", () => {
  let host: ServiceHost;
  let runtime: AnalyzerRuntime;
  let client: Client;

  beforeAll(async () => {
    host = new ServiceHost({ address: "127.0.0.1:0" });
    runtime = await startAnalyzer(host, { retrainIntervalMs: 0, cleanupIntervalMs: 0 });
    await host.start();
    await runtime.ready;
    client = new Client(host.address, credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await host?.shutdown();
  });

  it("log at most one warn line for a burst, and no error", async () => {
    const warn = vi.spyOn(handlerLog, "warn");
    const error = vi.spyOn(handlerLog, "error");
    const valid = Buffer.from(analyzerV1.RecordQueriesRequest.encode({ events: [] }).finish());
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x12]);
    const ended: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      const call = openStream(client, i % 2 === 0 ? [valid] : [valid, garbage]);
      ended.push(new Promise((r) => call.on("status", () => r())));
      if (i % 2 === 0) setTimeout(() => call.cancel(), 20);
      else setTimeout(() => call.end(), 20);
    }
    await Promise.all(ended);
    // Let the server notice the last cancels.
    await new Promise((r) => setTimeout(r, 300));
    expect(error).not.toHaveBeenCalled();
    expect(warn.mock.calls.length).toBeLessThanOrEqual(1);
    warn.mockRestore();
    error.mockRestore();
  });
});
