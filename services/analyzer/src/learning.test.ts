import { InvalidArgumentError, ManualClock } from "@prescient/core";
import { describe, expect, it } from "vitest";
import type { Analyzer } from "./analyzer.js";
import { coreAnalyzer, query } from "./analyzer.test-util.js";
import type { DomainEventInput } from "./core/domain-events.js";
import { emptyIngestResult, type IngestResult } from "./core/events.js";

const t0 = Date.UTC(2025, 1, 10, 9);
const sec = 1000;
const hour = 3_600_000;

const domainEvent = (
  time: number,
  type: string,
  entityId: string,
  userId: string,
  extra: Partial<DomainEventInput> = {},
): DomainEventInput => ({ time: new Date(time), tenant: "acme", type, entityId, userId, ...extra });

function events(analyzer: Analyzer, clock: ManualClock, inputs: DomainEventInput[]): IngestResult {
  clock.set(Math.max(clock.now(), ...inputs.map((e) => e.time?.getTime() ?? 0)));
  const result = emptyIngestResult();
  analyzer.recordEvents(inputs, result);
  return result;
}

async function reads(analyzer: Analyzer, clock: ManualClock, inputs: ReturnType<typeof query>[]) {
  clock.set(Math.max(clock.now(), ...inputs.map((e) => e.time?.getTime() ?? 0)));
  const result = emptyIngestResult();
  await analyzer.recordQueries(inputs, result);
  expect(result.rejections).toEqual([]);
}

/**
 * Ten users create a campaign and upload a video; an hour later all ten log
 * in. Every upload is followed by its captions; every login by the user's
 * dashboard, and seven of ten by the analytics of the campaign they created
 * (which the login does not name).
 */
async function adPlatform(analyzer: Analyzer, clock: ManualClock, tenant = "acme"): Promise<void> {
  const users = Array.from({ length: 10 }, (_, i) => i);
  const r1 = events(
    analyzer,
    clock,
    users.flatMap((i) => [
      domainEvent(t0, "campaign_created", `c${i}`, `u${i}`, { tenant }),
      domainEvent(t0, "video_uploaded", `v${i}`, `u${i}`, { tenant }),
    ]),
  );
  expect([r1.accepted, r1.rejected]).toEqual([20, 0]);
  await reads(
    analyzer,
    clock,
    // Read by no user: a read by the uploader would also count as a related read after campaign_created.
    users.map((i) => query(t0 + 30 * sec, tenant, "video_captions", `v${i}`)),
  );
  const login = t0 + hour;
  events(
    analyzer,
    clock,
    users.map((i) => domainEvent(login, "user_login", "", `u${i}`, { tenant })),
  );
  await reads(analyzer, clock, [
    ...users.map((i) => query(login + 2 * sec, tenant, "user_dashboard", `u${i}`, { userId: `u${i}` })),
    ...users
      .filter((i) => i < 7)
      .map((i) => query(login + 5 * sec, tenant, "campaign_analytics", `c${i}`, { userId: `u${i}` })),
  ]);
}

describe("Analyzer: learned fan-out rules and entity relations", () => {
  it("learns entity-, user- and related-keyed rules from RecordEvents and the reads that follow", async () => {
    const clock = new ManualClock(t0);
    const analyzer = coreAnalyzer(clock);
    await adPlatform(analyzer, clock);
    const rules = analyzer.learnedRules("acme");
    // No read followed a campaign's creation within the window: its rule has no target.
    expect(rules.map((r) => r.event)).toEqual(["campaign_created", "user_login", "video_uploaded"]);
    expect(rules[0]!.targets).toEqual([]);
    const login = rules[1]!;
    expect(login.tenant).toBe("acme");
    expect(login.support).toBeCloseTo(10, 2);
    expect(login.targets.map((t) => [t.taskType, t.keyBy])).toEqual([
      ["user_dashboard", "user"],
      ["campaign_analytics", "related"],
    ]);
    expect(login.targets[0]!.probability).toBeCloseTo(1, 9);
    expect(login.targets[0]!.meanDelayMs).toBeCloseTo(2 * sec, 6);
    expect(login.targets[1]!.probability).toBeCloseTo(0.7, 9);
    expect(login.targets[1]!.meanDelayMs).toBeCloseTo(5 * sec, 6);
    expect(rules[2]!.targets).toEqual([
      expect.objectContaining({ taskType: "video_captions", keyBy: "entity", probability: 1 }),
    ]);
    expect(analyzer.learnedRuleCount()).toBe(3);
    // "" is every tenant's.
    expect(analyzer.learnedRules()).toEqual(rules);
    expect(analyzer.learnedRules("")).toEqual(rules);

    // u0 created c0 and uploaded v0; campaign_analytics is read for campaigns, so only c0.
    expect(analyzer.relatedEntities("acme", "u0", 10, "campaign_analytics").map((e) => e.entityId)).toEqual([
      "c0",
    ]);
    // A user whose analytics were never read still gets their campaign: the kind is tenant-wide.
    expect(analyzer.relatedEntities("acme", "u9", 10, "campaign_analytics").map((e) => e.entityId)).toEqual([
      "c9",
    ]);
    expect(
      analyzer
        .relatedEntities("acme", "u0", 0)
        .map((e) => e.entityId)
        .sort(),
    ).toEqual(["c0", "v0"]);
    expect(analyzer.relationSubjectCount()).toBe(10);
  });

  it("learns a login's related reads where the backends name no user, through the entities' creators", async () => {
    const clock = new ManualClock(t0);
    const analyzer = coreAnalyzer(clock);
    const users = Array.from({ length: 10 }, (_, i) => i);
    // In acme no read names its user; globex's backends name them (one dashboard read says so).
    for (const tenant of ["acme", "globex"])
      events(
        analyzer,
        clock,
        users.flatMap((i) => [
          domainEvent(t0, "campaign_created", `c${i}`, `u${i}`, { tenant }),
          domainEvent(t0, "video_uploaded", `v${i}`, `u${i}`, { tenant }),
        ]),
      );
    await reads(analyzer, clock, [query(t0 + sec, "globex", "user_dashboard", "u0", { userId: "u0" })]);
    const login = t0 + hour;
    for (const tenant of ["acme", "globex"]) {
      events(
        analyzer,
        clock,
        users.map((i) => domainEvent(login, "user_login", "", `u${i}`, { tenant })),
      );
      await reads(
        analyzer,
        clock,
        users.filter((i) => i < 7).map((i) => query(login + 5 * sec, tenant, "campaign_analytics", `c${i}`)),
      );
    }
    const acme = analyzer.learnedRules("acme").find((r) => r.event === "user_login");
    expect(acme?.targets.map((t) => [t.taskType, t.keyBy, t.probability])).toEqual([
      ["campaign_analytics", "related", expect.closeTo(0.7, 9)],
    ]);
    // The kind is learned too: a login warms the user's campaigns, not their videos.
    expect(analyzer.relatedEntities("acme", "u9", 10, "campaign_analytics").map((e) => e.entityId)).toEqual([
      "c9",
    ]);
    // Where reads name users, one that does not is someone else's: nothing is learned through relations.
    expect(analyzer.learnedRules("globex").find((r) => r.event === "user_login")?.targets).toEqual([]);
    expect(
      analyzer
        .relatedEntities("globex", "u9", 10, "campaign_analytics")
        .map((e) => e.entityId)
        .sort(),
    ).toEqual(["c9", "v9"]);
  });

  it("keeps tenants apart: the same ids in two tenants learn and answer separately", async () => {
    const clock = new ManualClock(t0);
    const analyzer = coreAnalyzer(clock);
    await adPlatform(analyzer, clock, "acme");
    // Tenant "other" sees the same events but reads nothing.
    events(analyzer, clock, [
      domainEvent(t0 + 2 * hour, "user_login", "", "u0", { tenant: "other" }),
      domainEvent(t0 + 2 * hour, "video_uploaded", "v0", "u0", { tenant: "other" }),
    ]);
    // Two events are below the support a rule needs.
    expect(analyzer.learnedRules("other")).toEqual([]);
    expect(analyzer.learnedRules("acme").every((r) => r.tenant === "acme")).toBe(true);
    expect(analyzer.relatedEntities("other", "u0", 10).map((e) => e.entityId)).toEqual(["v0"]);
    expect(analyzer.relatedEntities("other", "u0", 10, "campaign_analytics").map((e) => e.entityId)).toEqual([
      "v0",
    ]);
    expect(analyzer.relatedEntities("nobody", "u0", 10)).toEqual([]);
  });

  it("takes explicit relations from RecordEvents and RecordActions related_entity_ids", async () => {
    const clock = new ManualClock(t0);
    const analyzer = coreAnalyzer(clock);
    const r = events(analyzer, clock, [
      domainEvent(t0, "user_login", "", "u1", { relatedEntityIds: ["c1", "c2"] }),
      domainEvent(t0, "campaign_created", "c3", "u1", { relatedEntityIds: ["v3"] }),
      domainEvent(t0, "campaign_updated", "c4", "", { relatedEntityIds: ["v4", "c4"] }),
    ]);
    expect([r.accepted, r.rejected]).toEqual([3, 0]);
    expect(
      analyzer
        .relatedEntities("acme", "u1", 10)
        .map((e) => e.entityId)
        .sort(),
    ).toEqual(["c1", "c2", "c3", "v3"]);
    // The event's entity is related to what it names too; never to itself.
    expect(analyzer.relatedEntities("acme", "c3", 10).map((e) => e.entityId)).toEqual(["v3"]);
    expect(analyzer.relatedEntities("acme", "c4", 10).map((e) => e.entityId)).toEqual(["v4"]);

    const actions = emptyIngestResult();
    await analyzer.recordActions(
      [
        {
          time: new Date(t0),
          tenant: "acme",
          userId: "u2",
          action: "open_campaign",
          attributes: {},
          relatedEntityIds: ["c7"],
        },
        {
          time: new Date(t0),
          tenant: "acme",
          userId: "u2",
          action: "open_campaign",
          attributes: {},
          relatedEntityIds: Array.from({ length: 65 }, (_, i) => `c${i}`),
        },
      ],
      actions,
    );
    expect([actions.accepted, actions.rejected]).toEqual([1, 1]);
    expect(actions.rejections[0]).toEqual({
      index: 1,
      reason: expect.stringMatching(/65 ids; the limit is 64/),
    });
    expect(analyzer.relatedEntities("acme", "u2", 10).map((e) => e.entityId)).toEqual(["c7"]);

    // Limit 0 takes 10.
    events(analyzer, clock, [
      domainEvent(t0, "user_login", "", "u3", {
        relatedEntityIds: Array.from({ length: 12 }, (_, i) => `x${i}`),
      }),
    ]);
    expect(analyzer.relatedEntities("acme", "u3", 0)).toHaveLength(10);
    expect(analyzer.relatedEntities("acme", "u3", 1000)).toHaveLength(12);
  });

  it("rejects bad events one by one with reasons, and a message of too many events as a whole", () => {
    const clock = new ManualClock(t0);
    const analyzer = coreAnalyzer(clock, { maxEventsPerMessage: 50 });
    const r = emptyIngestResult();
    analyzer.recordEvents(
      [
        domainEvent(t0, "user_login", "", "u1"),
        domainEvent(t0, "Bad-Type", "", "u1"),
        domainEvent(t0, "user_login", "", "u1", { tenant: "a/b" }),
        domainEvent(t0, "user_login", "", "u1", {
          relatedEntityIds: Array.from({ length: 65 }, (_, i) => `c${i}`),
        }),
        domainEvent(t0, "user_login", "", ""),
        domainEvent(t0 + hour, "user_login", "", "u1"),
        domainEvent(t0, "user_login", "", "\uFFFD"),
        domainEvent(t0, "user_login", "", "u1", { relatedEntityIds: ["ok", ""] }),
        domainEvent(t0, "user_login", "", "u1", { tenant: "" }),
      ],
      r,
    );
    expect(r.accepted).toBe(1);
    expect(r.rejected).toBe(8);
    expect(r.rejections.map((x) => x.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const [type, tenant, many, none, future, user, related, empty] = r.rejections.map((x) => x.reason);
    expect(type).toMatch(/type "Bad-Type" must match/);
    expect(tenant).toMatch(/tenant "a\/b"/);
    expect(many).toMatch(/related_entity_ids holds 65 ids; the limit is 64/);
    expect(none).toMatch(/needs an entity_id or a user_id/);
    expect(future).toMatch(/future/);
    expect(user).toBe("user_id is not valid UTF-8");
    expect(related).toMatch(/related_entity_ids\[1\]/);
    expect(empty).toMatch(/tenant is empty/);

    const tooMany = Array.from({ length: 51 }, () => domainEvent(t0, "user_login", "", "u1"));
    expect(() => analyzer.recordEvents(tooMany, emptyIngestResult())).toThrow(InvalidArgumentError);
    expect(() => analyzer.recordEvents(tooMany, emptyIngestResult())).toThrow(/51 events.*limit is 50/);
  });

  it("throws InvalidArgumentError on a bad tenant, subject, limit or task type", () => {
    const analyzer = coreAnalyzer(new ManualClock(t0));
    const bad = (f: () => unknown, message: RegExp) => {
      expect(f).toThrow(InvalidArgumentError);
      expect(f).toThrow(message);
    };
    bad(() => analyzer.learnedRules("a/b"), /tenant "a\/b"/);
    bad(() => analyzer.learnedRules("x".repeat(1000)), /tenant is longer/);
    bad(() => analyzer.relatedEntities("", "u1", 10), /tenant is empty/);
    bad(() => analyzer.relatedEntities("a/b", "u1", 10), /tenant/);
    bad(() => analyzer.relatedEntities("acme", "", 10), /^subject is empty$/);
    bad(
      () => analyzer.relatedEntities("acme", "x".repeat(10_000), 10),
      /^subject is 10000 bytes; the limit is/,
    );
    bad(() => analyzer.relatedEntities("acme", "u1", 1001), /limit must be from 0 to 1000/);
    bad(() => analyzer.relatedEntities("acme", "u1", -1), /limit/);
    bad(() => analyzer.relatedEntities("acme", "u1", 1.5), /limit/);
    bad(() => analyzer.relatedEntities("acme", "u1", Number.NaN), /limit/);
    bad(() => analyzer.relatedEntities("acme", "u1", 10, "Bad-Type"), /task_type "Bad-Type"/);
    bad(() => analyzer.relatedEntities("acme", "u1", 10, ""), /task_type is empty/);
  });
});

describe("next reads", () => {
  it("after a user's read, queues what they are learned to read next: the user's own and their related entity's", async () => {
    const clock = new ManualClock(t0);
    const analyzer = coreAnalyzer(clock);
    // Each user owns one campaign; in every session they open the dashboard, then 10 s later the
    // campaign's analytics, and 8 of 10 sessions the campaign's ROAS 20 s after that.
    for (let i = 0; i < 10; i++)
      events(analyzer, clock, [domainEvent(t0, "campaign_created", `c${i}`, `u${i}`)]);
    for (let s = 0; s < 10; s++) {
      const start = t0 + (s + 1) * hour;
      const rows = [];
      for (let i = 0; i < 10; i++) {
        const user = { userId: `u${i}` };
        rows.push(query(start + i * 60 * sec, "acme", "dashboard_data", `u${i}`, user));
        rows.push(query(start + i * 60 * sec + 10 * sec, "acme", "campaign_analytics", `c${i}`, user));
        if ((s + i) % 10 < 8)
          rows.push(query(start + i * 60 * sec + 30 * sec, "acme", "roas_prediction", `c${i}`, user));
      }
      await reads(
        analyzer,
        clock,
        rows.sort((a, b) => a.time!.getTime() - b.time!.getTime()),
      );
      analyzer.takeReadAhead(1000); // the precomputer's readahead job takes what is queued
    }
    // A new session: u3 opens the dashboard. Its analytics and ROAS are queued, keyed by u3's campaign.
    const next = t0 + 20 * hour;
    await reads(analyzer, clock, [query(next, "acme", "dashboard_data", "u3", { userId: "u3" })]);
    const queued = new Map(analyzer.takeReadAhead(100).map((k) => [k.key, k.confidence]));
    expect(queued.get("acme/campaign_analytics/c3")).toBeGreaterThan(0.9);
    expect(queued.get("acme/roas_prediction/c3")).toBeGreaterThan(0.7);
    expect(queued.get("acme/roas_prediction/c3")).toBeLessThan(0.9);
    // The read itself, and other users' campaigns, are not predicted.
    expect(queued.has("acme/dashboard_data/u3")).toBe(false);
    expect([...queued.keys()].filter((k) => !k.endsWith("/c3"))).toEqual([]);
    // Another tenant learned nothing.
    await reads(analyzer, clock, [query(next + sec, "globex", "dashboard_data", "u3", { userId: "u3" })]);
    expect(analyzer.takeReadAhead(100)).toEqual([]);
  });
});
