import { describe, expect, it } from "vitest";
import {
  deployedLimitMiB,
  type RssVerdict,
  rssFailed,
  rssVerdicts,
  toMiB,
} from "../../bench/src/soak/rss-bounds.js";
import { type ProcessSummary, summarizeProcess } from "../../bench/src/soak/soak-report.js";

const summary = (
  startMiB: number,
  peakMiB: number,
  afterLoadMiB: number,
  loadThirdsMiB?: [number, number, number],
): ProcessSummary => ({
  pids: [1],
  startMiB,
  minMiB: startMiB,
  peakMiB,
  peakAtS: 1,
  endOfLoadMiB: peakMiB,
  afterLoadMiB,
  afterVsPeak: afterLoadMiB / peakMiB,
  loadThirdsMiB,
  meanCpuPct: 0,
  byMinute: [],
});

/** The roles whose verdict fails the soak, sorted. */
const failedRoles = (verdicts: RssVerdict[]): string[] =>
  verdicts
    .filter(rssFailed)
    .map((v) => v.role)
    .sort();

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
    expect(failedRoles(verdicts)).toEqual(["analyzer", "executor"]);
  });

  it("pass a process that kept its working set but levelled off under the load, and fail one still rising", () => {
    const verdicts = rssVerdicts({
      // A soak's cache: a spike after a Redis restart, then level for the rest of the load and after it.
      cache: summary(135, 185, 163, [185, 163, 162.7]),
      // Level within the slack (8 MiB above the middle third).
      analyzer: summary(100, 180, 170, [150, 172, 180]),
      // Still rising at the end: a leak.
      executor: summary(100, 300, 300, [150, 220, 300]),
      precomputer: summary(100, 190, 180, [150, 180, 189]),
    });
    const byRole = Object.fromEntries(verdicts.map((v) => [v.role, v]));
    expect(byRole.cache).toMatchObject({ cameDown: false, heldFlat: true });
    expect(byRole.analyzer).toMatchObject({ cameDown: false, heldFlat: true });
    expect(byRole.executor).toMatchObject({ cameDown: false, heldFlat: false });
    expect(byRole.precomputer).toMatchObject({ cameDown: false, heldFlat: false });
    expect(failedRoles(verdicts)).toEqual(["executor", "precomputer"]);
  });

  it("read the largest RSS of each third of the load, leaving out what came before and after it", () => {
    // A reading every 10 s from 5 s; the load runs from 30 s to 120 s, so its thirds end at 60, 90 and 120 s.
    const rss = [400, 100, 110, 120, 150, 130, 140, 160, 155, 170, 180, 175, 500];
    const samples = rss.map((mib, i) => ({
      t: 5_000 + i * 10_000,
      pid: 1,
      rssKiB: mib * 1024,
      cpuPct: null,
    }));
    const summary = summarizeProcess(samples, 120_000, 30_000);
    expect(summary?.loadThirdsMiB).toEqual([150, 160, 180]);
    expect(summarizeProcess(samples.slice(0, 4), 120_000, 30_000)?.loadThirdsMiB).toBeUndefined();
  });
});
