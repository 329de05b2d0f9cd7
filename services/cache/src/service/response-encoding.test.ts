import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { cacheV1, commonV1 } from "@prescient/contracts";
import { describe, expect, it } from "vitest";
import { EncodedResult } from "../store/encoded-result.js";
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
  ])("writes the same bytes as the generated encoder: %s", (_, message) => {
    const ours = encodeLookupResponse(message, new BinaryWriter()).finish();
    const generated = cacheV1.LookupResponse.encode({
      ...full,
      ...message,
      result: message.result && result,
    }).finish();
    expect(Buffer.from(ours).equals(Buffer.from(generated))).toBe(true);
    const many = encodeLookupManyResponse({ results: [message, message] }, new BinaryWriter()).finish();
    expect(cacheV1.LookupManyResponse.decode(many).results).toEqual([
      cacheV1.LookupResponse.decode(generated),
      cacheV1.LookupResponse.decode(generated),
    ]);
  });

  it("covers every field of LookupResponse, so a new field cannot be forgotten", () => {
    expect(Object.keys(cacheV1.LookupResponse.fromPartial({})).sort()).toEqual(
      ["computed", "degraded", "hit", "key", "refreshDue", "result", "stale", "taskId"].sort(),
    );
  });
});
