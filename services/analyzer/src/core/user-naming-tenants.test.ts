import { describe, expect, it } from "vitest";
import { UserNamingTenants } from "./user-naming-tenants.js";

const t0 = Date.UTC(2025, 0, 6, 9);
const day = 86_400_000;

describe("UserNamingTenants", () => {
  it("tells a tenant whose reads name users, for the memory after the last that did", () => {
    const naming = new UserNamingTenants(10, day);
    expect(naming.namesUsers("acme", t0)).toBe(false);
    naming.named("acme", t0);
    expect(naming.namesUsers("acme", t0 + 1000)).toBe(true);
    expect(naming.namesUsers("globex", t0 + 1000)).toBe(false);
    // Another tenant's read in between does not lose acme's.
    naming.named("globex", t0 + 2000);
    expect(naming.namesUsers("acme", t0 + day - 1)).toBe(true);
    expect(naming.namesUsers("acme", t0 + day + 1)).toBe(false);
    // Reads a minute apart renew it; within the minute the first one stands.
    naming.named("acme", t0 + day / 2);
    naming.named("acme", t0 + day / 2 + 30_000);
    expect(naming.namesUsers("acme", t0 + day / 2 + day - 1)).toBe(true);
    expect(naming.namesUsers("acme", t0 + day / 2 + day + 1)).toBe(false);
  });

  it("restores a saved time unless it knows a later one, and forgets dropped tenants", () => {
    const naming = new UserNamingTenants(10, day);
    naming.restore("acme", t0);
    expect(naming.lastNamed("acme")).toBe(t0);
    expect(naming.namesUsers("acme", t0 + day - 1)).toBe(true);
    naming.named("globex", t0 + 5000);
    naming.restore("globex", t0);
    expect(naming.lastNamed("globex")).toBe(t0 + 5000);
    naming.restore("globex", t0 + 9000);
    expect(naming.lastNamed("globex")).toBe(t0 + 9000);
    // globex was the last tenant named: dropping it clears the shortcut too.
    naming.drop(new Set(["globex"]));
    expect(naming.lastNamed("globex")).toBeUndefined();
    expect(naming.namesUsers("globex", t0 + 10_000)).toBe(false);
    expect(naming.lastNamed("acme")).toBe(t0);
  });

  it("keeps at most `capacity` tenants, the least recently named going first", () => {
    const naming = new UserNamingTenants(3, day);
    for (let i = 0; i < 100; i++) naming.named(`t${i}`, t0 + i);
    expect(naming.namesUsers("t0", t0 + 100)).toBe(false);
    expect(naming.namesUsers("t97", t0 + 100)).toBe(true);
    expect(naming.namesUsers("t99", t0 + 100)).toBe(true);
  });
});
