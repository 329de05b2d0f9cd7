import { mulberry32 } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { EntityRelations } from "./entity-relations.js";

const t0 = Date.UTC(2025, 0, 6, 9);
const hour = 3_600_000;

const ids = (r: { entityId: string }[]) => r.map((x) => x.entityId);

/** A user who created three campaigns and uploaded three videos, and read one campaign's analytics. */
function owner(relations: EntityRelations, tenant: string, user: string, read = true): void {
  for (const c of ["c1", "c2", "c3"]) relations.relate(tenant, user, `${user}-${c}`, t0, "campaign_created");
  // More video uploads than campaigns: by weight alone, videos would come first.
  for (const v of ["v1", "v2", "v3"])
    for (let k = 0; k < 3; k++) relations.relate(tenant, user, `${user}-${v}`, t0 + k, "video_uploaded");
  if (read) {
    // The read as the analyzer sees it: learn what kind the type is read for, then relate.
    relations.learnKind(tenant, user, `${user}-c1`, "campaign_analytics");
    relations.relate(tenant, user, `${user}-c1`, t0 + hour, "campaign_analytics");
  }
}

describe("EntityRelations", () => {
  it("ranks a subject's related entities by decayed weight, strongest first, up to the limit", () => {
    const r = new EntityRelations({ halfLifeMs: hour });
    r.relate("acme", "u1", "c1", t0, "campaign_created");
    r.relate("acme", "u1", "c2", t0, "campaign_created");
    r.relate("acme", "u1", "c2", t0, "campaign_analytics");
    r.relate("acme", "u1", "c3", t0, "campaign_created", 3);
    expect(r.related("acme", "u1", 10, t0)).toEqual([
      { entityId: "c3", weight: 3 },
      { entityId: "c2", weight: 2 },
      { entityId: "c1", weight: 1 },
    ]);
    expect(ids(r.related("acme", "u1", 2, t0))).toEqual(["c3", "c2"]);
    expect(r.related("acme", "u1", 0, t0)).toEqual([]);
    expect(r.related("acme", "nobody", 10, t0)).toEqual([]);
    // One half-life later every weight is halved.
    expect(r.related("acme", "u1", 1, t0 + hour)[0]?.weight).toBeCloseTo(1.5, 9);
    expect(r.has("acme", "u1", "c1")).toBe(true);
    expect(r.has("acme", "u1", "c9")).toBe(false);
  });

  it("never relates a subject to itself, nor to or from an empty id", () => {
    const r = new EntityRelations();
    r.relate("acme", "u1", "u1", t0, "user_login");
    r.relate("acme", "", "c1", t0, "campaign_created");
    r.relate("acme", "u1", "", t0, "campaign_created");
    expect(r.size).toBe(0);
    expect(r.related("acme", "u1", 10, t0)).toEqual([]);
    r.relate("acme", "u1", "c1", t0, "campaign_created");
    expect(ids(r.related("acme", "u1", 10, t0))).toEqual(["c1"]);
  });

  it("follows a change: a relation no longer used falls behind a newer one within a few half-lives", () => {
    const r = new EntityRelations({ halfLifeMs: hour });
    for (let k = 0; k < 10; k++) r.relate("acme", "u1", "old", t0 + k, "campaign_analytics");
    for (let h = 1; h <= 4; h++) r.relate("acme", "u1", "new", t0 + h * hour, "campaign_analytics");
    // "old": 10 halved four times (0.625); "new": 1 + 0.5 + 0.25 + 0.125 (1.875).
    expect(ids(r.related("acme", "u1", 10, t0 + 4 * hour))).toEqual(["new", "old"]);
  });

  it("keeps at most perSubject entities per subject, evicting the weakest", () => {
    const r = new EntityRelations({ perSubject: 4 });
    for (let k = 0; k < 5; k++) r.relate("acme", "u1", "keeper", t0, "campaign_created");
    for (let i = 0; i < 1000; i++) r.relate("acme", "u1", `e${i}`, t0 + i, "video_uploaded");
    const related = r.related("acme", "u1", 1000, t0 + 1000);
    expect(related).toHaveLength(4);
    expect(related[0]?.entityId).toBe("keeper");
    expect(related[0]?.weight).toBeCloseTo(5, 3);
    // The newest stay: the weakest (here, the oldest) went first.
    expect(ids(related).slice(1).sort()).toEqual(["e997", "e998", "e999"]);
  });

  it("keeps at most `subjects` subjects, the least recently touched going first", () => {
    const r = new EntityRelations({ subjects: 50 });
    for (let i = 0; i < 10_000; i++) r.relate("acme", `u${i}`, `c${i}`, t0 + i, "campaign_created");
    expect(r.size).toBe(50);
    expect(r.related("acme", "u0", 10, t0)).toEqual([]);
    expect(ids(r.related("acme", "u9999", 10, t0))).toEqual(["c9999"]);
    // Many tenants with the same subject id count against the same bound.
    for (let i = 0; i < 1000; i++) r.relate(`t${i}`, "u1", "c1", t0, "campaign_created");
    expect(r.size).toBe(50);
  });

  it("answers the subjects related to an entity: the last 4 to become related, while each still holds it", () => {
    const r = new EntityRelations({ perSubject: 2 });
    for (let i = 0; i < 6; i++) r.relate("acme", `u${i}`, "c1", t0 + i, "campaign_created");
    expect(r.subjectsOf("acme", "c1")).toEqual(["u2", "u3", "u4", "u5"]);
    // u4 relates to two more entities and, holding two at most, lets c1 go.
    r.relate("acme", "u4", "c8", t0 + 11, "campaign_created");
    r.relate("acme", "u4", "c9", t0 + 12, "campaign_created");
    expect(r.subjectsOf("acme", "c1")).toEqual(["u2", "u3", "u5"]);
    // Related anew, it is the latest.
    r.relate("acme", "u4", "c1", t0 + 13, "campaign_analytics");
    expect(r.subjectsOf("acme", "c1")).toEqual(["u2", "u3", "u5", "u4"]);
    // With the list full, one no longer related makes room before the oldest that is.
    r.relate("acme", "u2", "c8", t0 + 14, "campaign_created");
    r.relate("acme", "u2", "c9", t0 + 15, "campaign_created");
    r.relate("acme", "u6", "c1", t0 + 16, "campaign_created");
    expect(r.subjectsOf("acme", "c1")).toEqual(["u3", "u5", "u4", "u6"]);
    expect(r.subjectsOf("globex", "c1")).toEqual([]);
    expect(r.subjectsOf("acme", "nobody")).toEqual([]);
  });

  it("answers an entity's subjects after a restore, as before it", () => {
    const saved = new EntityRelations();
    owner(saved, "acme", "u1");
    owner(saved, "acme", "u2");
    const restored = new EntityRelations();
    restored.importTenant("acme", saved.exportTenants(new Set(["acme"]), 1000).get("acme")!);
    expect(restored.subjectsOf("acme", "u1-c1")).toEqual(["u1"]);
    expect(restored.subjectsOf("acme", "u2-v3")).toEqual(["u2"]);
  });

  it("answers with the campaigns, not the videos, for campaign_analytics: the kind of entity the type is read for", () => {
    const r = new EntityRelations();
    owner(r, "acme", "u1");
    expect(ids(r.related("acme", "u1", 10, t0 + hour, "campaign_analytics")).sort()).toEqual([
      "u1-c1",
      "u1-c2",
      "u1-c3",
    ]);
    // Kinds are known tenant-wide: another user who never read analytics gets their campaigns too.
    owner(r, "acme", "u2", false);
    expect(ids(r.related("acme", "u2", 10, t0 + hour, "campaign_analytics")).sort()).toEqual([
      "u2-c1",
      "u2-c2",
      "u2-c3",
    ]);
    // Without a task type, everything related counts, strongest first (the videos).
    const all = ids(r.related("acme", "u2", 10, t0 + hour));
    expect(all).toHaveLength(6);
    expect(all.slice(0, 3).sort()).toEqual(["u2-v1", "u2-v2", "u2-v3"]);
  });

  it("counts every related entity for a task type whose kind nothing tells", () => {
    const r = new EntityRelations();
    owner(r, "acme", "u1");
    expect(r.related("acme", "u1", 10, t0 + hour, "video_captions")).toHaveLength(6);
    // learnKind without a relation from the reader to the entity learns nothing.
    r.learnKind("acme", "u1", "unrelated", "video_captions");
    expect(r.related("acme", "u1", 10, t0 + hour, "video_captions")).toHaveLength(6);
  });

  it("forgets the dropped tenants' relations, reverse index and kinds, and only theirs", () => {
    const r = new EntityRelations();
    owner(r, "a", "u1");
    owner(r, "b", "u1");
    expect(r.subjectsOf("a", "u1-c1")).toEqual(["u1"]);
    r.dropTenants(new Set(["a"]));
    expect(r.related("a", "u1", 10, t0 + hour)).toEqual([]);
    expect(r.subjectsOf("a", "u1-c1")).toEqual([]);
    const tenants = new Set<string>();
    r.tenants(tenants);
    expect([...tenants]).toEqual(["b"]);
    expect(r.subjectsOf("b", "u1-c1")).toEqual(["u1"]);
    // b still knows campaign_analytics is read for campaigns; a, related anew, knows nothing of it.
    expect(ids(r.related("b", "u1", 10, t0 + hour, "campaign_analytics")).sort()).toEqual([
      "u1-c1",
      "u1-c2",
      "u1-c3",
    ]);
    r.relate("a", "u1", "u1-c1", t0, "campaign_created");
    r.relate("a", "u1", "u1-v1", t0, "video_uploaded");
    expect(r.related("a", "u1", 10, t0 + hour, "campaign_analytics")).toHaveLength(2);
  });

  it("never mixes tenants: relations and learned kinds stay in their tenant", () => {
    const r = new EntityRelations();
    owner(r, "a", "u1");
    // Same user and entity ids in tenant b, which never read analytics.
    owner(r, "b", "u1", false);
    r.relate("b", "u1", "only-b", t0, "campaign_created");
    expect(ids(r.related("a", "u1", 10, t0 + hour))).not.toContain("only-b");
    expect(r.has("a", "u1", "only-b")).toBe(false);
    expect(r.has("b", "u1", "only-b")).toBe(true);
    // a's kind of campaign_analytics is not b's: in b nothing is known, so everything counts.
    expect(ids(r.related("a", "u1", 10, t0 + hour, "campaign_analytics")).sort()).toEqual([
      "u1-c1",
      "u1-c2",
      "u1-c3",
    ]);
    expect(r.related("b", "u1", 10, t0 + hour, "campaign_analytics")).toHaveLength(7);
    expect(r.related("c", "u1", 10, t0 + hour)).toEqual([]);
  });
});

/**
 * The filter by kind, worked out afresh on every call (as related() did
 * before it remembered it per subject), over the same relations: the
 * reference the remembered filter must always agree with.
 */
function freshOfKind(
  r: EntityRelations,
  tenant: string,
  subject: string,
  taskType: string,
  now: number,
  known: Set<string> | undefined,
) {
  const all = r.related(tenant, subject, 1000, now);
  const tagsOf = new Map(all.map((e) => [e.entityId, r.tagsOf(tenant, subject, e.entityId)]));
  const kind = new Set([taskType, ...(known ?? [])]);
  for (const tags of tagsOf.values()) if (tags.has(taskType)) for (const t of tags) kind.add(t);
  if (kind.size === 1 && known === undefined) return all;
  return all.filter((e) => [...(tagsOf.get(e.entityId) ?? [])].some((t) => kind.has(t)));
}

describe("EntityRelations' remembered kind filter", () => {
  it.each([17, 18, 19, 20, 21, 22, 23, 24])(
    "answers as the filter worked out afresh, through relates, evictions and learned kinds (seed %i)",
    (seed) => {
      const random = mulberry32(seed);
      const r = new EntityRelations({ perSubject: 5 });
      // Five types: more than a subject remembers filters for, so the filters start over too.
      const types = [
        "campaign_analytics",
        "dashboard_data",
        "video_analysis",
        "roas_prediction",
        "ctr_prediction",
      ];
      const tags = [...types, "campaign_created", "video_uploaded", "user_login", "a1", "a2", "a3", "a4"];
      /** What learnKind has been told, per tenant and type, as the model of the kinds map. */
      const known = new Map<string, Set<string>>();
      let now = t0;
      for (let step = 0; step < 20_000; step++) {
        // Hours apart at times, so that old relations fade and are the ones evicted.
        now += Math.floor(random() * (random() < 0.05 ? 86_400_000 : 60_000));
        const tenant = random() < 0.5 ? "a" : "b";
        const subject = `u${Math.floor(random() * 4)}`;
        const entity = `e${Math.floor(random() * 12)}`;
        const x = random();
        if (x < 0.55)
          r.relate(tenant, subject, entity, now, tags[Math.floor(random() * tags.length)]!, random() * 3);
        else if (x < 0.7) {
          const type = types[Math.floor(random() * types.length)]!;
          if (r.has(tenant, subject, entity)) {
            const k = known.get(`${tenant}/${type}`) ?? new Set<string>();
            for (const t of r.tagsOf(tenant, subject, entity)) if (k.size < 16) k.add(t);
            known.set(`${tenant}/${type}`, k);
          }
          r.learnKind(tenant, subject, entity, type);
        } else {
          const type = types[Math.floor(random() * types.length)]!;
          const limit = random() < 0.5 ? 1 : 1000;
          const want = freshOfKind(r, tenant, subject, type, now, known.get(`${tenant}/${type}`));
          want.sort((p, q) => q.weight - p.weight || (p.entityId < q.entityId ? -1 : 1));
          expect(r.related(tenant, subject, limit, now, type), `step ${step}`).toEqual(want.slice(0, limit));
          // topShares may answer from a memo, within its tolerance: each share close to the exact one.
          const total = want.reduce((sum, e) => sum + e.weight, 0);
          const exact = new Map(want.map((e) => [e.entityId, e.weight / total]));
          for (const e of r.topShares(tenant, subject, 3, type)) {
            expect(exact.has(e.entityId), `step ${step}`).toBe(true);
            expect(Math.abs(e.share - exact.get(e.entityId)!), `step ${step}`).toBeLessThan(0.25);
          }
        }
      }
    },
  );
});

describe("EntityRelations.topShares", () => {
  it("answers the strongest entities' shares of the type's kind, exactly when first asked", () => {
    const r = new EntityRelations({ halfLifeMs: hour });
    r.relate("acme", "u1", "c1", t0, "campaign_created", 6);
    r.relate("acme", "u1", "c2", t0, "campaign_created", 3);
    r.relate("acme", "u1", "c3", t0 + hour, "campaign_created", 0.5);
    r.relate("acme", "u1", "v1", t0, "video_uploaded", 10);
    r.learnKind("acme", "u1", "c1", "campaign_analytics");
    r.relate("acme", "u1", "c1", t0 + hour, "campaign_analytics");
    // At t0 + 1 h: c1 = 3 + 1, c2 = 1.5, c3 = 0.5; the video is of another kind.
    const shares = r.topShares("acme", "u1", 2, "campaign_analytics");
    expect(shares.map((s) => s.entityId)).toEqual(["c1", "c2"]);
    expect(shares[0]!.share).toBeCloseTo(4 / 6, 9);
    expect(shares[1]!.share).toBeCloseTo(1.5 / 6, 9);
    // Each carries its result key of the type asked for, escaped as the cache stores it.
    expect(shares.map((s) => s.key)).toEqual(["acme/campaign_analytics/c1", "acme/campaign_analytics/c2"]);
    r.relate("acme", "u1", "c/4", t0 + hour, "campaign_analytics", 100);
    expect(r.topShares("acme", "u1", 1, "campaign_analytics")[0]!.key).toBe("acme/campaign_analytics/c%2F4");
    expect(r.topShares("acme", "u1", 0, "campaign_analytics")).toEqual([]);
    expect(r.topShares("acme", "nobody", 2, "campaign_analytics")).toEqual([]);
    expect(r.topShares("globex", "u1", 2, "campaign_analytics")).toEqual([]);
  });

  it("breaks ties in weight by entity id, as related() does, to choose which of them make the limit", () => {
    const r = new EntityRelations();
    for (const id of ["c4", "c2", "c9", "c1", "c3"]) r.relate("acme", "u1", id, t0, "campaign_created", 2);
    r.relate("acme", "u1", "c7", t0, "campaign_created", 5);
    const top = r.topShares("acme", "u1", 3, "campaign_analytics");
    expect(top.map((s) => s.entityId)).toEqual(["c7", "c1", "c2"]);
    expect(top.map((s) => s.entityId)).toEqual(ids(r.related("acme", "u1", 3, t0, "campaign_analytics")));
    expect(top.map((s) => s.share)).toEqual([5 / 15, 2 / 15, 2 / 15]);
  });

  it("answers from its memo through small changes, and afresh once they pass a tenth of the weight", () => {
    const r = new EntityRelations();
    for (let i = 0; i < 10; i++) r.relate("acme", "u1", `c${i}`, t0, "campaign_created", i === 0 ? 11 : 1);
    // c0 = 11 of 20.
    expect(r.topShares("acme", "u1", 1, "campaign_analytics")[0]!.share).toBeCloseTo(11 / 20, 9);
    r.relate("acme", "u1", "c1", t0, "campaign_created", 1.5);
    // 1.5 added to 20 is within a tenth: the memo answers (exactly, 11 / 21.5 would be 0.512).
    expect(r.topShares("acme", "u1", 1, "campaign_analytics")[0]!.share).toBeCloseTo(11 / 20, 9);
    r.relate("acme", "u1", "c2", t0, "campaign_created", 1);
    // 2.5 in all is past a tenth: worked out afresh.
    expect(r.topShares("acme", "u1", 1, "campaign_analytics")[0]!.share).toBeCloseTo(11 / 22.5, 9);
    // A larger limit is never answered from a smaller one's memo.
    expect(r.topShares("acme", "u1", 3, "campaign_analytics").map((s) => s.entityId)).toEqual([
      "c0",
      "c1",
      "c2",
    ]);
  });

  it("forgets a memoised entity that was evicted", () => {
    const r = new EntityRelations({ perSubject: 2, halfLifeMs: hour });
    r.relate("acme", "u1", "c1", t0, "campaign_created", 100);
    r.relate("acme", "u1", "c2", t0, "campaign_created", 1);
    expect(r.topShares("acme", "u1", 2, "campaign_analytics").map((s) => s.entityId)).toEqual(["c1", "c2"]);
    // A new entity evicts the weakest, c2, with a change of weight well under a tenth.
    r.relate("acme", "u1", "c3", t0 + hour, "campaign_created", 0.001);
    expect(r.has("acme", "u1", "c2")).toBe(false);
    expect(r.topShares("acme", "u1", 2, "campaign_analytics").map((s) => s.entityId)).toEqual(["c1", "c3"]);
  });
});

describe("EntityRelations over a long time", () => {
  it("keeps weights finite and right across many half-lives (its landmark moves forward)", () => {
    const r = new EntityRelations({ halfLifeMs: hour });
    r.relate("acme", "u1", "old", t0, "campaign_created", 1);
    // 2,000 half-lives: a weight scaled to t0 would overflow after about 1,024.
    for (let h = 1; h <= 2000; h++) r.relate("acme", "u1", "new", t0 + h * hour, "campaign_created", 1);
    const [first, second] = r.related("acme", "u1", 2, t0 + 2000 * hour);
    expect(first?.entityId).toBe("new");
    // 1 + 1/2 + 1/4 + ... -> 2.
    expect(first?.weight).toBeCloseTo(2, 6);
    expect(second?.entityId).toBe("old");
    expect(Number.isFinite(second!.weight)).toBe(true);
    expect(second!.weight).toBeLessThan(1e-300);
    expect(r.topShares("acme", "u1", 1, "campaign_created")[0]!.share).toBeCloseTo(1, 9);
  });
});
