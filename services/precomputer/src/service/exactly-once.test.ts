import { setTimeout as sleep } from "node:timers/promises";
import { parseTaskTypes, systemClock } from "@prescient/core";
import { afterEach, describe, expect, inject, it } from "vitest";
import { parsePrecomputerConfig } from "../core/config.js";
import { FakeAnalyzer, FakeCache, FakeExecutor } from "../core/fakes.test-util.js";
import { silentLog } from "../core/ports.js";
import { Precomputer } from "../core/precomputer.js";
import { validateCron } from "../core/schedule-window.js";
import { RedisRunStore } from "../store/redis-run-store.js";
import { ScheduleRunner } from "./schedule-runner.js";

const yaml = `
task_types:
  ctr_prediction: { kind: external, ttl_seconds: 3600 }
schedules:
  tidy: { job: cleanup, every: 400ms, lease: 300ms, retry_after: 100ms }
  slow: { job: cleanup, every: 1h, lease: 300ms }
`;
const registry = parseTaskTypes(yaml);
const config = parsePrecomputerConfig(registry.raw, registry, validateCron);
let prefixes = 0;

/** Three replicas on one Redis, each with its own connection and owner, sharing one analyzer that counts runs. */
function replicas(analyzer: FakeAnalyzer) {
  const prefix = `test:once:${process.pid}:${++prefixes}:`;
  return ["r1", "r2", "r3"].map((owner) => {
    const runs = new RedisRunStore(inject("redisUrl"), { keyPrefix: prefix });
    const core = new Precomputer({
      taskTypes: registry,
      config,
      executor: new FakeExecutor(),
      cache: new FakeCache(),
      analyzer,
      runs,
      clock: systemClock,
      owner,
    });
    return { core, runs };
  });
}

const stores: RedisRunStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

describe("exactly-once schedule runs on one Redis", () => {
  it("three replicas racing for the same windows run each window exactly once", async () => {
    const analyzer = new FakeAnalyzer();
    const rs = replicas(analyzer);
    stores.push(...rs.map((r) => r.runs));
    await Promise.all(rs.map((r) => r.runs.ready()));
    const runners = rs.map((r) => new ScheduleRunner(r.core, silentLog));
    for (const runner of runners) runner.start();
    await sleep(2100);
    await Promise.all(runners.map((r) => r.stop()));
    const runs = (await rs[0]?.core.listRuns("tidy", 100)) ?? [];
    const windows = new Set(runs.map((r) => r.windowStart));
    expect(windows.size).toBe(runs.length);
    expect(runs.length).toBeGreaterThanOrEqual(5);
    expect(runs.every((r) => r.status === "succeeded")).toBe(true);
    // One clean-up call per run of either schedule: no window ran twice.
    const slow = (await rs[0]?.core.listRuns("slow", 100)) ?? [];
    expect(slow).toHaveLength(1);
    expect(analyzer.calls.filter((c) => c === "cleanup")).toHaveLength(runs.length + slow.length);
  });

  it("takes over a run whose replica crashed mid-run, after its lease lapses, exactly once", async () => {
    const analyzer = new FakeAnalyzer();
    const rs = replicas(analyzer);
    stores.push(...rs.map((r) => r.runs));
    const [r1, r2, r3] = rs;
    if (!r1 || !r2 || !r3) throw new Error("three replicas");
    const windowStart = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const key = `slow@${new Date(windowStart).toISOString()}`;
    // r1 claims the window and dies before finishing: it never renews its lease.
    const claim = await r1.runs.claim({
      key,
      schedule: "slow",
      windowStart,
      owner: "r1",
      now: Date.now(),
      leaseMs: 300,
      maxAttempts: 5,
    });
    expect(claim.claimed).toBe(true);
    // While the lease lives, nobody else runs it.
    const early = await Promise.all([r2.core.tick("slow"), r3.core.tick("slow")]);
    expect(early.map((o) => o?.ran)).toEqual([false, false]);
    await sleep(350);
    const late = await Promise.all([r2.core.tick("slow"), r3.core.tick("slow"), r2.core.tick("slow")]);
    const ran = late.filter((o) => o?.ran);
    expect(ran).toHaveLength(1);
    expect(ran[0]?.record).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(["r2", "r3"]).toContain(ran[0]?.record.owner);
    expect(analyzer.calls.filter((c) => c === "cleanup")).toHaveLength(1);
    // The crashed replica's late outcome is dropped.
    expect(
      await r1.runs.finish(key, "r1", {
        status: "failed",
        finishedAt: Date.now(),
        items: 0,
        error: "late",
        note: "",
      }),
    ).toBe(false);
    expect(await r1.runs.get(key)).toMatchObject({ status: "succeeded" });
  });

  it("keeps a long run alive by renewing its lease, so nobody takes it over", async () => {
    const analyzer = new FakeAnalyzer();
    let release: () => void = () => {};
    analyzer.cleanup = async () => {
      analyzer.calls.push("cleanup");
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return 1;
    };
    const rs = replicas(analyzer);
    stores.push(...rs.map((r) => r.runs));
    const [r1, r2] = rs;
    if (!r1 || !r2) throw new Error("replicas");
    const running = r1.core.tick("slow");
    await sleep(700); // more than twice the lease
    expect(await r2.core.tick("slow")).toMatchObject({ ran: false, why: "running" });
    release();
    expect(await running).toMatchObject({ ran: true, record: { status: "succeeded", attempts: 1 } });
  });
});
