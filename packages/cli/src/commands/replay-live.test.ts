import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { analyzerV1, cacheV1, executorV1, precomputerV1 } from "@prescient/contracts";
import { defaultTaskTypesPath, loadTaskTypes } from "@prescient/core";
import { type LiveResult, liveReplay, openTrace, replay, syntheticFeatures } from "@prescient/evaluator";
import { callUnary } from "@prescient/kit";
import { parsePrecomputerConfig } from "@prescient/precomputer";
import { exampleSpecs, Rng } from "@prescient/predictor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Mesh, startMesh } from "../mesh.js";
import { serviceNames } from "../services.js";
import { exampleFeatureSamplers, registerReplay } from "./replay.js";
import { runCommand } from "./run-command.test-util.js";

const run = (...args: string[]) => runCommand(registerReplay, ["replay", ...args]);

/** A live run of `file` against the test's mesh at its own 200x, under a run tag of its own; answers the JSON's live part. */
async function runLive(file: string, tag: string): Promise<LiveResult> {
  const r = await run(
    file,
    "--live",
    "--addr",
    addr,
    "--speed",
    "200",
    "--run-tag",
    tag,
    "--json",
    "--no-progress",
  );
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { live: LiveResult }).live;
}

/**
 * `prescient replay --live` against a real mesh, every service in this
 * process on an ephemeral port with in-memory stores, living 200 times
 * faster than the wall clock (`prescient up --time-scale 200`): a small
 * trace of uploads (whose analyses the precomputer fans out) and repeated
 * reads, replayed 200 times faster than it was recorded.
 */
let mesh: Mesh;
let addr: string;
let trace: string;
let onnx: string;

/** 10 min of trace: 5 uploads, their analyses read 2 and 4 min later, and 3 keys the mesh does not know, each read 4 times. */
function smallTrace(): string {
  const rows = ["ts,key,tenant,user,task_type,entity,event"];
  for (let i = 0; i < 5; i++) rows.push(`${i},,acme,u${i},,video-${i},video_uploaded`);
  for (let i = 0; i < 5; i++)
    for (const at of [120, 240])
      rows.push(
        `${at + i},acme/scene_detection/video-${i},,u${i},,,`,
        `${at + i + 0.5},acme/hook_analysis/video-${i},,u${i},,,`,
      );
  for (let k = 0; k < 3; k++) for (const at of [10, 150, 300, 590]) rows.push(`${at + k},page-${k},,,,,`);
  const [header, ...body] = rows;
  body.sort((a, b) => Number(a.split(",")[0]) - Number(b.split(",")[0]));
  return `${[header, ...body].join("\n")}\n`;
}

/**
 * 10 min of trace for the onnx types. Two campaigns are created (the precomputer fans out their
 * roas_prediction and variant_scoring, the event carrying the campaign's features) and read 1 and
 * 2 min later; four ads are only read (ctr_prediction: their first miss carries the features),
 * 5 times each; a user logs in with a campaign whose ROAS is read after. No id ends in a number:
 * numbered ads would start the analyzer's sequential readahead of ads the trace never names, which
 * the replay has no features for.
 */
function onnxTrace(): string {
  const rows = ["ts,key,tenant,user,task_type,entity,event"];
  const campaigns = ["spring", "autumn"];
  campaigns.forEach((c, i) => {
    rows.push(`${i},,acme,,,campaign-${c},campaign_created`);
    for (const at of [60, 120])
      rows.push(
        `${at + i},acme/roas_prediction/campaign-${c},,,,,`,
        `${at + i + 0.5},acme/variant_scoring/campaign-${c},,,,,`,
      );
  });
  rows.push(`2,,acme,u-ann,,campaign-ann,user_login`);
  for (const at of [30, 150, 250]) rows.push(`${at},acme/roas_prediction/campaign-ann,,u-ann,,,`);
  ["red", "green", "blue", "gold"].forEach((ad, i) => {
    for (const at of [5, 100, 200, 300, 400]) rows.push(`${at + i},acme/ctr_prediction/ad-${ad},,,,,`);
  });
  const [header, ...body] = rows;
  body.sort((a, b) => Number(a.split(",")[0]) - Number(b.split(",")[0]));
  return `${[header, ...body].join("\n")}\n`;
}

beforeAll(async () => {
  mesh = await startMesh({
    services: [...serviceNames],
    address: "127.0.0.1:0",
    timeScale: 200,
    env: { ...process.env, REDIS_URL: "", PRESCIENT_METRICS_PORT: "0" },
  });
  await mesh.ready;
  addr = mesh.host.address;
  const dir = mkdtempSync(join(tmpdir(), "replay-live-"));
  trace = join(dir, "small.csv");
  writeFileSync(trace, smallTrace());
  onnx = join(dir, "onnx.csv");
  writeFileSync(onnx, onnxTrace());
}, 60_000);

afterAll(async () => {
  await mesh?.close();
});

describe("prescient replay --live against a running mesh", () => {
  it("drives the mesh with lookups and triggers, and reports the live hit rate and latency beside the simulation", async () => {
    const cache = new cacheV1.CacheServiceClient(addr, credentials.createInsecure());
    const precomputer = new precomputerV1.PrecomputerServiceClient(addr, credentials.createInsecure());
    try {
      const r = await run(trace, "--live", "--addr", addr, "--speed", "200", "--json", "--no-progress");
      expect(r.stderr).not.toMatch(/error|warning/);
      expect(r.code).toBe(0);
      const { report, live } = JSON.parse(r.stdout) as {
        report: { policies: unknown[]; settings: { budgetPerSecond: number } };
        live: LiveResult;
      };
      // The simulation spends what the mesh may: its configured per_minute, in trace time at the mesh's scale.
      const perMinute = parsePrecomputerConfig(
        loadTaskTypes(defaultTaskTypesPath).raw,
        loadTaskTypes(defaultTaskTypesPath),
      ).budget.perMinute;
      expect(report.settings.budgetPerSecond).toBeCloseTo(perMinute / 60, 6);
      expect(report.policies.length).toBe(5);

      expect(live.aborted).toBe(false);
      expect(live.records).toBe(5 + 20 + 12);
      expect(live.lookups).toMatchObject({ sent: 32, answered: 32, errors: 0 });
      expect(live.lookups.hits).toBeGreaterThan(0);
      expect(live.hitRate).toBeCloseTo(live.lookups.hits / 32, 10);
      expect(live.latency.count).toBe(32);
      expect(live.latency.p50Ms).toBeGreaterThan(0);
      expect(live.latency.p99Ms).toBeGreaterThanOrEqual(live.latency.p50Ms);
      expect(live.triggers).toMatchObject({ events: 5, ok: 5, errors: 0 });
      expect(live.triggers.tasksQueued).toBeGreaterThanOrEqual(5 * 5);
      // Keys the mesh does not know (`object`) were replayed as an external type it does.
      expect(live.typeMap).toEqual({ object: "campaign_analytics" });
      expect(live.predicted.map((p) => p.policy)).toContain("prescient");
      // The mesh lives as fast as the trace is played, and the uploads' ctr_prediction had features.
      expect(live.meshTimeScale).toBe(200);
      expect(live.mesh.deadLetters).toEqual({});
      // 10 min of trace at 200x: about 3 s of wall time.
      expect(live.traceMs).toBe(592_000);
      expect(live.wallMs).toBeGreaterThanOrEqual(592_000 / 200 - 50);

      // The mesh's own counters saw the run.
      const stats = await callUnary(cache.stats.bind(cache), { tenant: "", taskType: "" });
      expect(Number(stats.total?.hits ?? 0) + Number(stats.total?.misses ?? 0)).toBeGreaterThanOrEqual(32);
      expect(live.mesh.cache).toMatchObject({ misses: live.lookups.misses });
      const pre = await callUnary(precomputer.stats.bind(precomputer), {});
      const triggered = pre.enqueuedByReason.find((x) => x.name === "trigger");
      expect(Number(triggered?.count ?? 0)).toBeGreaterThanOrEqual(live.triggers.tasksQueued);
      // The executor completed what was enqueued (the run waits for nothing, so a few may still run).
      expect(live.mesh.completed).toBeGreaterThan(0);
      expect(live.mesh.completed).toBeLessThanOrEqual(live.triggers.tasksQueued + live.lookups.enqueued + 50);
      expect(live.predictedComputes?.byReason.trigger).toBeGreaterThan(0);
    } finally {
      cache.close();
      precomputer.close();
    }
  }, 30_000);

  it("prints the live table beside the simulated policies", async () => {
    const r = await run(
      trace,
      "--live",
      "--addr",
      addr,
      "--speed",
      "1000",
      "--policy",
      "reactive,prescient",
      "--run-tag",
      "table",
      "--no-progress",
    );
    expect(r.code).toBe(0);
    // A mesh of another time scale than --speed is named, on stderr before the run and in the report.
    expect(r.stderr).toMatch(/warning: the mesh's time scale is 200x, not --speed 1000x.*--time-scale 1000/);
    expect(r.stdout).toMatch(/warning: the mesh's time scale is 200x/);
    expect(r.stdout).toMatch(/Hit rate, live against simulated/);
    expect(r.stdout).toMatch(/simulated prescient\s+32\s/);
    expect(r.stdout).toMatch(/live \(mesh\)\s+32\s+\d+\.\d%/);
    expect(r.stdout).toMatch(/object -> campaign_analytics/);
    // What the mesh computed beside what the simulation forecast, by reason: the 5 uploads fan out to
    // 6 trigger tasks each in both.
    expect(r.stdout).toMatch(/Computes by reason, live \(enqueued\) against simulated prescient/);
    expect(r.stdout).toMatch(/\btrigger\s+30\s+30\b/);
    expect(r.stdout).toMatch(/total \(live: completed\)\s+\d+\s+\d+/);
  }, 30_000);

  it("computes the onnx types live from synthetic entity features: re-reads hit, nothing is dead-lettered", async () => {
    const cache = new cacheV1.CacheServiceClient(addr, credentials.createInsecure());
    const executor = new executorV1.ExecutorServiceClient(addr, credentials.createInsecure());
    try {
      const live = await runLive(onnx, "onnx");
      expect(live.lookups).toMatchObject({ sent: 31, answered: 31, errors: 0 });
      expect(live.triggers).toMatchObject({ events: 3, ok: 3, errors: 0 });
      // Each ad misses once (the miss carries its features and is enqueued), then hits.
      expect(live.byType.ctr_prediction?.reads).toBe(20);
      expect(live.byType.ctr_prediction?.hits).toBeGreaterThanOrEqual(12);
      // The campaigns' results were computed from the features their creation carried.
      expect(live.byType.roas_prediction?.hits).toBeGreaterThanOrEqual(2 + 2);
      expect(live.byType.variant_scoring?.hits).toBeGreaterThanOrEqual(2);
      // The ads got theirs with their first miss, the campaigns with their events.
      expect(live.features.names).toBe(21);
      expect(live.features.entities).toBeGreaterThanOrEqual(4);
      expect(live.mesh.deadLetters).toEqual({});
      const queue = await callUnary(executor.queueStats.bind(executor), {});
      expect(Number(queue.total?.dead ?? -1)).toBe(0);

      // What hit is the model's output for the ad.
      const hit = await callUnary(cache.lookup.bind(cache), {
        key: { tenant: "acme-onnx", taskType: "ctr_prediction", entityId: "ad-red" },
        onMiss: cacheV1.OnMiss.ON_MISS_NONE,
        features: {},
        userId: "",
        rejectStale: false,
      });
      expect(hit.hit).toBe(true);
      const p = hit.result?.value?.tensors?.tensors.find((t) => t.name === "probability")?.data[0];
      expect(p).toBeGreaterThan(0);
      expect(p).toBeLessThan(1);
    } finally {
      cache.close();
      executor.close();
    }
  }, 30_000);

  it("runs the schedules 200 times faster: readahead every 5 ms, refresh-ahead every second (its shortest period)", async () => {
    const precomputer = new precomputerV1.PrecomputerServiceClient(addr, credentials.createInsecure());
    const windows = async (schedule: string): Promise<number[]> => {
      const { runs } = await callUnary(precomputer.listRuns.bind(precomputer), { schedule, limit: 50 });
      return [...new Set(runs.map((r) => r.windowStart?.getTime() ?? 0))].sort((a, b) => a - b);
    };
    const gaps = (w: number[]): number[] => w.slice(1).map((t, i) => t - w[i]!);
    try {
      // Unscaled, refresh-ahead runs every 2 minutes and readahead every second.
      const until = Date.now() + 5000;
      while ((await windows("refresh_ahead")).length < 2 && Date.now() < until)
        await new Promise((r) => setTimeout(r, 100));
      expect(Math.min(...gaps(await windows("refresh_ahead")))).toBe(1000);
      const readahead = gaps(await windows("readahead"));
      expect(readahead.length).toBeGreaterThan(0);
      expect(readahead.every((g) => g % 5 === 0)).toBe(true);
      expect(Math.min(...readahead)).toBeLessThan(1000);
    } finally {
      precomputer.close();
    }
  }, 30_000);

  it("refuses an address outside loopback, and --ttl, unless told otherwise", async () => {
    const remote = await run(trace, "--live", "--addr", "10.1.2.3:50051", "--no-progress");
    expect(remote.code).toBe(1);
    expect(remote.stderr).toMatch(/not a loopback address.*--allow-remote/);
    const ttl = await run(trace, "--live", "--addr", addr, "--ttl", "default=5", "--no-progress");
    expect(ttl.code).toBe(1);
    expect(ttl.stderr).toMatch(/--ttl does not apply with --live/);
  });

  it("spreads lookups and triggers over the replicas --cache-addr and --precomputer-addr list, and sums their counters", async () => {
    // The same mesh twice over: every call still lands on it, and its counters are counted once per listing.
    const r = await run(
      trace,
      "--live",
      "--addr",
      addr,
      "--cache-addr",
      `${addr},${addr}`,
      "--precomputer-addr",
      `${addr},${addr},${addr}`,
      "--speed",
      "1000",
      "--run-tag",
      "replicas",
      "--json",
      "--no-progress",
    );
    expect(r.code).toBe(0);
    const { live } = JSON.parse(r.stdout) as { live: LiveResult };
    expect(live.addrs).toEqual({
      cache: [addr, addr],
      precomputer: [addr, addr, addr],
      executor: [addr],
      analyzer: [addr],
    });
    expect(live.lookups).toMatchObject({ sent: 32, answered: 32, errors: 0 });
    expect(live.triggers).toMatchObject({ events: 5, ok: 5, errors: 0 });
    expect(live.mesh.cache?.misses).toBe(2 * live.lookups.misses);
    expect(r.stderr).toMatch(/against 2 cache, 3 precomputer, 1 executor and 1 analyzer replicas/);
  }, 30_000);

  it("makes the backends' calls the simulation makes: a launch announced ahead is registered, a user's read is an action", async () => {
    // 10 min of trace: a launch announced at 0 for 10 h later, and 3 users reading their dashboards twice.
    const rows = [
      "ts,key,tenant,user,task_type,entity,event,launch_at",
      "0,,acme,u-ann,,campaign-fall,campaign_launch_scheduled,36000",
    ];
    for (const [i, user] of ["u-a", "u-b", "u-c"].entries())
      for (const at of [60, 300]) rows.push(`${at + i},acme/dashboard_data/${user},,${user},,,,`);
    rows.push("400,acme/ctr_prediction/ad-anon,,,,,,"); // no user: no action
    const file = join(mkdtempSync(join(tmpdir(), "replay-live-")), "backend.csv");
    writeFileSync(file, `${rows.join("\n")}\n`);
    const started = Date.now();
    const live = await runLive(file, "backend");
    expect(live.launches).toEqual({ announced: 1, registered: 1, errors: 0 });
    // Registered, not triggered: the simulation warms it at its launch, not when it is announced.
    expect(live.triggers).toMatchObject({ events: 0, ok: 0 });
    expect(live.actions).toEqual({ sent: 6, accepted: 6, rejected: 0, errors: 0 });
    expect(live.addrs.analyzer).toEqual([addr]);
    expect(live.errors).toEqual({});

    // The mesh's analyzer holds the launch, due 10 h of trace (180 s at 200x) after it was announced.
    const analyzer = new analyzerV1.AnalyzerServiceClient(addr, credentials.createInsecure());
    try {
      const upcoming = await callUnary(analyzer.listUpcomingLaunches.bind(analyzer), {
        hoursAhead: 1,
        tenant: "acme-backend",
      });
      expect(upcoming.launches).toHaveLength(1);
      const launch = upcoming.launches[0]!;
      expect(launch).toMatchObject({ campaignId: "campaign-fall", entityIds: ["campaign-fall"] });
      // It names the event that announced it, and no task types: the mesh's precomputer warms those
      // of its rule for the event (configured or learned), as the simulation's does.
      expect(launch).toMatchObject({ event: "campaign_launch_scheduled", taskTypes: [] });
      const due = (launch.launchAt as Date).getTime();
      expect(due).toBeGreaterThanOrEqual(started + 180_000 - 1000);
      expect(due).toBeLessThanOrEqual(Date.now() + 180_000);
    } finally {
      analyzer.close();
    }
  }, 30_000);

  it("triggers events no configuration names, as the simulation does: the mesh learns their rule and fans out by it", async () => {
    // clip_posted has no configured rule. Six clips, each one's scene detection read a minute later by
    // its poster, teach the mesh's analyzer the rule; two clips posted later are fanned out by it.
    // Named without numbers, so that no readahead of a numbered run warms the later ones first.
    const names = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
    const rows = ["ts,key,tenant,user,task_type,entity,event"];
    const clip = (at: number, i: number): void => {
      rows.push(`${at},,acme,u${i},,clip-${names[i]},clip_posted`);
      rows.push(`${at + 60},acme/scene_detection/clip-${names[i]},,u${i},,,`);
    };
    for (let i = 0; i < 6; i++) clip(i * 10, i);
    for (let i = 6; i < 8; i++) clip(300 + i, i);
    const file = join(mkdtempSync(join(tmpdir(), "replay-live-")), "unconfigured.csv");
    writeFileSync(file, `${rows.join("\n")}\n`);
    const live = await runLive(file, "unconfigured");
    expect(live.triggers).toMatchObject({ events: 8, ok: 8, errors: 0 });
    expect(live.errors).toEqual({});
    // The later clips' scene detection was enqueued by the learned rule, and their reads hit.
    expect(live.triggers.tasksQueued).toBeGreaterThanOrEqual(2);
    expect(live.byType.scene_detection?.hits).toBeGreaterThanOrEqual(2);
    const analyzer = new analyzerV1.AnalyzerServiceClient(addr, credentials.createInsecure());
    try {
      const { rules } = await callUnary(analyzer.learnedRules.bind(analyzer), {
        tenant: "acme-unconfigured",
      });
      expect(rules.find((r) => r.event === "clip_posted")?.targets.map((t) => t.taskType)).toContain(
        "scene_detection",
      );
    } finally {
      analyzer.close();
    }
  }, 30_000);

  it("refuses a replica outside loopback, and replica flags without --live", async () => {
    const remote = await run(
      trace,
      "--live",
      "--addr",
      addr,
      "--cache-addr",
      `${addr},10.1.2.3:50051`,
      "--no-progress",
    );
    expect(remote.code).toBe(1);
    expect(remote.stderr).toMatch(/10\.1\.2\.3:50051 is not a loopback address/);
    const simulated = await run(trace, "--executor-addr", addr, "--no-progress");
    expect(simulated.code).toBe(1);
    expect(simulated.stderr).toMatch(/need --live/);
  });

  it("stops when aborted, reporting what ran", async () => {
    const source = await openTrace(trace);
    const report = await replay(source, { policies: ["prescient"] });
    const stop = new AbortController();
    const live = await liveReplay(source, report, {
      addr,
      speed: 10,
      runTag: "abort",
      mapType: () => "campaign_analytics",
      signal: stop.signal,
      onProgress: (p) => {
        if (p.done >= 3) stop.abort();
      },
    });
    expect(live.aborted).toBe(true);
    expect(live.records).toBeLessThan(37);
    expect(live.records).toBeGreaterThanOrEqual(3);
  }, 30_000);
});

describe("synthetic features of the shipped example models", () => {
  it("draws every feature within the range its model was trained on", () => {
    const f = syntheticFeatures(loadTaskTypes(defaultTaskTypesPath), exampleFeatureSamplers());
    const range = new Map<string, [number, number]>();
    for (const spec of exampleSpecs) {
      const rng = new Rng(7);
      const rows = Array.from({ length: 2000 }, () => spec.sample(rng));
      spec.features.forEach((name, i) => {
        const values = rows.map((row) => row[i]!);
        const [lo, hi] = [Math.min(...values), Math.max(...values)];
        const slack = (hi - lo) * 0.05;
        const known = range.get(name);
        range.set(name, [Math.min(lo - slack, known?.[0] ?? lo), Math.max(hi + slack, known?.[1] ?? hi)]);
      });
    }
    const seen = new Map<string, Set<number>>();
    for (let e = 0; e < 100; e++) {
      const record = f.of("acme", `entity-${e}`);
      expect(Object.keys(record).sort()).toEqual([...range.keys()].sort());
      for (const [name, value] of Object.entries(record)) {
        const [lo, hi] = range.get(name)!;
        expect(value, name).toBeGreaterThanOrEqual(lo);
        expect(value, name).toBeLessThanOrEqual(hi);
        seen.set(name, (seen.get(name) ?? new Set()).add(value));
      }
    }
    // Entities differ: every feature takes at least two values over 100 entities.
    for (const [name, values] of seen) expect(values.size, name).toBeGreaterThan(1);
  });
});

describe("prescient replay --block-page-size", () => {
  it("reads a block trace as pages of the size given, and refuses a size below 512 bytes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "replay-block-"));
    const path = join(dir, "block.csv");
    writeFileSync(
      path,
      "op_time,block_id,block_id_size,io_size,io_offset,user_name,user_namespace,op_name,op_count,host_name,rs_shard_id\n" +
        `1,b1,40,${1024 * 1024},0,u,n,getChunkData.x,1,h,0\n`,
    );
    const pages = async (size: string) =>
      JSON.parse((await run(path, "--json", "--no-progress", "--block-page-size", size)).stdout).trace.reads;
    expect(await pages("1048576")).toBe(1);
    expect(await pages("262144")).toBe(4);
    const bad = await run(path, "--no-progress", "--block-page-size", "100");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/block page size must be a whole number of bytes from 512, not 100/);
  });
});
