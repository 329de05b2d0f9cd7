import { describe, expect, it } from "vitest";
import { EntityRelations } from "./entity-relations.js";
import { FanOutLearner, type FanOutLearnerOptions, type LearnedRule } from "./fan-out-learner.js";

const t0 = Date.UTC(2025, 0, 6, 9);
const sec = 1000;
const min = 60 * sec;
const hour = 60 * min;
/** No decay at all, so shares are exact. */
const noDecay = Number.POSITIVE_INFINITY;

function learner(options: Partial<FanOutLearnerOptions> = {}, relations = new EntityRelations()) {
  return {
    relations,
    learner: new FanOutLearner(relations, { halfLifeMs: noDecay, minSupport: 5, minShare: 0.2, ...options }),
  };
}

const ruleOf = (rules: LearnedRule[], tenant: string, event: string) =>
  rules.find((r) => r.tenant === tenant && r.event === event);

const targetOf = (rule: LearnedRule | undefined, taskType: string, keyBy: string) =>
  rule?.targets.find((t) => t.taskType === taskType && t.keyBy === keyBy);

describe("FanOutLearner", () => {
  it("learns an entity-keyed target: 7 of 10 uploads followed by a read of the video → 0.7, with the mean delay", () => {
    const { learner: l } = learner();
    for (let i = 0; i < 10; i++) {
      const at = t0 + i * min;
      l.observeEvent("acme", "video_uploaded", `v${i}`, `u${i}`, at);
      // The first 7 are read after 1..7 s: mean 4 s.
      if (i < 7) l.observeRead("acme", "video_captions", `v${i}`, "", at + (i + 1) * sec);
    }
    const rule = ruleOf(l.rules(t0 + hour), "acme", "video_uploaded");
    expect(rule?.support).toBeCloseTo(10, 9);
    expect(rule?.targets).toHaveLength(1);
    const t = targetOf(rule, "video_captions", "entity");
    expect(t?.probability).toBeCloseTo(0.7, 9);
    expect(t?.meanDelayMs).toBeCloseTo(4 * sec, 6);
  });

  it("learns a user-keyed target: the read's entity is the event's user", () => {
    const { learner: l } = learner();
    for (let i = 0; i < 10; i++) {
      const at = t0 + i * min;
      l.observeEvent("acme", "user_login", "", `u${i}`, at);
      // 8 of 10 logins are followed by the user's dashboard after 2 s.
      if (i < 8) l.observeRead("acme", "user_dashboard", `u${i}`, `u${i}`, at + 2 * sec);
    }
    const t = targetOf(ruleOf(l.rules(t0 + hour), "acme", "user_login"), "user_dashboard", "user");
    expect(t?.probability).toBeCloseTo(0.8, 9);
    expect(t?.meanDelayMs).toBeCloseTo(2 * sec, 6);
  });

  it("learns a related-keyed target: the user reads an entity related to them, which the event does not name", () => {
    const { learner: l, relations } = learner();
    for (let i = 0; i < 10; i++) relations.relate("acme", `u${i}`, `c${i}`, t0 - hour, "campaign_created");
    for (let i = 0; i < 10; i++) {
      const at = t0 + i * min;
      l.observeEvent("acme", "user_login", "", `u${i}`, at);
      if (i < 6) l.observeRead("acme", "campaign_analytics", `c${i}`, `u${i}`, at + 3 * sec);
    }
    // A read of an entity the user is not related to is no related read.
    l.observeEvent("acme", "user_login", "", "u9", t0 + 20 * min);
    l.observeRead("acme", "campaign_analytics", "c-unrelated", "u9", t0 + 20 * min + sec);
    const rule = ruleOf(l.rules(t0 + hour), "acme", "user_login");
    expect(rule?.support).toBeCloseTo(11, 9);
    expect(rule?.targets.map((t) => `${t.taskType}/${t.keyBy}`)).toEqual(["campaign_analytics/related"]);
    expect(rule?.targets[0]?.probability).toBeCloseTo(6 / 11, 9);
    expect(rule?.targets[0]?.meanDelayMs).toBeCloseTo(3 * sec, 6);
  });

  it("credits a read that names no user through the reader's relation only to the subject's events about themselves", () => {
    const { learner: l, relations } = learner();
    for (let i = 0; i < 10; i++) relations.relate("acme", `u${i}`, `c${i}`, t0 - hour, "campaign_created");
    for (let i = 0; i < 10; i++) {
      const at = t0 + i * min;
      // A login (about the user) and, at once, a campaign of theirs made (about the campaign).
      l.observeEvent("acme", "user_login", "", `u${i}`, at);
      l.observeEvent("acme", "campaign_created", `c${i}`, `u${i}`, at);
      if (i < 6) l.observeReadThrough("acme", "campaign_analytics", `c${i}`, `u${i}`, at + 3 * sec);
    }
    // Through a subject not related to the entity: no credit.
    l.observeEvent("acme", "user_login", "", "u9", t0 + 20 * min);
    l.observeReadThrough("acme", "campaign_analytics", "c0", "u9", t0 + 20 * min + sec);
    const rules = l.rules(t0 + hour);
    const login = ruleOf(rules, "acme", "user_login");
    expect(login?.targets.map((t) => `${t.taskType}/${t.keyBy}`)).toEqual(["campaign_analytics/related"]);
    expect(login?.targets[0]?.probability).toBeCloseTo(6 / 11, 9);
    // The same reads by the user would count for the campaign's creation too; read through the relation, they do not.
    expect(ruleOf(rules, "acme", "campaign_created")?.targets).toEqual([]);
  });

  it("lists targets most probable first, and rules by tenant then event", () => {
    const { learner: l } = learner();
    for (let i = 0; i < 10; i++) {
      const at = t0 + i * min;
      l.observeEvent("b", "video_uploaded", `v${i}`, `u${i}`, at);
      l.observeEvent("a", "video_uploaded", `v${i}`, `u${i}`, at);
      l.observeEvent("a", "campaign_created", `c${i}`, `u${i}`, at);
      l.observeRead("a", "video_thumbnail", `v${i}`, "", at + sec);
      if (i < 5) l.observeRead("a", "video_captions", `v${i}`, "", at + sec);
      l.observeRead("a", "campaign_analytics", `c${i}`, "", at + sec);
      l.observeRead("b", "video_thumbnail", `v${i}`, "", at + sec);
    }
    const rules = l.rules(t0 + hour);
    expect(rules.map((r) => `${r.tenant}/${r.event}`)).toEqual([
      "a/campaign_created",
      "a/video_uploaded",
      "b/video_uploaded",
    ]);
    expect(rules[1]?.targets.map((t) => [t.taskType, t.probability])).toEqual([
      ["video_thumbnail", 1],
      ["video_captions", 0.5],
    ]);
  });

  it("orders targets of equal probability by task type then key; a user's act answers its rule as rules() lists it", () => {
    const { learner: l } = learner({ minDelayMs: sec });
    const types = ["b_x", "a", "b"];
    for (let i = 0; i < 10; i++) {
      const at = t0 + i * min;
      l.observeEvent("acme", "login", `v${i}`, `u${i}`, at);
      for (const type of types) {
        l.observeRead("acme", type, `u${i}`, "", at + sec); // keyed by the event's user
        l.observeRead("acme", type, `v${i}`, "", at + sec); // keyed by its entity
      }
      if (i < 5) l.observeRead("acme", "c", `v${i}`, "", at + sec);
    }
    const at = t0 + hour;
    const targets = (rule: readonly { taskType: string; keyBy: string }[] | undefined) =>
      rule?.map((t) => `${t.taskType}:${t.keyBy}`);
    // Ties go by type and key as one string ("b_x" + "entity" before "b" + "entity"), as rules always listed them.
    const order = ["a:entity", "a:user", "b_x:entity", "b_x:user", "b:entity", "b:user", "c:entity"];
    expect(targets(ruleOf(l.rules(at), "acme", "login")?.targets)).toEqual(order);
    // The act counts as one more login (of 11, 5 followed by c).
    const acted = l.observeAct("acme", "login", "u0", at);
    expect(targets(acted)).toEqual(order);
    expect(acted?.at(-1)?.probability).toBeCloseTo(5 / 11, 12);
    expect(targets(ruleOf(l.rules(at), "acme", "login")?.targets)).toEqual(order);
    // The same act again within minDelayMs: nothing new to predict. Past it, or another act: answered.
    expect(l.observeAct("acme", "login", "u0", at + sec - 1)).toBeUndefined();
    expect(targets(l.observeAct("acme", "login", "u1", at + sec - 1))).toEqual(order);
    expect(targets(l.observeAct("acme", "login", "u0", at + 2 * sec))).toEqual(order);
    // No rule: an act never seen before, or one below minSupport.
    expect(l.observeAct("acme", "logout", "u0", at)).toBeUndefined();
  });

  it("counts no read outside the window or before the event", () => {
    const { learner: l } = learner({ windowMs: 10 * min });
    for (let i = 0; i < 10; i++) {
      const at = t0 + i * hour;
      // Before the event: not a read that followed it, whether it arrives before the event or after.
      l.observeRead("acme", "video_captions", `v${i}`, "", at - sec);
      l.observeEvent("acme", "video_uploaded", `v${i}`, "", at);
      l.observeRead("acme", "video_summary", `v${i}`, "", at - sec);
      // At the window's edge: counts.
      l.observeRead("acme", "video_preview", `v${i}`, "", at + 10 * min);
      // Past the window.
      l.observeRead("acme", "video_thumbnail", `v${i}`, "", at + 10 * min + 1);
    }
    const rule = ruleOf(l.rules(t0 + 10 * hour), "acme", "video_uploaded");
    expect(rule?.targets.map((t) => t.taskType)).toEqual(["video_preview"]);
    expect(rule?.targets[0]?.meanDelayMs).toBeCloseTo(10 * min, 6);
  });

  it("credits each occurrence once per target, however often it is read, at the first read's delay", () => {
    const { learner: l } = learner();
    for (let i = 0; i < 10; i++) {
      const at = t0 + i * hour;
      l.observeEvent("acme", "video_uploaded", `v${i}`, "", at);
      for (let r = 1; r <= 5; r++) l.observeRead("acme", "video_captions", `v${i}`, "", at + r * sec);
    }
    const t = targetOf(ruleOf(l.rules(t0 + 10 * hour), "acme", "video_uploaded"), "video_captions", "entity");
    expect(t?.probability).toBe(1);
    expect(t?.meanDelayMs).toBeCloseTo(sec, 6);
    // Two occurrences awaiting reads on one entity are each credited by the read after both.
    const { learner: m } = learner({ minSupport: 2 });
    m.observeEvent("acme", "video_uploaded", "v", "", t0);
    m.observeEvent("acme", "video_uploaded", "v", "", t0 + sec);
    m.observeRead("acme", "video_captions", "v", "", t0 + 2 * sec);
    const both = targetOf(ruleOf(m.rules(t0 + hour), "acme", "video_uploaded"), "video_captions", "entity");
    expect(both?.probability).toBe(1);
    expect(both?.meanDelayMs).toBeCloseTo(1.5 * sec, 6);
  });

  it("offers no rule below minSupport decayed events, and no target below minShare", () => {
    const { learner: l } = learner({ minSupport: 5, minShare: 0.25 });
    for (let i = 0; i < 4; i++) {
      l.observeEvent("acme", "video_uploaded", `v${i}`, "", t0 + i * min);
      l.observeRead("acme", "video_captions", `v${i}`, "", t0 + i * min + sec);
    }
    expect(l.rules(t0 + hour)).toEqual([]);
    expect(l.ruleCount(t0 + hour)).toBe(0);
    for (let i = 4; i < 12; i++) {
      l.observeEvent("acme", "video_uploaded", `v${i}`, "", t0 + i * min);
      // 3 of 12 thumbnails (0.25: kept), 2 of 12 previews (0.17: left out).
      if (i < 7) l.observeRead("acme", "video_thumbnail", `v${i}`, "", t0 + i * min + sec);
      if (i < 6) l.observeRead("acme", "video_preview", `v${i}`, "", t0 + i * min + sec);
    }
    const rule = ruleOf(l.rules(t0 + hour), "acme", "video_uploaded");
    expect(rule?.targets.map((t) => [t.taskType, t.probability])).toEqual([
      ["video_captions", 4 / 12],
      ["video_thumbnail", 3 / 12],
    ]);
    expect(l.ruleCount(t0 + hour)).toBe(1);
    // A supported event whose every target is below the share is offered with no target: its results go unread.
    for (let i = 0; i < 10; i++) l.observeEvent("acme", "campaign_created", `c${i}`, "", t0 + i * min);
    l.observeRead("acme", "campaign_analytics", "c0", "", t0 + sec);
    expect(ruleOf(l.rules(t0 + hour), "acme", "campaign_created")?.targets).toEqual([]);
    expect(l.ruleCount(t0 + hour)).toBe(2);
    expect(l.ruleCount(t0 + hour)).toBe(l.rules(t0 + hour).length);
  });

  it("follows a change of behaviour: over a few half-lives the rule moves from type A's reads to type B's", () => {
    const { learner: l } = learner({ halfLifeMs: hour, windowMs: min });
    let at = t0;
    // One hour of uploads followed by captions...
    for (; at < t0 + hour; at += min) {
      l.observeEvent("acme", "video_uploaded", `v${at}`, "", at);
      l.observeRead("acme", "video_captions", `v${at}`, "", at + sec);
    }
    const before = ruleOf(l.rules(at), "acme", "video_uploaded");
    expect(before?.targets.map((t) => t.taskType)).toEqual(["video_captions"]);
    // ...then by thumbnails instead.
    for (; at < t0 + hour + 10 * min; at += min) {
      l.observeEvent("acme", "video_uploaded", `v${at}`, "", at);
      l.observeRead("acme", "video_thumbnail", `v${at}`, "", at + sec);
    }
    const soon = ruleOf(l.rules(at), "acme", "video_uploaded");
    // Ten minutes in, captions still lead.
    expect(soon?.targets[0]?.taskType).toBe("video_captions");
    for (; at < t0 + 5 * hour; at += min) {
      l.observeEvent("acme", "video_uploaded", `v${at}`, "", at);
      l.observeRead("acme", "video_thumbnail", `v${at}`, "", at + sec);
    }
    const after = ruleOf(l.rules(at), "acme", "video_uploaded");
    expect(after?.targets.map((t) => t.taskType)).toEqual(["video_thumbnail"]);
    expect(after?.targets[0]?.probability).toBeGreaterThan(0.9);
    // Support decays too: after quiet half-lives the rule is no longer offered.
    expect(l.rules(at + 10 * hour)).toEqual([]);
  });

  it("dates a read's credit at its event, so a long delay under fast decay does not inflate the share", () => {
    const { learner: l } = learner({ halfLifeMs: hour, windowMs: 15 * min });
    for (let i = 0; i < 100; i++) {
      const at = t0 + i * min;
      l.observeEvent("acme", "video_uploaded", `v${i}`, "", at);
      // Every other upload is read 14 minutes later: half of them, whatever the decay.
      if (i % 2 === 0) l.observeRead("acme", "video_captions", `v${i}`, "", at + 14 * min);
    }
    const t = targetOf(ruleOf(l.rules(t0 + 2 * hour), "acme", "video_uploaded"), "video_captions", "entity");
    expect(t?.probability).toBeGreaterThan(0.49);
    expect(t?.probability).toBeLessThan(0.51);
    expect(t?.meanDelayMs).toBeCloseTo(14 * min, 3);
  });

  it("keeps memory bounded with many distinct event types, subjects and task types", () => {
    const { learner: l } = learner({
      minSupport: 1,
      minShare: 0,
      maxEventTypes: 10,
      maxPendingSubjects: 100,
      pendingPerSubject: 8,
      maxTargets: 4,
    });
    for (let i = 0; i < 1000; i++) l.observeEvent("acme", `event_${i}`, `e${i}`, `u${i}`, t0 + i);
    expect(l.eventTypes).toBe(10);
    expect(l.rules(t0 + 1000)).toHaveLength(10);
    expect(l.ruleCount(t0 + 1000)).toBe(10);

    // Pending subjects: the oldest of 10,000 entities awaiting reads were dropped, the newest kept.
    const { learner: p } = learner({ minSupport: 1, minShare: 0, maxPendingSubjects: 100 });
    for (let i = 0; i < 10_000; i++) p.observeEvent("acme", "video_uploaded", `v${i}`, "", t0 + i);
    p.observeRead("acme", "video_captions", "v0", "", t0 + 20_000);
    expect(targetOf(ruleOf(p.rules(t0 + 20_000), "acme", "video_uploaded"), "video_captions", "entity")).toBe(
      undefined,
    );
    p.observeRead("acme", "video_captions", "v9999", "", t0 + 20_000);
    expect(
      targetOf(ruleOf(p.rules(t0 + 20_000), "acme", "video_uploaded"), "video_captions", "entity"),
    ).toBeDefined();

    // Per subject: only the newest 8 of 20 occurrences on one entity await reads.
    const { learner: q } = learner({ pendingPerSubject: 8 });
    for (let i = 0; i < 20; i++) q.observeEvent("acme", "video_uploaded", "v", "", t0 + i);
    q.observeRead("acme", "video_captions", "v", "", t0 + 100);
    const perSubject = ruleOf(q.rules(t0 + 100), "acme", "video_uploaded");
    expect(perSubject?.support).toBeCloseTo(20, 9);
    expect(perSubject?.targets[0]?.probability).toBeCloseTo(8 / 20, 9);

    // Targets per pair: 50 task types read after each event, never more than maxTargets held.
    const { learner: r } = learner({ minSupport: 1, minShare: 0, maxTargets: 4 });
    for (let i = 0; i < 20; i++) {
      r.observeEvent("acme", "video_uploaded", `v${i}`, "", t0 + i * min);
      for (let k = 0; k < 50; k++)
        r.observeRead("acme", `type_${(i + k) % 50}`, `v${i}`, "", t0 + i * min + k);
    }
    expect(ruleOf(r.rules(t0 + hour), "acme", "video_uploaded")?.targets.length).toBeLessThanOrEqual(4);
  });

  it("keeps each target's own credit when more task types are read than it remembers target names for", () => {
    // maxEventTypes also bounds the memo of target names: past it, the names are made again.
    const { learner: l } = learner({ maxEventTypes: 2 });
    const types = ["t_a", "t_b", "t_c", "t_d", "t_e"];
    for (let i = 0; i < 10; i++) {
      const at = t0 + i * min;
      l.observeEvent("acme", "video_uploaded", `v${i}`, `u${i}`, at);
      // Type k is read after the first 10 − 2k uploads, keyed by the video.
      types.forEach((type, k) => {
        if (i < 10 - 2 * k) l.observeRead("acme", type, `v${i}`, "", at + sec);
      });
    }
    const rule = ruleOf(l.rules(t0 + hour), "acme", "video_uploaded");
    expect(rule?.targets.map((t) => [t.taskType, t.keyBy, Number(t.probability.toFixed(6))])).toEqual([
      ["t_a", "entity", 1],
      ["t_b", "entity", 0.8],
      ["t_c", "entity", 0.6],
      ["t_d", "entity", 0.4],
      ["t_e", "entity", 0.2],
    ]);
  });

  it("learns a new target when a pair is full, in place of its weakest", () => {
    const { learner: l } = learner({ minSupport: 1, minShare: 0.2, maxTargets: 2, halfLifeMs: hour });
    let at = t0;
    for (; at < t0 + hour; at += min) {
      l.observeEvent("acme", "video_uploaded", `v${at}`, "", at);
      l.observeRead("acme", "video_captions", `v${at}`, "", at + sec);
      l.observeRead("acme", "video_preview", `v${at}`, "", at + sec);
    }
    for (; at < t0 + 6 * hour; at += min) {
      l.observeEvent("acme", "video_uploaded", `v${at}`, "", at);
      l.observeRead("acme", "video_captions", `v${at}`, "", at + sec);
      l.observeRead("acme", "video_thumbnail", `v${at}`, "", at + sec);
    }
    const rule = ruleOf(l.rules(at), "acme", "video_uploaded");
    expect(rule?.targets.map((t) => t.taskType).sort()).toEqual(["video_captions", "video_thumbnail"]);
  });

  it("forgets the dropped tenants' counts and awaiting events, and only theirs", () => {
    const { learner: l } = learner();
    for (const tenant of ["acme", "globex"])
      for (let i = 0; i < 10; i++) {
        l.observeEvent(tenant, "video_uploaded", `v${i}`, "", t0 + i * min);
        l.observeRead(tenant, "video_captions", `v${i}`, "", t0 + i * min + sec);
      }
    // One more upload in each awaits its read when acme is dropped.
    for (const tenant of ["acme", "globex"]) l.observeEvent(tenant, "video_uploaded", "v99", "", t0 + hour);
    l.dropTenants(new Set(["acme"]));
    expect(l.rules(t0 + 2 * hour, "acme")).toEqual([]);
    const tenants = new Set<string>();
    l.tenants(tenants);
    expect([...tenants]).toEqual(["globex"]);
    for (const tenant of ["acme", "globex"])
      l.observeRead(tenant, "video_captions", "v99", "", t0 + hour + sec);
    // acme's awaiting upload went with it: its read credits nothing, so acme has no counts to offer.
    expect(l.rules(t0 + 2 * hour, "acme")).toEqual([]);
    const globex = targetOf(
      ruleOf(l.rules(t0 + 2 * hour), "globex", "video_uploaded"),
      "video_captions",
      "entity",
    );
    expect(globex?.probability).toBeCloseTo(1, 9);
    expect(ruleOf(l.rules(t0 + 2 * hour), "globex", "video_uploaded")?.support).toBeCloseTo(11, 9);
  });

  it("never mixes tenants: the same entity and user ids in two tenants learn apart", () => {
    const relations = new EntityRelations();
    const { learner: l } = learner({}, relations);
    relations.relate("a", "u1", "c1", t0 - hour, "campaign_created");
    for (let i = 0; i < 10; i++) {
      const at = t0 + i * hour;
      l.observeEvent("a", "video_uploaded", "v1", "u1", at);
      l.observeEvent("b", "user_login", "", "u1", at);
      // Tenant b reads a's entity and user ids: no credit to a's events.
      l.observeRead("b", "video_captions", "v1", "", at + sec);
      l.observeRead("b", "user_dashboard", "u1", "u1", at + sec);
      // Related in a, not in b: no related credit in b.
      l.observeRead("b", "campaign_analytics", "c1", "u1", at + sec);
      if (i < 5) l.observeRead("a", "video_thumbnail", "v1", "", at + 2 * sec);
    }
    const rules = l.rules(t0 + 10 * hour);
    expect(l.rules(t0 + 10 * hour, "a").map((r) => [r.tenant, r.event])).toEqual([["a", "video_uploaded"]]);
    expect(targetOf(ruleOf(rules, "a", "video_uploaded"), "video_thumbnail", "entity")?.probability).toBe(
      0.5,
    );
    expect(targetOf(ruleOf(rules, "a", "video_uploaded"), "video_captions", "entity")).toBeUndefined();
    const b = l.rules(t0 + 10 * hour, "b");
    expect(b.map((r) => [r.tenant, r.event])).toEqual([["b", "user_login"]]);
    expect(b[0]?.targets.map((t) => `${t.taskType}/${t.keyBy}`)).toEqual(["user_dashboard/user"]);
    expect(l.rules(t0 + 10 * hour, "c")).toEqual([]);
  });
});
