import { status } from "@grpc/grpc-js";
import { analyzerV1, commonV1 } from "@prescient/contracts";
import {
  defaultTaskTypesPath,
  formatKey,
  InternalError,
  isInvalidArgument,
  isNotFound,
  isUnavailable,
  loadTaskTypes,
  lookupOutcomes,
  taskReasons,
} from "@prescient/core";
import { describe, expect, it } from "vitest";
import { toServiceError } from "../status.js";
import { featuresFromJson, featuresFromProto, featuresToProto } from "./features.js";
import { keyToProto, resolveKey, resolveKeys } from "./keys.js";
import { outcomeFromProto, outcomeOfLookup, outcomeToProto } from "./lookup-outcomes.js";
import { codeOfKind, domainErrorOfStatus, statusName } from "./status.js";
import { reasonFromProto, reasonLabel, reasonToProto } from "./task-reasons.js";

const registry = loadTaskTypes(defaultTaskTypesPath);

describe("wire mapping", () => {
  it("resolves a batch of keys as resolveKey does each, errors included", () => {
    const ctr = (entityId: string, tenant = "acme"): commonV1.Key => ({
      tenant,
      taskType: "ctr_prediction",
      entityId,
    });
    const batch: commonV1.Key[] = [
      ctr("a"),
      ctr("ad 42/ü"),
      { tenant: "acme", taskType: "ctr_prediction", inputDigest: "b".repeat(64) },
      ctr("c"),
      ctr("a", "other"),
      ctr("d", "other"),
      { tenant: "other", taskType: "roas_prediction", entityId: "e" },
      ctr("f", "other"),
    ];
    expect(resolveKeys(registry, batch, "keys")).toEqual(
      batch.map((k, i) => resolveKey(registry, k, `keys[${i}]`)),
    );
    // The same errors, named by position, whether or not the key before shares tenant and type.
    const message = (keys: commonV1.Key[]): string => {
      try {
        resolveKeys(registry, keys, "keys");
      } catch (e) {
        expect(isInvalidArgument(e)).toBe(true);
        return (e as Error).message;
      }
      throw new Error("expected an error");
    };
    expect(message([ctr("a"), ctr("")])).toBe("keys[1]: entity_id is empty");
    expect(message([ctr("a"), ctr("\ud800")])).toBe("keys[1]: entity_id is not valid UTF-8");
    expect(message([ctr("a"), { ...ctr("b"), inputDigest: "c".repeat(64) }])).toBe(
      "keys[1]: needs exactly one of entity_id, input_digest or inputs (got 2)",
    );
    expect(message([ctr("a"), { tenant: "acme", taskType: "nope", entityId: "b" }])).toMatch(
      /^keys\[1\]: unknown task type "nope"/,
    );
  });

  it("keys go to the wire and back to the same canonical key", () => {
    for (const parts of [
      { tenant: "acme", taskType: "ctr_prediction", entityId: "ad 42/ü" },
      { tenant: "acme", taskType: "ctr_prediction", digest: "a".repeat(64) },
    ]) {
      expect(resolveKey(registry, keyToProto(parts), "key").key).toBe(formatKey(parts));
    }
  });

  it("features round-trip, and bad ones are refused with the field named", () => {
    const f = { bid: 1.5, country: "DE" };
    expect(featuresFromProto(featuresToProto(f), "features")).toEqual(f);
    expect(() => featuresFromProto({ x: {} }, "task.features")).toThrow(/task\.features\.x has neither/);
    expect(() => featuresFromProto({ x: { number: Number.NaN } }, "f")).toThrow(/not a finite number/);
    expect(() => featuresFromJson({ a: [1] }, "--features")).toThrow(
      /--features\.a must be a number or a string/,
    );
    expect(() => featuresFromJson([1], "--features")).toThrow(/must be an object/);
    const many = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`f${i}`, { number: i }]));
    expect(() => featuresFromProto(many, "features")).toThrow(/257 features; the limit is 256/);
  });

  it("every task reason maps to its own enum value and back; unset reads as manual", () => {
    const codes = new Set(taskReasons.map(reasonToProto));
    expect(codes.size).toBe(taskReasons.length);
    for (const r of taskReasons) expect(reasonFromProto(reasonToProto(r), "reason")).toBe(r);
    expect(reasonFromProto(commonV1.TaskReason.TASK_REASON_UNSPECIFIED, "reason")).toBe("manual");
    expect(() => reasonFromProto(99 as commonV1.TaskReason, "task.reason")).toThrow(/task\.reason: unknown/);
    expect(reasonLabel(99)).toBe("99");
  });

  it("lookup outcomes agree between the cache's flags and the analyzer's enum", () => {
    expect(outcomeOfLookup({ hit: true, stale: false })).toBe("hit");
    expect(outcomeOfLookup({ hit: true, stale: true })).toBe("stale");
    expect(outcomeOfLookup({ hit: false, stale: false })).toBe("miss");
    for (const o of lookupOutcomes) expect(outcomeFromProto(outcomeToProto(o))).toBe(o);
    expect(outcomeToProto("miss")).toBe(analyzerV1.LookupOutcome.LOOKUP_OUTCOME_MISS);
    expect(outcomeFromProto(0)).toBeUndefined();
  });

  it("a status becomes the domain error that maps back to the same status", () => {
    for (const code of Object.values(codeOfKind)) {
      const e = domainErrorOfStatus({ code, details: "why", message: "" }, "peer: ");
      expect(e.message).toBe("peer: why");
      expect(toServiceError(e).error.code).toBe(code);
    }
    expect(
      isInvalidArgument(domainErrorOfStatus({ code: status.INVALID_ARGUMENT, details: "", message: "m" })),
    ).toBe(true);
    expect(isNotFound(domainErrorOfStatus({ code: status.NOT_FOUND, details: "x", message: "" }))).toBe(true);
    expect(isUnavailable(domainErrorOfStatus({ code: status.UNAVAILABLE, details: "x", message: "" }))).toBe(
      true,
    );
    expect(domainErrorOfStatus({ code: status.UNKNOWN, details: "x", message: "" })).toBeInstanceOf(
      InternalError,
    );
    expect(statusName(status.UNAVAILABLE)).toBe("UNAVAILABLE");
    expect(statusName(77)).toBe("77");
  });
});
