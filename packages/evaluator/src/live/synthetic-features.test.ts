import { defaultTaskTypesPath, loadTaskTypes, parseTaskTypes } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { entitySeed, type FeatureSampler, syntheticFeatures } from "./synthetic-features.js";

const shipped = loadTaskTypes(defaultTaskTypesPath);

/** Every feature an onnx type of the registry declares as an input. */
const declared = (registry = shipped): string[] =>
  registry
    .list()
    .filter((t) => t.kind === "onnx")
    .flatMap((t) => t.inputs.flatMap((i) => i.features));

/** A sampler whose rows show where they came from: value = seed % 1000 + column. */
const tagged = (features: string[]): FeatureSampler => ({
  features,
  sample: (seed) => features.map((_, i) => (seed % 1000) + i),
});

describe("live mode: synthetic entity features", () => {
  it("derives the same record from the same tenant and entity, in any instance and any order", () => {
    const a = syntheticFeatures(shipped);
    const b = syntheticFeatures(shipped);
    const first = a.of("acme", "ad-1");
    a.of("acme", "ad-2");
    expect(b.of("acme", "ad-1")).toEqual(first);
    expect(a.of("acme", "ad-1")).toEqual(first);
    expect(a.of("acme", "ad-2")).not.toEqual(first);
    expect(a.of("globex", "ad-1")).not.toEqual(first);
    expect(entitySeed("acme", "ad-1", "x")).toBe(entitySeed("acme", "ad-1", "x"));
    // No field separator ambiguity: "a" + "b/c" is not "a/b" + "c".
    expect(entitySeed("a", "bc", "x")).not.toBe(entitySeed("ab", "c", "x"));
  });

  it("covers every input the onnx task types declare, and names only onnx types as users", () => {
    const f = syntheticFeatures(shipped);
    const record = f.of("acme", "campaign-7");
    expect(Object.keys(record).sort()).toEqual([...new Set(declared())].sort());
    expect([...f.names].sort()).toEqual(Object.keys(record).sort());
    expect(f.uses("ctr_prediction")).toBe(true);
    expect(f.uses("roas_prediction")).toBe(true);
    expect(f.uses("variant_scoring")).toBe(true);
    expect(f.uses("scene_detection")).toBe(false);
    expect(f.uses("no_such_type")).toBe(false);
  });

  it("gives each feature a value its datatype allows when no sampler knows it", () => {
    const registry = parseTaskTypes(`
task_types:
  scorer:
    kind: onnx
    inputs:
      - { tensor: flags, datatype: BOOL, features: [is_new, is_paid] }
      - { tensor: counts, datatype: INT64, features: [clicks, views] }
      - { tensor: dense, datatype: FP64, features: [score], default: 0.5 }
    ttl_seconds: 60
  other:
    kind: external
    ttl_seconds: 60
`);
    const f = syntheticFeatures(registry);
    const seen = { bool: new Set<number>(), int: new Set<number>() };
    for (let i = 0; i < 200; i++) {
      const r = f.of("t", `e${i}`);
      expect(Object.keys(r).sort()).toEqual(["clicks", "is_new", "is_paid", "score", "views"]);
      for (const k of ["is_new", "is_paid"]) {
        expect([0, 1]).toContain(r[k]);
        seen.bool.add(r[k]!);
      }
      for (const k of ["clicks", "views"]) {
        expect(Number.isInteger(r[k])).toBe(true);
        expect(r[k]).toBeGreaterThanOrEqual(0);
        expect(r[k]).toBeLessThan(10);
        seen.int.add(r[k]!);
      }
      expect(r.score).toBeGreaterThanOrEqual(0);
      expect(r.score).toBeLessThan(1);
    }
    // Values vary across entities.
    expect(seen.bool.size).toBe(2);
    expect(seen.int.size).toBeGreaterThan(5);
    expect(f.uses("other")).toBe(false);
  });

  it("draws a model's features from its sampler, seeded by the entity, and the first type by name wins a shared feature", () => {
    const ctr = shipped.get("ctr_prediction").inputs[0]!.features;
    const roas = shipped.get("roas_prediction").inputs[0]!.features;
    const f = syntheticFeatures(
      shipped,
      new Map([
        ["ctr_prediction", tagged(ctr)],
        ["roas_prediction", tagged(roas)],
      ]),
    );
    const r = f.of("acme", "ad-9");
    const ctrSeed = entitySeed("acme", "ad-9", "model:ctr_prediction") % 1000;
    const roasSeed = entitySeed("acme", "ad-9", "model:roas_prediction") % 1000;
    ctr.forEach((name, i) => {
      expect(r[name]).toBeCloseTo(ctrSeed + i, 10);
    });
    // `bid` is declared by both: ctr_prediction comes first by name.
    expect(r.bid).toBe(ctrSeed + ctr.indexOf("bid"));
    expect(r.budget).toBe(roasSeed + roas.indexOf("budget"));
    // variant_scoring has no sampler: its features take the datatype's range.
    for (const name of shipped.get("variant_scoring").inputs[0]!.features) {
      expect(r[name]).toBeGreaterThanOrEqual(0);
      expect(r[name]).toBeLessThan(1);
    }
  });
});
