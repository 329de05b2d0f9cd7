import { describe, expect, it } from "vitest";
import { deployedLimitMiB, rssVerdicts, toMiB } from "../../bench/src/soak/rss-bounds.js";
import type { ProcessSummary } from "../../bench/src/soak/soak-report.js";

const summary = (startMiB: number, peakMiB: number, afterLoadMiB: number): ProcessSummary => ({
  pids: [1],
  startMiB,
  minMiB: startMiB,
  peakMiB,
  peakAtS: 1,
  endOfLoadMiB: peakMiB,
  afterLoadMiB,
  afterVsPeak: afterLoadMiB / peakMiB,
  meanCpuPct: 0,
  byMinute: [],
});

describe("the soak's RSS bounds", () => {
  it("read each service's memory limit from deploy/base", () => {
    expect(deployedLimitMiB("cache")).toBe(1024);
    expect(deployedLimitMiB("predictor")).toBe(2048);
    expect(deployedLimitMiB("precomputer")).toBe(512);
    expect(deployedLimitMiB("no-such-service")).toBeUndefined();
    expect(toMiB("512Mi")).toBe(512);
    expect(() => toMiB("1G")).toThrow(/unsupported/);
  });

  it("fail a process past its limit, or one that kept what the load added", () => {
    const verdicts = rssVerdicts({
      cache: summary(100, 400, 150),
      executor: summary(100, 1100, 120),
      analyzer: summary(100, 500, 450),
      precomputer: summary(100, 110, 110),
      "load-generator": summary(50, 900, 900),
    });
    const byRole = Object.fromEntries(verdicts.map((v) => [v.role, v]));
    expect(Object.keys(byRole).sort()).toEqual(["analyzer", "cache", "executor", "precomputer"]);
    expect(byRole.cache).toMatchObject({ withinBound: true, cameDown: true });
    expect(byRole.executor).toMatchObject({ withinBound: false, cameDown: true });
    expect(byRole.analyzer).toMatchObject({ withinBound: true, cameDown: false });
    expect(byRole.precomputer).toMatchObject({ withinBound: true, cameDown: true });
  });
});
