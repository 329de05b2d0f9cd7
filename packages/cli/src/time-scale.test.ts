import { credentials } from "@grpc/grpc-js";
import { queryReporterDefaults, resolveOptions } from "@prescient/analyzer";
import { precomputerV1 } from "@prescient/contracts";
import { defaultTaskTypesPath, loadTaskTypes, TaskTypeRegistry } from "@prescient/core";
import { callUnary, clientChannelOptions, kitRegistry } from "@prescient/kit";
import { metricValue } from "@prescient/kit/testing";
import { parsePrecomputerConfig, precomputerDefaults, readCalibrationDefaults } from "@prescient/precomputer";
import { describe, expect, it } from "vitest";
import { startMesh } from "./mesh.js";
import {
  scaleAnalyzerOptions,
  scaledMs,
  scalePrecomputerCoreOptions,
  scaleReporterOptions,
  scaleTaskTypeConfig,
} from "./time-scale.js";

const shipped = loadTaskTypes(defaultTaskTypesPath);

/** Every duration (a number named …Ms) in an options object, nested ones as `outer.inner`. */
const durations = (o: object, path = ""): Array<[string, number]> =>
  Object.entries(o).flatMap(([k, v]): Array<[string, number]> => {
    if (typeof v === "number" && k.endsWith("Ms")) return [[`${path}${k}`, v]];
    if (v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Map))
      return durations(v as object, `${path}${k}.`);
    return [];
  });

describe("prescient up --time-scale: policy durations divided, rates multiplied", () => {
  it("rounds a compressed duration to whole milliseconds, at least 1, and keeps 0 (off) as 0", () => {
    expect(scaledMs(3_600_000, 600)).toBe(6000);
    expect(scaledMs(1000, 600)).toBe(2);
    expect(scaledMs(250, 600)).toBe(1);
    expect(scaledMs(0, 600)).toBe(0);
  });

  it("compresses TTLs, stale graces, interval schedules, launch warming and refresh-ahead, and multiplies the rates", () => {
    const base = parsePrecomputerConfig(shipped.raw, shipped);
    const scaled = scaleTaskTypeConfig(shipped, 600);
    expect(scaled.get("ctr_prediction").ttlMs).toBe(21_600_000 / 600);
    expect(scaled.get("ctr_prediction").staleGraceMs).toBe(1000);
    expect(scaled.get("dashboard_data").ttlMs).toBe(6000);
    // Everything else about a type is kept.
    expect({ ...scaled.get("ctr_prediction"), ttlMs: 0, staleGraceMs: 0 }).toEqual({
      ...shipped.get("ctr_prediction"),
      ttlMs: 0,
      staleGraceMs: 0,
    });

    const c = parsePrecomputerConfig(scaled.raw, scaled);
    const timing = (name: string) => c.schedules.get(name)?.timing;
    expect(timing("readahead")).toEqual({ kind: "every", everyMs: 2 });
    expect(timing("launch_warming")).toEqual({ kind: "every", everyMs: 12_000 });
    expect(c.schedules.get("launch_warming")).toMatchObject({ leadMs: 12_000, hoursAhead: 4 / 600 });
    expect(timing("daily_top_n")).toMatchObject({ kind: "off_peak", checkEveryMs: 500 });
    // Calendar anchors stay: the hourly analysis is still a cron.
    expect(timing("analysis")).toEqual(base.schedules.get("analysis")?.timing);
    // Refresh-ahead: 2 min / 600 = 200 ms, held at the precomputer's shortest period (1 s).
    expect(timing("refresh_ahead")).toEqual({ kind: "every", everyMs: 1000 });
    expect(c.refreshAhead.horizonMs).toBe(base.refreshAhead.horizonMs / 600);
    expect(c.refreshAhead.minDemand).toBeCloseTo(base.refreshAhead.minDemand * 600, 12);
    expect(c.refreshAhead.minExpectedReads).toBe(base.refreshAhead.minExpectedReads);
    expect(c.budget.perMinute).toBe(base.budget.perMinute * 600);
    expect(c.budget.maxLiveQps).toBe(base.budget.maxLiveQps * 600);
    expect(c.budget.burstMinutes).toBe(base.budget.burstMinutes / 600);
    expect(c.budget.minProbability).toBe(base.budget.minProbability);
    expect(c.budget.maxQueueDepth).toBe(base.budget.maxQueueDepth);
    expect(c.rules).toEqual(base.rules);

    expect(scaleTaskTypeConfig(shipped, 1)).toBe(shipped);
  });

  it("decides for every duration the analyzer has whether it is policy (compressed) or left in wall time", () => {
    // Every duration set to one value: each must come out compressed unless it is named here as
    // operational or bound to the calendar. A duration added to the analyzer fails this until it is
    // placed (the per-key demand half-life and the run pause were once left out unnoticed).
    const leftInWallTime = new Set([
      "predictorTimeoutMs", // deadlines and operational periods
      "cleanupIntervalMs",
      "learningSaveIntervalMs", // how much learning a crash may lose, in wall time
      "ingestFlushIntervalMs",
      "ringHeartbeatMs",
      "ringTtlMs",
      "forwardTimeoutMs",
      "maxClockSkewMs",
      "defaultComputeMs", // how long computing takes is measured, not compressed
      "profileHalfLifeMs", // the hour-of-week traffic profile is the calendar's
    ]);
    const every = 6_000_000;
    const set = (o: object): object =>
      Object.fromEntries(
        Object.entries(o).map(([k, v]) => [
          k,
          typeof v === "number" && k.endsWith("Ms")
            ? every
            : v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Map)
              ? set(v as object)
              : v,
        ]),
      );
    const { clock: _clock, ...options } = resolveOptions({}) as ReturnType<typeof resolveOptions> & {
      clock?: unknown;
    };
    const all = set(options) as Parameters<typeof scaleAnalyzerOptions>[0];
    const scaled = new Map(durations(resolveOptions(scaleAnalyzerOptions(all, 600))));
    const names = durations(resolveOptions(all)).map(([name]) => name);
    expect(names.length).toBeGreaterThan(15);
    for (const name of names)
      expect([name, scaled.get(name)]).toEqual([name, leftInWallTime.has(name) ? every : every / 600]);
  });

  it("decides the same for every duration of the precomputer core", () => {
    const leftInWallTime = new Set(["predictionTimeoutMs", "loadMaxAgeMs"]); // a deadline, a sampling age
    const base = { ...precomputerDefaults, readCalibration: readCalibrationDefaults };
    const scaled = scalePrecomputerCoreOptions(600);
    const merged = new Map(
      durations({
        ...base,
        ...scaled,
        readCalibration: { ...readCalibrationDefaults, ...scaled.readCalibration },
      }),
    );
    const names = durations(base);
    expect(names.map(([n]) => n)).toContain("readCalibration.halfLifeMs");
    for (const [name, ms] of names)
      expect([name, merged.get(name)]).toEqual([name, leftInWallTime.has(name) ? ms : scaledMs(ms, 600)]);
    expect(scalePrecomputerCoreOptions(1)).toEqual({});
  });

  it("decides the same for every duration of the precomputer's configuration, schedules included", () => {
    // Every duration in the file set to 100 minutes (hours_ahead, in hours, to 100): each must come
    // out compressed unless named here as operational or bound to the calendar. A duration added to
    // the configuration fails this until scaleTaskTypeConfig places it.
    const leftInWallTime = new Set([
      "leaseMs", // a run's lease and retry are operational, as task leases are
      "retryAfterMs",
      "windowMinutes", // the off-peak window is the calendar's
      "maxPredictorQueueMs", // the predictor's measured queue wait, a back-off threshold
    ]);
    const every = "100m";
    const run = { lease: every, retry_after: every };
    const raw = {
      ...shipped.raw,
      schedules: {
        interval: { job: "top_n", every, ...run },
        off_peak: { job: "top_n", at: "off_peak", check_every: every, window_minutes: 100, ...run },
        launches: { job: "launch_warming", every, lead: every, hours_ahead: 100, ...run },
      },
      precomputer: {
        ...(shipped.raw.precomputer as object),
        refresh_ahead: { horizon: every },
        budget: { burst_minutes: 100 },
      },
    };
    const registry = new TaskTypeRegistry(shipped.list(), raw);
    /** Every time in the parsed configuration (…Ms, …Minutes, hoursAhead), schedules by name. */
    const times = (o: object, path = ""): Array<[string, number]> =>
      (o instanceof Map ? [...o.entries()] : Object.entries(o)).flatMap(([k, v]): Array<[string, number]> => {
        if (typeof v === "number" && /(Ms|Minutes|hoursAhead)$/.test(k)) return [[`${path}${k}`, v]];
        if (v !== null && typeof v === "object" && !Array.isArray(v))
          return times(v as object, `${path}${k}.`);
        return [];
      });
    const { rules: _rules, ...config } = parsePrecomputerConfig(raw, registry);
    const scaled = scaleTaskTypeConfig(registry, 600);
    const { rules: _scaledRules, ...scaledConfig } = parsePrecomputerConfig(scaled.raw, scaled);
    const after = new Map(times(scaledConfig));
    const names = times(config);
    expect(names.map(([n]) => n)).toEqual(
      expect.arrayContaining([
        "schedules.interval.timing.everyMs",
        "schedules.off_peak.timing.checkEveryMs",
        "schedules.launches.leadMs",
        "schedules.launches.hoursAhead",
        "refreshAhead.horizonMs",
        "budget.burstMinutes",
      ]),
    );
    for (const [name, value] of names) {
      const leaf = name.slice(name.lastIndexOf(".") + 1);
      const expected = leftInWallTime.has(leaf)
        ? value
        : leaf.endsWith("Ms")
          ? scaledMs(value, 600)
          : value / 600;
      expect([name, after.get(name)]).toEqual([name, expected]);
    }
  });

  it("compresses the analyzer's half-lives, windows, session gap, run pause and retraining, and the query log's flush", () => {
    const base = resolveOptions({ demandHalfLifeMs: 7_200_000 });
    const r = resolveOptions(scaleAnalyzerOptions({ demandHalfLifeMs: 7_200_000 }, 600));
    expect(r.demandHalfLifeMs).toBe(12_000);
    expect(r.keyHalfLifeMs).toBe(base.keyHalfLifeMs / 600);
    expect(r.streamIdleMs).toBe(base.streamIdleMs / 600);
    expect(r.successorHalfLifeMs).toBe(base.successorHalfLifeMs / 600);
    expect(r.sessionGapMs).toBe(base.sessionGapMs / 600);
    expect(r.retrainIntervalMs).toBe(base.retrainIntervalMs / 600);
    expect(r.retrainMinIntervalMs).toBe(scaledMs(base.retrainMinIntervalMs, 600));
    expect(r.fanOut.windowMs).toBe(base.fanOut.windowMs / 600);
    expect(r.fanOut.halfLifeMs).toBe(base.fanOut.halfLifeMs / 600);
    expect(r.nextReads.windowMs).toBe(base.nextReads.windowMs / 600);
    expect(r.nextReads.minDelayMs).toBe(scaledMs(base.nextReads.minDelayMs, 600));
    expect(r.nextReads.halfLifeMs).toBe(base.nextReads.halfLifeMs / 600);
    expect(r.relations.halfLifeMs).toBe(base.relations.halfLifeMs / 600);
    // Calendar-bound and operational settings stay.
    expect(r.profileHalfLifeMs).toBe(base.profileHalfLifeMs);
    expect(r.maxClockSkewMs).toBe(base.maxClockSkewMs);
    expect(r.keyCapacity).toBe(base.keyCapacity);
    // Retraining turned off stays off.
    expect(resolveOptions(scaleAnalyzerOptions({ retrainIntervalMs: 0 }, 600)).retrainIntervalMs).toBe(0);
    // So does an unbounded retraining rate.
    expect(resolveOptions(scaleAnalyzerOptions({ retrainMinIntervalMs: 0 }, 600)).retrainMinIntervalMs).toBe(
      0,
    );

    expect(scaleReporterOptions(10)).toEqual({ flushIntervalMs: queryReporterDefaults.flushIntervalMs / 10 });
    expect(scaleReporterOptions(600)).toEqual({ flushIntervalMs: 1 });
    expect(scaleReporterOptions(1)).toEqual({});
  });

  it("keeps the environment's precomputer options beside the time scale's", async () => {
    // PRESCIENT_PRECOMPUTER_FRESH_PEEK_MIN_RATE=0 looks up every trigger key; were it dropped for the
    // time scale's options, the shipped gate would sample these never-fresh videos after about 150 each.
    const mesh = await startMesh({
      services: ["precomputer", "executor", "cache"],
      address: "127.0.0.1:0",
      timeScale: 600,
      env: { PRESCIENT_METRICS_PORT: "0", PRESCIENT_PRECOMPUTER_FRESH_PEEK_MIN_RATE: "0" },
    });
    const client = new precomputerV1.PrecomputerServiceClient(
      mesh.host.address,
      credentials.createInsecure(),
      clientChannelOptions(),
    );
    try {
      await mesh.ready;
      for (let call = 0; call < 4; call++) {
        const events = Array.from({ length: 100 }, (_, i) => ({
          type: "video_uploaded",
          tenant: "acme",
          entityId: `vid-${call * 100 + i}`,
          userId: "",
          relatedEntityIds: [],
          features: { duration_s: { number: 31 }, lang: { text: "en" } },
          attributes: {},
        }));
        const r = await callUnary(client.triggerMany.bind(client), { events });
        expect(r.results.every((x) => x.queued.length > 0)).toBe(true);
      }
      const scrape = await kitRegistry.metrics();
      expect(
        metricValue(scrape, "prescient_precomputer_tasks_enqueued_total", { reason: "trigger" }),
      ).toBeGreaterThan(0);
      expect(metricValue(scrape, "prescient_precomputer_freshness_lookups_sampled_out_total")).toBe(0);
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it("refuses a bad PRESCIENT_TIME_SCALE at start-up, naming it", async () => {
    for (const bad of ["fast", "0", "-2"])
      await expect(
        startMesh({
          services: ["cache"],
          address: "127.0.0.1:0",
          env: { PRESCIENT_TIME_SCALE: bad, PRESCIENT_METRICS_PORT: "0" },
        }),
      ).rejects.toThrow(/PRESCIENT_TIME_SCALE/);
  });
});
