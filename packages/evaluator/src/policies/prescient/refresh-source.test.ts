import { TaskTypeRegistry } from "@prescient/core";
import { parsePrecomputerConfig } from "@prescient/precomputer";
import { describe, expect, it } from "vitest";
import { RefreshSource } from "./refresh-source.js";

const hour = 3_600_000;
const settings = parsePrecomputerConfig({}, new TaskTypeRegistry([])).refreshAhead;
const all = { taskType: undefined, tenant: undefined } as never;
const key = (id: string, taskType = "dash") => ({
  key: `t/${taskType}/${id}`,
  tenant: "t",
  taskType,
  entityId: id,
});

describe("RefreshSource", () => {
  it("offers only results within their refresh horizon, and an expired one once", () => {
    const src = new RefreshSource(settings);
    src.stored(key("a"), hour, hour);
    src.stored(key("b"), 2 * hour, hour);
    // Horizon of a 1 h result: 10 min.
    expect(src.nearExpiry(hour - 11 * 60_000, all)).toEqual([]);
    const near = src.nearExpiry(hour - 60_000, all);
    expect(near).toEqual([{ ...key("a"), expiresAt: hour, ttlMs: hour }]);
    const expired = src.nearExpiry(hour + 1, all);
    expect(expired.map((c) => [c.key, c.expiresAt])).toEqual([["t/dash/a", undefined]]);
    expect(src.nearExpiry(hour + 2, all)).toEqual([]);
  });

  it("follows a result that was replaced, and filters by the schedule's task type", () => {
    const src = new RefreshSource(settings);
    src.stored(key("a"), hour, hour);
    src.stored(key("a"), 3 * hour, hour); // recomputed: the old expiry no longer counts
    src.stored(key("c", "report"), hour, hour);
    expect(src.nearExpiry(hour - 60_000, all).map((c) => c.key)).toEqual(["t/report/c"]);
    expect(src.nearExpiry(3 * hour - 60_000, { taskType: "dash" } as never).map((c) => c.key)).toEqual([
      "t/dash/a",
    ]);
  });

  it("hands out XFetch-flagged keys once each, up to the limit", () => {
    const src = new RefreshSource(settings);
    for (const id of ["x", "y", "z", "x"]) src.flag(key(id));
    expect(src.takeFlagged(2).map((k) => k.key)).toEqual(["t/dash/x", "t/dash/y"]);
    expect(src.takeFlagged(5).map((k) => k.key)).toEqual(["t/dash/z"]);
    expect(src.takeFlagged(5)).toEqual([]);
  });
});
