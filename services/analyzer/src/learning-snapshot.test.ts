import { randomBytes } from "node:crypto";
import { ManualClock } from "@prescient/core";
import { ServiceHost } from "@prescient/kit";
import { describe, expect, inject, it } from "vitest";
import { type Call, merged, play, workload } from "./ad-platform-workload.test-util.js";
import { Analyzer } from "./analyzer.js";
import { coreAnalyzer, ingest, MemoryPublisher, query } from "./analyzer.test-util.js";
import { emptyIngestResult } from "./core/events.js";
import { InProcessScorer } from "./model/onnx-scorer.js";
import { startAnalyzer } from "./service/start-analyzer.js";
import type { AnalyzerSettingsInput } from "./settings.js";
import type { LearningRecord } from "./store/analyzer-store.js";
import { MemoryAnalyzerStore } from "./store/memory-store.js";
import { allLearningRecords } from "./store/store-conformance.test-util.js";

/**
 * Issue 11, item 3: what the analyzer learned (fan-out rules, next reads,
 * relations) is kept in its store, so a restarted analyzer starts from it.
 */
const start = Date.UTC(2026, 10, 2, 9);

function learned(analyzer: Analyzer, tenant: string) {
  const related: Record<string, unknown> = {};
  for (const subject of ["u0", "u1", "u5", "u9", "c3", "c7"])
    for (const taskType of [undefined, "campaign_analytics", "dashboard_data"])
      related[`${subject}/${taskType}`] = analyzer.relatedEntities(tenant, subject, 10, taskType);
  return { rules: analyzer.learnedRules(tenant), related };
}

/** An analyzer on `store` that has read what the store holds. */
async function startedOn(
  store: MemoryAnalyzerStore,
  clock: ManualClock,
  settings: AnalyzerSettingsInput = {},
) {
  const analyzer = coreAnalyzer(clock, { daysToKeep: 30, ...settings }, store);
  await analyzer.start();
  return analyzer;
}

const login = (tenant: string, at: number) => ({
  time: new Date(at),
  tenant,
  type: "user_login",
  entityId: "u1",
  userId: "u1",
  relatedEntityIds: [],
});

const acmeAndGlobex = (): Call[] => merged(workload(5, start, ["acme"]), workload(6, start, ["globex"]));

describe("saved learned state", () => {
  it("restores every tenant's rules and relations into a new analyzer on the same store, each under its own tenant", async () => {
    const store = new MemoryAnalyzerStore();
    const clock = new ManualClock(start);
    const before = await startedOn(store, clock);
    await play(before, clock, acmeAndGlobex());
    const acme = learned(before, "acme");
    const globex = learned(before, "globex");
    expect(acme.rules.length).toBeGreaterThan(0);
    expect(Object.values(acme.related).some((r) => (r as unknown[]).length > 0)).toBe(true);

    expect(await before.saveLearning()).toBe(2);
    expect((await allLearningRecords(store)).map((r) => r.tenant).sort()).toEqual(["acme", "globex"]);

    const after = coreAnalyzer(clock, { daysToKeep: 30 }, store);
    expect(after.learnedRules()).toEqual([]);
    await after.start();
    expect(learned(after, "acme")).toEqual(acme);
    expect(learned(after, "globex")).toEqual(globex);
    // The rules decay from where they were saved, as they would have in the first analyzer.
    clock.set(clock.now() + 86_400_000);
    expect(after.learnedRules()).toEqual(before.learnedRules());
  });

  it("restores which key follows which, so a read offers its successors at once", async () => {
    // A training job's fixed shuffle of shards, read in 4 passes (15 minutes apart) by one user.
    const order = [7, 2, 11, 5, 0, 9, 14, 3, 8, 1, 12, 6, 10, 4, 13];
    const read = (at: number, shard: number) =>
      query(at, "acme", "shard_batch", `shard${shard}`, { userId: "trainer" });
    const passes = [0, 1, 2, 3].flatMap((p) =>
      order.map((shard, i) => read(start + p * 900_000 + i * 5_000, shard)),
    );
    const store = new MemoryAnalyzerStore();
    const clock = new ManualClock(start);
    const trained = await startedOn(store, clock);
    await ingest(trained, clock, passes);
    trained.takeReadAhead(100_000);
    await trained.saveLearning();

    const at = start + 4 * 900_000;
    const offeredAfter = async (analyzer: Analyzer) => {
      clock.set(at);
      await ingest(analyzer, clock, [read(at, order[4]!)]);
      return analyzer.takeReadAhead(100).map((k) => k.key);
    };
    const restored = await startedOn(store, clock);
    const fresh = await startedOn(new MemoryAnalyzerStore(), clock);
    expect(await offeredAfter(fresh)).toEqual([]);
    expect(await offeredAfter(restored)).toContain(`acme/shard_batch/shard${order[5]}`);
  });

  it("restores a record only under the tenant it is stored as", async () => {
    const store = new MemoryAnalyzerStore();
    const clock = new ManualClock(start);
    const source = await startedOn(store, clock);
    await play(source, clock, workload(5, start, ["acme"]));
    await source.saveLearning();
    const [record] = await allLearningRecords(store);
    const other = new MemoryAnalyzerStore();
    await other.putLearning({ ...record!, tenant: "globex" });
    const restored = await startedOn(other, clock);
    expect(restored.learnedRules("acme")).toEqual([]);
    expect(restored.relatedEntities("acme", "u1", 10)).toEqual([]);
    expect(restored.learnedRules("globex").map((r) => r.event)).toEqual(
      source.learnedRules("acme").map((r) => r.event),
    );
  });

  it("saves only the tenants that changed since the last save, and nothing before start has read the store", async () => {
    const store = new MemoryAnalyzerStore();
    const clock = new ManualClock(start);
    const analyzer = coreAnalyzer(clock, { daysToKeep: 30 }, store);
    await play(analyzer, clock, workload(5, start, ["acme"]));
    expect(await analyzer.saveLearning()).toBe(0); // start() has not restored: saving would overwrite
    expect(await allLearningRecords(store)).toEqual([]);
    await analyzer.start();
    await play(analyzer, clock, workload(6, clock.now() + 1000, ["globex"]));
    expect(await analyzer.saveLearning()).toBe(2); // acme's changes before start are still owed
    expect(await analyzer.saveLearning()).toBe(0);
    const at = clock.now() + 1000;
    clock.set(at);
    analyzer.recordEvents([login("globex", at)], emptyIngestResult());
    expect(await analyzer.saveLearning()).toBe(1);
    expect((await allLearningRecords(store)).find((r) => r.tenant === "globex")?.savedAt).toBe(at);
  });

  it("past 10,000 changed tenants saves every tenant it learned, and none it only restored", async () => {
    const store = new MemoryAnalyzerStore();
    const clock = new ManualClock(start);
    const source = await startedOn(store, clock);
    await play(source, clock, workload(5, start, ["acme"]));
    await source.saveLearning();
    const [saved] = await allLearningRecords(store);

    // Room for every tenant's login counts, so each holds learned state to save.
    const analyzer = await startedOn(store, clock, { fanOut: { maxEventTypes: 20_000 } });
    const at = clock.now() + 1000;
    clock.set(at);
    const tenants = Array.from({ length: 10_001 }, (_, i) => `t${i}`);
    for (let i = 0; i < tenants.length; i += 1000)
      analyzer.recordEvents(
        tenants.slice(i, i + 1000).map((t) => login(t, at)),
        emptyIngestResult(),
      );
    expect(await analyzer.saveLearning()).toBe(10_001);
    expect((await allLearningRecords(store)).find((r) => r.tenant === "acme")).toEqual(saved);
  });

  it("takes over more tenants than one batch holds, each with its own record", async () => {
    const store = new MemoryAnalyzerStore();
    const clock = new ManualClock(start);
    const owner = await startedOn(store, clock);
    const at = clock.now() + 1000;
    clock.set(at);
    const tenants = Array.from({ length: 150 }, (_, i) => `t${i}`);
    // Each tenant's login relates its user to a campaign of its own.
    owner.recordEvents(
      tenants.map((t, i) => ({ ...login(t, at), relatedEntityIds: [`c${i}`] })),
      emptyIngestResult(),
    );
    expect(await owner.saveLearning()).toBe(150);
    // A replica on the same store that never restored them: t7 is left out.
    const taker = coreAnalyzer(clock, { daysToKeep: 30 }, store);
    expect(await taker.adoptLearning((t) => t !== "t7")).toBe(149);
    for (const [i, t] of tenants.entries())
      expect(taker.relatedEntities(t, "u1", 10).map((e) => e.entityId)).toEqual(t === "t7" ? [] : [`c${i}`]);
  });

  it("remembers across a restart which tenants' reads name their user", async () => {
    const store = new MemoryAnalyzerStore();
    const clock = new ManualClock(start);
    const before = await startedOn(store, clock);
    const users = Array.from({ length: 10 }, (_, i) => i);
    before.recordEvents(
      users.flatMap((i) => [
        { ...login("globex", start), type: "campaign_created", entityId: `c${i}`, userId: `u${i}` },
        { ...login("globex", start), type: "video_uploaded", entityId: `v${i}`, userId: `u${i}` },
      ]),
      emptyIngestResult(),
    );
    // globex's backends name their users: one dashboard read says so.
    await before.recordQueries(
      [query(start + 1000, "globex", "user_dashboard", "u0", { userId: "u0" })],
      emptyIngestResult(),
    );
    await before.saveLearning();

    const after = await startedOn(store, clock);
    const at = start + 3_600_000;
    clock.set(at);
    after.recordEvents(
      users.map((i) => ({ ...login("globex", at), entityId: "", userId: `u${i}` })),
      emptyIngestResult(),
    );
    // Reads that name no user, in a tenant whose reads name users, are someone else's: not learned through relations.
    await after.recordQueries(
      users.filter((i) => i < 7).map((i) => query(at + 5000, "globex", "campaign_analytics", `c${i}`)),
      emptyIngestResult(),
    );
    expect(after.learnedRules("globex").find((r) => r.event === "user_login")?.targets).toEqual([]);
  });

  it("saves a tenant again when the store failed to take it", async () => {
    // A store that refuses one write: the fault is the store's answer, which a real Redis gives only
    // by going away mid-save, between one tenant's record and the next.
    class RefusesOnce extends MemoryAnalyzerStore {
      refused = false;
      override async putLearning(record: LearningRecord): Promise<void> {
        if (!this.refused && record.tenant === "globex") {
          this.refused = true;
          throw new Error("store unavailable");
        }
        return super.putLearning(record);
      }
    }
    const store = new RefusesOnce();
    const clock = new ManualClock(start);
    const analyzer = await startedOn(store, clock);
    await play(analyzer, clock, acmeAndGlobex());
    await expect(analyzer.saveLearning()).rejects.toThrow("store unavailable");
    expect((await allLearningRecords(store)).map((r) => r.tenant)).toEqual(["acme"]);
    expect(await analyzer.saveLearning()).toBe(1);
    expect((await allLearningRecords(store)).map((r) => r.tenant).sort()).toEqual(["acme", "globex"]);
  });

  it("starts, and relearns, past a record it cannot read", async () => {
    const store = new MemoryAnalyzerStore();
    await store.putLearning({ tenant: "acme", savedAt: start, body: "{not json" });
    await store.putLearning({ tenant: "globex", savedAt: start, body: '{"v":99}' });
    const warnings: Array<{ obj: object; msg: string }> = [];
    const clock = new ManualClock(start);
    const logged = new Analyzer(
      {
        store,
        publisher: new MemoryPublisher(),
        scorer: new InProcessScorer(),
        log: { info: () => {}, warn: (obj, msg) => warnings.push({ obj, msg }) },
      },
      { clock, daysToKeep: 30 },
    );
    await logged.start();
    expect(warnings.map((w) => [(w.obj as { tenant: string }).tenant, w.msg])).toEqual([
      ["acme", "saved learned state ignored"],
      ["globex", "saved learned state ignored"],
    ]);
    expect((warnings[1]!.obj as { reason: string }).reason).toMatch(/^v: /);
    await play(logged, clock, workload(5, start, ["acme"]));
    expect(logged.learnedRules("acme").length).toBeGreaterThan(0);
    // Taking a tenant over past such a record leaves what it learned, and says why.
    warnings.length = 0;
    expect(await logged.adoptLearning((t) => t === "acme")).toBe(0);
    expect(logged.learnedRules("acme").length).toBeGreaterThan(0);
    expect(warnings.map((w) => [(w.obj as { tenant: string }).tenant, w.msg])).toEqual([
      ["acme", "saved learned state ignored"],
    ]);
  });

  it("drops the saved state of tenants not saved within the retention at clean-up", async () => {
    const store = new MemoryAnalyzerStore();
    const clock = new ManualClock(start);
    const analyzer = await startedOn(store, clock);
    await play(analyzer, clock, workload(5, start, ["acme"]));
    await analyzer.saveLearning();
    clock.set(clock.now() + 2 * 86_400_000);
    await analyzer.cleanup(3);
    expect(await allLearningRecords(store)).toHaveLength(1);
    clock.set(clock.now() + 2 * 86_400_000);
    await analyzer.cleanup(3);
    expect(await allLearningRecords(store)).toEqual([]);
  });

  it("saves only the tenants asked for, and keeps the others owed (a ring replica saves what it owns)", async () => {
    const store = new MemoryAnalyzerStore();
    const clock = new ManualClock(start);
    const analyzer = await startedOn(store, clock);
    await play(analyzer, clock, acmeAndGlobex());
    expect(await analyzer.saveLearning((t) => t === "acme")).toBe(1);
    expect((await allLearningRecords(store)).map((r) => r.tenant)).toEqual(["acme"]);
    expect(await analyzer.saveLearning((t) => t === "acme")).toBe(0);
    expect(await analyzer.saveLearning()).toBe(1);
    expect((await allLearningRecords(store)).map((r) => r.tenant).sort()).toEqual(["acme", "globex"]);
  });

  it("takes over a tenant's saved state in place of the copy it holds, where a restore would keep that copy", async () => {
    const store = new MemoryAnalyzerStore();
    const clock = new ManualClock(start);
    // The replica taking acme over started (and restored) long ago, and heard of acme before it moved away.
    const taker = await startedOn(store, clock);
    await play(taker, clock, workload(7, start, ["acme"]).slice(0, 40));
    const stale = learned(taker, "acme");
    expect(stale.rules.length).toBeGreaterThan(0);
    // Meanwhile its owner learned acme's traffic in full, and saved it.
    const owner = await startedOn(store, clock);
    await play(owner, clock, acmeAndGlobex());
    await owner.saveLearning();
    const current = learned(owner, "acme");
    expect(current).not.toEqual(stale);
    const globexBefore = learned(taker, "globex");

    expect(await taker.adoptLearning((t) => t === "acme")).toBe(1);
    expect(learned(taker, "acme")).toEqual(current);
    // Only the tenants asked for are replaced.
    expect(learned(taker, "globex")).toEqual(globexBefore);
    // A restore merges, keeping what the process held: it does not answer the owner's state.
    const merging = coreAnalyzer(clock, { daysToKeep: 30 }, store);
    await play(merging, clock, workload(7, start, ["acme"]).slice(0, 40));
    await merging.start();
    expect(learned(merging, "acme")).not.toEqual(current);
  });
});

describe("the analyzer service on Redis, restarted", () => {
  it("saves what it learned at shutdown and serves it again after a restart", async () => {
    const keyPrefix = `test:{analyzer-learn-${randomBytes(4).toString("hex")}}:`;
    const options = {
      store: { redisUrl: inject("redisUrl"), keyPrefix },
      retrainIntervalMs: 0,
      cleanupIntervalMs: 0,
      learningSaveIntervalMs: 0,
    };
    // The workload's times, shifted to end now: the service runs on the wall clock.
    const calls = acmeAndGlobex();
    const shift = Date.now() - (calls.at(-1)?.at ?? start);
    const clockless = { set: () => {} };
    const shifted = calls.map((c): Call => {
      const at = c.at + shift;
      const move = <T extends { time?: Date | undefined }>(e: T): T => ({
        ...e,
        time: new Date((e.time?.getTime() ?? c.at) + shift),
      });
      if (c.kind === "stream") return { ...c, at, messages: c.messages.map((m) => m.map(move)) };
      return { ...c, at, events: (c.events as Array<{ time?: Date }>).map(move) } as Call;
    });

    const first = new ServiceHost({ address: "127.0.0.1:0" });
    const before = await startAnalyzer(first, options);
    await first.start();
    await before.ready;
    await play(before.analyzer, clockless, shifted);
    const rules = before.analyzer.learnedRules();
    const related = before.analyzer.relatedEntities("acme", "u1", 10);
    expect(rules.length).toBeGreaterThan(0);
    await first.shutdown();

    const second = new ServiceHost({ address: "127.0.0.1:0" });
    const after = await startAnalyzer(second, options);
    try {
      await second.start();
      await after.ready;
      // Support decays over the milliseconds between the two reads; what was learned is the same.
      const restored = after.analyzer.learnedRules();
      const view = (rs: typeof rules) =>
        rs.map((r) => ({ tenant: r.tenant, event: r.event, targets: r.targets.map((t) => t.taskType) }));
      expect(view(restored)).toEqual(view(rules));
      for (const [i, r] of restored.entries()) expect(r.support / rules[i]!.support).toBeCloseTo(1, 3);
      expect(after.analyzer.relatedEntities("acme", "u1", 10).map((r) => r.entityId)).toEqual(
        related.map((r) => r.entityId),
      );
    } finally {
      await second.shutdown();
    }
  });
});
