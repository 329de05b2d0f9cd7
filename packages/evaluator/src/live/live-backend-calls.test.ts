import {
  credentials,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
} from "@grpc/grpc-js";
import { analyzerV1 } from "@prescient/contracts";
import { afterEach, describe, expect, it } from "vitest";
import type { TraceRead } from "../trace/record.js";
import { LiveBackendCalls } from "./live-backend-calls.js";

/**
 * A real AnalyzerService on loopback that answers RecordActions only after
 * `holdMs`, as a slow analyzer does, counting the calls it holds at once.
 */
async function slowAnalyzer(holdMs: number) {
  const seen = { calls: 0, actions: 0, inFlight: 0, maxInFlight: 0, largest: 0 };
  const server = new Server();
  server.addService(analyzerV1.AnalyzerServiceService, {
    recordActions(
      call: ServerUnaryCall<analyzerV1.RecordActionsRequest, analyzerV1.RecordActionsResponse>,
      done: sendUnaryData<analyzerV1.RecordActionsResponse>,
    ) {
      const n = call.request.events.length;
      seen.calls++;
      seen.inFlight++;
      seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight);
      seen.largest = Math.max(seen.largest, n);
      setTimeout(() => {
        seen.inFlight--;
        seen.actions += n;
        done(null, { accepted: BigInt(n), rejected: 0n, rejections: [] });
      }, holdMs);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { seen, addr: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
}

const read = (i: number): TraceRead => ({
  kind: "read",
  time: i,
  tenant: "acme",
  taskType: "dashboard_data",
  entity: `u${i % 7}`,
  user: `u${i % 7}`,
  key: `acme/dashboard_data/u${i % 7}`,
});

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

describe("a live replay's RecordActions", () => {
  it("keeps at most maxInFlight calls in flight against a slow analyzer, holding reads back, and loses no action", async () => {
    const analyzer = await slowAnalyzer(40);
    cleanup.push(analyzer.close);
    const failures: unknown[] = [];
    const calls = new LiveBackendCalls({
      addrs: [analyzer.addr],
      credentials: credentials.createInsecure(),
      channel: {},
      speed: 1,
      tenantOf: (t) => t,
      flushTraceMs: 60_000,
      batchSize: 5,
      maxInFlight: 2,
      timeoutMs: 5000,
      failed: (_what, e) => failures.push(e),
    });
    cleanup.push(() => calls.close());
    // Eight readers, as the pacer's slots, each waiting where read() says to before its next read.
    let next = 0;
    let held = 0;
    let gathered = 0;
    const total = 200;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < total) {
          const slot = calls.read(read(next++));
          if (slot !== undefined) {
            held++;
            gathered = Math.max(gathered, calls.gathered);
            await slot;
          }
        }
      }),
    );
    await calls.flush();
    expect(failures).toEqual([]);
    expect(analyzer.seen.maxInFlight).toBe(2);
    expect(analyzer.seen.largest).toBeLessThanOrEqual(5);
    expect(held).toBeGreaterThan(0);
    // What gathers meanwhile is bounded: a batch, and one action per waiting reader.
    expect(gathered).toBeLessThanOrEqual(5 + 8);
    expect(analyzer.seen.actions).toBe(total);
    expect(calls.counts.actions).toEqual({ sent: total, accepted: total, rejected: 0, errors: 0 });
    expect(calls.gathered).toBe(0);
  });

  it("holds nothing back while the analyzer keeps up, and sends a part batch after the reporter's interval", async () => {
    const analyzer = await slowAnalyzer(0);
    cleanup.push(analyzer.close);
    const calls = new LiveBackendCalls({
      addrs: [analyzer.addr],
      credentials: credentials.createInsecure(),
      channel: {},
      speed: 100,
      tenantOf: (t) => `${t}-run`,
      flushTraceMs: 1000,
      batchSize: 500,
      maxInFlight: 4,
      timeoutMs: 5000,
      failed: () => {},
    });
    cleanup.push(() => calls.close());
    for (let i = 0; i < 3; i++) expect(calls.read(read(i))).toBeUndefined();
    // A read with no user is no action.
    expect(calls.read({ ...read(9), user: "" })).toBeUndefined();
    expect(calls.gathered).toBe(3);
    // 1 s of trace at 100x: sent 10 ms later, without a flush.
    await new Promise((r) => setTimeout(r, 200));
    expect(analyzer.seen).toMatchObject({ calls: 1, actions: 3 });
    expect(calls.gathered).toBe(0);
  });
});
