import { cacheV1, commonV1 } from "@prescient/contracts";
import { describe, expect, it } from "vitest";
import { noValue } from "../core/lookup-responses.js";
import { EncodedResult, EncodedValue } from "../store/encoded-result.js";
import { encodeLookupManyResponse, encodeLookupResponse } from "./response-encoding.js";

const result: commonV1.Result = {
  value: {
    tensors: { tensors: [{ name: "p", datatype: "FP32", shape: [1n, 2n], data: [0.5, 0.25] }] },
    contentType: "",
  },
  modelName: "ctr",
  modelVersion: "3",
  computedAt: new Date(1_700_000_000_000),
  expiresAt: new Date(1_700_000_600_000),
  computeMs: 4,
  inputDigest: "",
  tags: ["a"],
};
const full: cacheV1.LookupResponse = {
  key: "t/ctr_prediction/x",
  hit: true,
  result,
  stale: true,
  refreshDue: true,
  degraded: true,
  computed: true,
  taskId: "task",
};

describe("pass-through response encoding", () => {
  it.each([
    ["every field set, plain result", full],
    [
      "every field set, stored bytes",
      { ...full, result: new EncodedResult(commonV1.Result.encode(result).finish()) },
    ],
    ["a bare miss", { ...cacheV1.LookupResponse.fromPartial({}), key: "t/x/y" }],
    [
      "a non-ASCII key and task id",
      { ...full, key: "t/x/caf\u00e9\u{1F600}\ud800", taskId: "\u00e9".repeat(100) },
    ],
    ["a long key", { ...full, key: `t/x/${"k".repeat(300)}` }],
  ])("writes the same bytes as the generated encoder: %s", (_, message) => {
    const ours = encodeLookupResponse(message);
    const generated = cacheV1.LookupResponse.encode({
      ...full,
      ...message,
      result: message.result && result,
    }).finish();
    expect(Buffer.from(ours).equals(Buffer.from(generated))).toBe(true);
    const many = encodeLookupManyResponse({ results: [message, message], values: [], expiresAtMs: [] });
    expect(
      many.equals(
        Buffer.from(
          cacheV1.LookupManyResponse.encode({
            results: [message, message].map((m) => ({ ...m, result: m.result && result })),
            values: [],
            expiresAtMs: [],
          }).finish(),
        ),
      ),
    ).toBe(true);
    expect(cacheV1.LookupManyResponse.decode(many).results).toEqual([
      cacheV1.LookupResponse.decode(generated),
      cacheV1.LookupResponse.decode(generated),
    ]);
  });

  it("writes values-only answers as the generated encoder does, stored bytes verbatim", () => {
    const stored = new EncodedResult(commonV1.Result.encode(result).finish());
    const payload: commonV1.Value = { payload: Buffer.from("{}"), contentType: "application/json" };
    const encodedValue = stored.encodedValue;
    if (encodedValue === undefined) throw new Error("the stored result's value was not found");
    const ours = encodeLookupManyResponse({
      results: [],
      values: [new EncodedValue(encodedValue), noValue, payload],
      expiresAtMs: [],
    });
    const generated = cacheV1.LookupManyResponse.encode({
      results: [],
      values: [result.value as commonV1.Value, { contentType: "" }, payload],
      expiresAtMs: [],
    }).finish();
    expect(ours.equals(Buffer.from(generated))).toBe(true);
    expect(cacheV1.LookupManyResponse.decode(ours).values).toEqual([
      result.value,
      { contentType: "" },
      payload,
    ]);
  });

  it("writes expiries-only answers as the generated encoder does, packed", () => {
    const expiresAtMs = [1_700_000_600_000n, 0n, 127n, 128n, 2n ** 52n];
    const ours = encodeLookupManyResponse({ results: [], values: [], expiresAtMs });
    const generated = cacheV1.LookupManyResponse.encode({ results: [], values: [], expiresAtMs }).finish();
    expect(ours.equals(Buffer.from(generated))).toBe(true);
    expect(cacheV1.LookupManyResponse.decode(ours).expiresAtMs).toEqual(expiresAtMs);
  });

  it("covers every field of LookupResponse, so a new field cannot be forgotten", () => {
    expect(Object.keys(cacheV1.LookupResponse.fromPartial({})).sort()).toEqual(
      ["computed", "degraded", "hit", "key", "refreshDue", "result", "stale", "taskId"].sort(),
    );
    expect(Object.keys(cacheV1.LookupManyResponse.fromPartial({})).sort()).toEqual([
      "expiresAtMs",
      "results",
      "values",
    ]);
  });
});
