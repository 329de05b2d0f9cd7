import { describe, expect, it } from "vitest";
import { referencePayload } from "./payloads.js";

const item = { key: "acme/x/ad-1", tenant: "acme", entityId: "ad-1", features: {} };

describe("referencePayload", () => {
  it("gives a task type named after an Object.prototype member the generic payload (found by the fuzz suite)", () => {
    for (const taskType of ["valueOf", "constructor", "toString", "__proto__", "hasOwnProperty"]) {
      expect(JSON.parse(referencePayload(taskType, item).toString())).toMatchObject({ task_type: taskType });
    }
  });
});
