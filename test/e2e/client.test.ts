import { randomUUID } from "node:crypto";
import {
  createClient,
  inputDigest,
  isInvalidArgument,
  isNotFound,
  isUnavailable,
  jsonValue,
  type PrescientClient,
  tensorValue,
} from "@prescient/client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ctrFeatures } from "./ctr-features.test-util.js";
import { eventually } from "./eventually.test-util.js";
import { type MeshProcesses, startSplit, startUp } from "./mesh-processes.test-util.js";

/**
 * A TypeScript backend's view: everything through @prescient/client, against
 * `prescient up` and against the split, Redis-backed shape whose services
 * live at different addresses.
 */

function backendBehaviour(shape: string, start: () => Promise<MeshProcesses>): void {
  describe(`@prescient/client against ${shape}`, () => {
    let mesh: MeshProcesses;
    let client: PrescientClient;
    const tenant = `t${randomUUID().slice(0, 8)}`;

    beforeAll(async () => {
      mesh = await start();
      client = createClient({
        address: mesh.addr.cache,
        services: {
          precomputer: mesh.addr.precomputer,
          executor: mesh.addr.executor,
          predictor: mesh.addr.predictor,
        },
        deadlineMs: 10_000,
      });
    }, 120_000);

    afterAll(async () => {
      client?.close();
      await mesh?.stop();
    });

    it("looks up a miss, puts JSON, and then hits with the value and its expiry", async () => {
      const key = `${tenant}/dashboard_data/user-1`;
      expect((await client.lookup(key)).outcome).toBe("miss");
      const put = await client.put(
        key,
        { widgets: 3, title: "spring" },
        { tags: ["spring"], ttlSeconds: 60 },
      );
      expect(put.key).toBe(key);
      const hit = await client.lookup(key);
      expect(hit).toMatchObject({
        outcome: "hit",
        value: { kind: "json", json: { widgets: 3, title: "spring" } },
      });
      expect(hit.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 50_000);
      expect(await client.invalidate({ tenant, tag: "spring" })).toBe(1);
      expect((await client.lookup(key)).outcome).toBe("miss");
    });

    it("answers LookupMany in order, tensors included", async () => {
      const keys = [0, 1, 2].map((i) => `${tenant}/ctr_prediction/many-${i}`);
      await client.putMany([
        {
          key: keys[0] as string,
          value: tensorValue({ probability: { datatype: "FP32", shape: [1, 1], data: [0.25] } }),
        },
        { key: keys[2] as string, value: jsonValue({ p: 0.5 }) },
      ]);
      const r = await client.lookupMany(keys);
      expect(r.map((x) => x.outcome)).toEqual(["hit", "miss", "hit"]);
      expect(r[0]?.value).toEqual({
        kind: "tensors",
        tensors: { probability: { datatype: "FP32", shape: [1, 1], data: [0.25] } },
      });
      // The lean form: the same values in the same order, misses undefined.
      expect(await client.lookupValues(keys)).toEqual([r[0]?.value, undefined, r[2]?.value]);
      expect(r[2]?.value).toMatchObject({ kind: "json", json: { p: 0.5 } });
    });

    it("computes a miss once for many concurrent getOrCompute calls, and stores it", async () => {
      const key = `${tenant}/roas_prediction/campaign-9`;
      let computed = 0;
      const compute = async () => {
        computed++;
        await new Promise((r) => setTimeout(r, 50));
        return { roas: 2.5 };
      };
      const all = await Promise.all(Array.from({ length: 8 }, () => client.getOrCompute(key, compute)));
      expect(computed).toBe(1);
      expect(all.every((x) => x.outcome === "computed")).toBe(true);
      const again = await client.getOrCompute(key, compute);
      expect(again).toEqual({ value: { kind: "json", json: { roas: 2.5 } }, outcome: "hit" });
      expect(computed).toBe(1);
    });

    it("keys semantic inputs by the same RFC 8785 digest as the server", async () => {
      const inputs = { b: [1, 2.5, "x"], a: { z: null, y: 1e21 } };
      const { key } = await client.put({ tenant, taskType: "ctr_prediction", inputs }, { p: 1 });
      expect(key).toBe(`${tenant}/ctr_prediction/#${inputDigest(inputs)}`);
      expect((await client.lookup(key)).outcome).toBe("hit");
    });

    it("triggers an event whose rule computes ctr_prediction through the mesh", async () => {
      const ad = `ad-${randomUUID().slice(0, 6)}`;
      const r = await client.trigger({ type: "video_uploaded", tenant, entityId: ad, features: ctrFeatures });
      expect(r.queued.ctr_prediction?.length).toBe(1);
      const hit = await eventually("the triggered result", async () => {
        const x = await client.lookup(`${tenant}/ctr_prediction/${ad}`);
        return x.outcome === "hit" ? x : undefined;
      });
      expect(hit.raw?.modelName).toBe("ctr_prediction");
      expect(hit.value?.kind).toBe("tensors");
    });

    it("enqueues a task with features, and computes on a miss when asked", async () => {
      const queued = await client.enqueue(`${tenant}/ctr_prediction/queued`, {
        features: ctrFeatures,
        priority: 9,
      });
      expect(queued.deduplicated).toBe(false);
      await eventually("the queued result", async () =>
        (await client.lookup(`${tenant}/ctr_prediction/queued`)).outcome === "hit" ? true : undefined,
      );
      const now = await client.lookup(`${tenant}/ctr_prediction/now`, {
        onMiss: "compute",
        features: ctrFeatures,
      });
      expect(now).toMatchObject({ outcome: "miss", computed: true, value: { kind: "tensors" } });
    });

    it("infers with the Open Inference Protocol", async () => {
      const r = await client.infer("ctr_prediction", {
        features: {
          datatype: "FP32",
          shape: [2, 8],
          data: [...Object.values(ctrFeatures), ...Object.values(ctrFeatures)],
        },
      });
      const out = Object.values(r.outputs)[0];
      expect(out?.shape).toEqual([2, 1]);
      expect(out?.data[0]).toBeGreaterThan(0);
      expect(out?.data[0]).toBeCloseTo(out?.data[1] ?? -1, 6);
    });

    it("fails with typed errors: bad input locally and remotely, unknown model", async () => {
      await expect(client.lookup("no-slashes")).rejects.toSatisfy(isInvalidArgument);
      const remote = await client.lookup(`${tenant}/no_such_type/x`).catch((e: unknown) => e);
      expect(isInvalidArgument(remote)).toBe(true);
      expect((remote as Error).message).toMatch(/^Lookup: key: /);
      await expect(
        client.infer("no_such_model", { x: { datatype: "FP32", shape: [1], data: [1] } }),
      ).rejects.toSatisfy(isNotFound);
    });
  });
}

backendBehaviour("prescient up", startUp);
backendBehaviour("the split, Redis-backed shape", () =>
  // Its own database, so no other test's executor claims these tasks.
  startSplit(`${inject("redisUrl").replace(/\/\d*$/, "")}/9`, `client-${randomUUID().slice(0, 8)}`),
);

describe("@prescient/client transport", () => {
  it("is UNAVAILABLE within its deadline when nothing listens, after retrying", async () => {
    const c = createClient({ address: "127.0.0.1:1", deadlineMs: 1_500 });
    const began = Date.now();
    const e = await c.lookup("acme/ctr_prediction/x").catch((x: unknown) => x);
    c.close();
    expect(isUnavailable(e) || (e as Error).name === "DeadlineExceededError").toBe(true);
    expect(Date.now() - began).toBeLessThan(3_000);
  });
});
