import { CacheCore, MemoryCacheStore } from "@prescient/cache";
import type { cacheV1 } from "@prescient/contracts";
import { formatKey, ManualClock, parseTaskTypes } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { inProcessCache } from "./in-process.js";

const types = parseTaskTypes(`
task_types:
  ctr_prediction: { kind: external, ttl_seconds: 100 }
`);
const entry = (entityId: string): cacheV1.PutEntry => ({
  key: { tenant: "acme", taskType: "ctr_prediction", entityId },
  value: { payload: Buffer.from("1"), contentType: "text/plain" },
  modelName: "m",
  modelVersion: "1",
  computeMs: 0,
  inputDigest: "",
  tags: [],
});
const key = (entityId: string): string => formatKey({ tenant: "acme", taskType: "ctr_prediction", entityId });

describe("in-process cache peer", () => {
  it("checks expiries as peeks: a checked result is not made more recent, nor counted as read", async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const store = new MemoryCacheStore({ maxEntries: 3, clock });
    const core = new CacheCore(store, types, { clock });
    for (const id of ["a", "b", "c"]) await core.put({ entry: entry(id) });
    const peer = inProcessCache(core);
    expect(await peer.expiries([key("a"), key("absent")])).toEqual([clock.now() + 100_000, undefined]);
    await core.put({ entry: entry("d") });
    // a was the least recently used before the check, and still was: it went.
    expect(await peer.expiries([key("a"), key("b")])).toEqual([undefined, clock.now() + 100_000]);
    expect((await core.stats({ tenant: "", taskType: "" })).total).toMatchObject({ hits: 0n, misses: 0n });
  });
});
