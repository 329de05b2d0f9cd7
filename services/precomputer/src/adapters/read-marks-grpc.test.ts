import { emptyIngestResult, startAnalyzer } from "@prescient/analyzer";
import { isInvalidArgument } from "@prescient/core";
import { ServiceHost } from "@prescient/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpcAnalyzer } from "./grpc.js";
import { inProcessAnalyzer } from "./in-process.js";

/**
 * Read calibration works in a split mesh as in `prescient up`: the gRPC
 * analyzer port answers ReadMarks exactly as the in-process one does, and
 * refuses what the analyzer refuses.
 */
const host = new ServiceHost({ address: "127.0.0.1:0" });
let runtime: Awaited<ReturnType<typeof startAnalyzer>>;

beforeAll(async () => {
  runtime = await startAnalyzer(host, { store: "memory" });
  await host.start();
  await runtime.ready;
});
afterAll(() => host.shutdown());

const read = (entityId: string, at: number) =>
  runtime.analyzer.recordQueries(
    [
      {
        time: new Date(at),
        tenant: "acme",
        taskType: "ctr_prediction",
        entityId,
        key: "",
        userId: "u1",
        outcome: 2,
        computeMs: 3,
        latencyMs: 1,
      },
    ],
    emptyIngestResult(),
  );

describe("ReadMarks over gRPC", () => {
  it("answers the in-process marks: unset for a key never read, rising with each read", async () => {
    const remote = grpcAnalyzer(host.address);
    const local = inProcessAnalyzer(Promise.resolve(runtime.analyzer));
    const keys = ["acme/ctr_prediction/ad-1", "acme/ctr_prediction/never"];
    const now = Date.now();
    await read("ad-1", now - 2000);
    const first = await remote.readMarks?.(keys);
    expect(first).toEqual(await local.readMarks?.(keys));
    expect(first?.[0]).toEqual(expect.any(Number));
    expect(first?.[1]).toBeUndefined();
    await read("ad-1", now - 1000);
    const second = await remote.readMarks?.(keys);
    expect(second?.[0]).toBeGreaterThan(first?.[0] as number);
    expect(second).toEqual(await local.readMarks?.(keys));
  });

  it("refuses a malformed key by position, and more keys than a call may ask", async () => {
    const remote = grpcAnalyzer(host.address);
    const bad = await remote.readMarks?.(["acme/ctr_prediction/ad-1", "no-slashes"]).catch((e: unknown) => e);
    expect(isInvalidArgument(bad)).toBe(true);
    expect((bad as Error).message).toMatch(/keys\[1\]/);
    const many = Array.from({ length: 10_001 }, (_, i) => `acme/ctr_prediction/ad-${i}`);
    const tooMany = await remote.readMarks?.(many).catch((e: unknown) => e);
    expect(isInvalidArgument(tooMany)).toBe(true);
    expect((tooMany as Error).message).toMatch(/at most 10000 per call/);
  });
});
