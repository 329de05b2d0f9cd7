import { Channel, credentials } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { inferRequest, inferResult } from "./infer.js";
import { toWireKey } from "./keys.js";
import { resolveClientOptions } from "./options.js";
import { SingleFlight } from "./single-flight.js";
import { serviceConfig, Transport } from "./transport.js";
import { decodeValue, jsonValue, tensorValue, toValue } from "./values.js";

describe("client options", () => {
  it("applies defaults in one place and refuses settings that cannot work", () => {
    const o = resolveClientOptions();
    expect(o).toMatchObject({
      address: "127.0.0.1:50051",
      deadlineMs: 5_000,
      tls: false,
      retry: { maxAttempts: 4 },
    });
    expect(resolveClientOptions({ retry: { maxAttempts: 2 } }).retry).toMatchObject({
      maxAttempts: 2,
      initialBackoffMs: 100,
    });
    expect(() => resolveClientOptions({ deadlineMs: 0 })).toThrow(/deadlineMs must be a positive number/);
    expect(() => resolveClientOptions({ retry: { maxAttempts: 9 } })).toThrow(
      /maxAttempts must be an integer from 1 to 5/,
    );
    expect(() => resolveClientOptions({ token: "a\nb" })).toThrow(/token/);
  });

  it("carries round robin and a retry policy on UNAVAILABLE that grpc-js accepts", () => {
    const config = JSON.parse(serviceConfig(resolveClientOptions().retry));
    expect(config.loadBalancingConfig).toEqual([{ round_robin: {} }]);
    expect(config.methodConfig[0].retryPolicy).toEqual({
      maxAttempts: 4,
      initialBackoff: "0.100s",
      maxBackoff: "2.000s",
      backoffMultiplier: 2,
      retryableStatusCodes: ["UNAVAILABLE"],
    });
    expect(config.methodConfig[0].name).toContainEqual({ service: "prescient.cache.v1.CacheService" });
    // grpc-js validates the service config when the channel is made and throws on a bad one.
    new Channel("127.0.0.1:1", credentials.createInsecure(), {
      "grpc.service_config": serviceConfig(resolveClientOptions().retry),
    }).close();
    expect(JSON.parse(serviceConfig(false)).methodConfig).toEqual([]);
  });

  it("shares one channel per address and sends the bearer token", () => {
    const t = new Transport(
      resolveClientOptions({ token: "s3cret", services: { predictor: "127.0.0.1:2" } }),
    );
    expect(t.channel("cache")).toBe(t.channel("precomputer"));
    expect(t.channel("predictor")).not.toBe(t.channel("cache"));
    expect(t.metadata().get("authorization")).toEqual(["Bearer s3cret"]);
    expect(new Transport(resolveClientOptions()).metadata().get("authorization")).toEqual([]);
    t.close();
  });
});

describe("client values and keys", () => {
  it("round-trips JSON and tensors, and checks shapes", () => {
    expect(decodeValue(jsonValue({ a: [1, "x"] }))).toEqual({ kind: "json", json: { a: [1, "x"] } });
    const t = { p: { datatype: "FP32", shape: [2], data: [0.5, 0.25] } };
    expect(decodeValue(tensorValue(t))).toEqual({ kind: "tensors", tensors: t });
    expect(() => tensorValue({ p: { datatype: "FP32", shape: [3], data: [1] } })).toThrow(
      /shape holds 3 values, data has 1/,
    );
    expect(toValue({ plain: true })).toEqual(jsonValue({ plain: true }));
    const bad = decodeValue({ payload: Buffer.from("{no"), contentType: "application/json" });
    expect(bad).toMatchObject({ kind: "bytes", contentType: "application/json" });
  });

  it("names keys by text, parts or semantic inputs, validated before sending", () => {
    expect(toWireKey("acme/ctr_prediction/ad 1").key).toBe("acme/ctr_prediction/ad%201");
    const a = toWireKey({ tenant: "acme", taskType: "ctr_prediction", inputs: { b: 1, a: 2 } });
    const b = toWireKey({ tenant: "acme", taskType: "ctr_prediction", inputs: { a: 2.0, b: 1 } });
    expect(a.key).toBe(b.key);
    expect(a.proto.inputDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(() => toWireKey("a/b")).toThrow(/is not tenant\/task_type\/entity/);
  });

  it("builds OIP requests, refusing a shape that does not hold the data, and decodes raw outputs", () => {
    expect(() => inferRequest("m", { x: { datatype: "FP32", shape: [2, 2], data: [1] } }, {})).toThrow(
      /holds 4 values/,
    );
    const req = inferRequest("m", { x: { datatype: "INT64", shape: [2], data: [1, 2] } }, { version: "3" });
    expect(req.inputs[0]?.contents?.int64Contents).toEqual([1n, 2n]);
    const raw = Buffer.alloc(8);
    raw.writeFloatLE(0.5, 0);
    raw.writeFloatLE(0.25, 4);
    const r = inferResult({
      modelName: "m",
      modelVersion: "1",
      id: "",
      parameters: {},
      outputs: [{ name: "p", datatype: "FP32", shape: [2n], parameters: {} }],
      rawOutputContents: [raw],
    });
    expect(r.outputs.p).toEqual({ datatype: "FP32", shape: [2], data: [0.5, 0.25] });
  });
});

describe("single flight", () => {
  it("runs one call per key at a time and forgets it when done, failed or not", async () => {
    const sf = new SingleFlight<number>();
    let runs = 0;
    const work = () => new Promise<number>((r) => setTimeout(() => r(++runs), 10));
    const [a, b] = await Promise.all([sf.run("k", work), sf.run("k", work)]);
    expect([a, b, runs, sf.size]).toEqual([1, 1, 1, 0]);
    await expect(sf.run("k", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(sf.size).toBe(0);
  });
});
