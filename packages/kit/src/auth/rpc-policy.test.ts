import { describe, expect, it } from "vitest";
import { describedMethods } from "./auth.test-util.js";
import { openServices, rpcPolicies, rpcPolicy, serviceOfPath } from "./rpc-policy.js";

describe("the RPC auth table", () => {
  const methods = describedMethods().filter((p) => !openServices.has(serviceOfPath(p)));

  it("has an entry for every method in the descriptor set", () => {
    expect(methods.length).toBeGreaterThan(40);
    expect(methods.filter((p) => rpcPolicy(p) === undefined)).toEqual([]);
  });

  it("has no entry for a method that no longer exists", () => {
    expect(Object.keys(rpcPolicies).filter((p) => !methods.includes(p))).toEqual([]);
  });
});
