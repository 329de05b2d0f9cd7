import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EntityStore } from "./entity-store.js";

/** The behaviour every EntityStore shares, run against each implementation. */
export function entityStoreConformance(name: string, create: () => Promise<EntityStore>): void {
  describe(`${name} entity store`, () => {
    let store: EntityStore;

    beforeEach(async () => {
      store = await create();
      await store.ready();
    });

    afterEach(async () => {
      await store.close();
    });

    it("merges upserts field by field and keeps types", async () => {
      await store.upsertMany([{ tenant: "t1", entityId: "ad/1", features: { bid: 1.5, country: "DE" } }]);
      await store.upsertMany([{ tenant: "t1", entityId: "ad/1", features: { bid: 2, clicks: 0 } }]);
      const [features] = await store.getMany([{ tenant: "t1", entityId: "ad/1" }]);
      expect(features).toEqual({ bid: 2, country: "DE", clicks: 0 });
    });

    it("answers unknown entities as undefined, in request order", async () => {
      await store.upsertMany([{ tenant: "t1", entityId: "b", features: { x: 1 } }]);
      const got = await store.getMany([
        { tenant: "t1", entityId: "a" },
        { tenant: "t1", entityId: "b" },
        { tenant: "t2", entityId: "b" },
      ]);
      expect(got).toEqual([undefined, { x: 1 }, undefined]);
    });

    it("keeps tenants apart and deletes", async () => {
      await store.upsertMany([
        { tenant: "t1", entityId: "e", features: { x: 1 } },
        { tenant: "t2", entityId: "e", features: { x: 2 } },
      ]);
      expect(await store.delete([{ tenant: "t1", entityId: "e" }])).toBe(1);
      const got = await store.getMany([
        { tenant: "t1", entityId: "e" },
        { tenant: "t2", entityId: "e" },
      ]);
      expect(got).toEqual([undefined, { x: 2 }]);
    });

    it("keeps every digit of a number and any text through a merge", async () => {
      const text = 'a "quoted" \\ /slash, ü and 😀';
      await store.upsertMany([
        { tenant: "t1", entityId: "m", features: { sum: 0.1 + 0.2, big: 2 ** 53 - 1 } },
      ]);
      await store.upsertMany([{ tenant: "t1", entityId: "m", features: { [text]: text, tiny: 5e-324 } }]);
      const [features] = await store.getMany([{ tenant: "t1", entityId: "m" }]);
      expect(features).toEqual({
        sum: 0.30000000000000004,
        big: 9007199254740991,
        [text]: text,
        tiny: 5e-324,
      });
    });

    it("round-trips text with colons and numbers like 1e-7", async () => {
      await store.upsertMany([{ tenant: "t1", entityId: "z", features: { s: "n:5", tiny: 1e-7, neg: -3 } }]);
      const [features] = await store.getMany([{ tenant: "t1", entityId: "z" }]);
      expect(features).toEqual({ s: "n:5", tiny: 1e-7, neg: -3 });
    });
  });
}
