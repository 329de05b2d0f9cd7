import { describe, expect, it } from "vitest";
import { claimFields, enqueueFields, queueScripts } from "./queue-scripts.js";

/** The Lua keeps its own copies of what the TypeScript sends and decodes by; these keep them in step. */
describe("queue scripts", () => {
  it("claim.lua returns the fields redis-codec.ts decodes, in order", () => {
    const lua = queueScripts.claim.lua;
    const fields = /local FIELDS = \{([^}]*)\}/.exec(lua)?.[1];
    expect(fields?.split(",").map((f) => f.trim().replace(/^'|'$/g, ""))).toEqual([...claimFields]);
    expect(/local ATTEMPTS = (\d+)/.exec(lua)?.[1]).toBe(String(claimFields.indexOf("attempts") + 1));
  });

  it("enqueue.lua reads as many fields per task as the queue sends", () => {
    expect(/local FIELDS = (\d+)/.exec(queueScripts.enqueue.lua)?.[1]).toBe(String(enqueueFields));
  });

  it("every script loads, with the shared lib included once", () => {
    for (const [operation, command] of Object.entries(queueScripts)) {
      expect(command.lua.match(/^local function tkey\(/gm), operation).toHaveLength(1);
      expect(command.lua, operation).not.toMatch(/@include/);
    }
  });
});
