import { describe, expect, it } from "vitest";
import { isTaskId, taskIdNonce } from "./validation.js";

describe("task id nonces", () => {
  it("are 96 random bits in hex, never repeated across refills of the pool", () => {
    // 512 nonces fill the pool once: 5,000 cross several refills, where a missed refill would repeat them.
    const nonces = Array.from({ length: 5000 }, () => taskIdNonce());
    for (const n of nonces) expect(n).toMatch(/^[0-9a-f]{24}$/);
    expect(new Set(nonces).size).toBe(nonces.length);
    expect(isTaskId(`42-${nonces[0]}`)).toBe(true);
  });

  it("use every byte of the pool: no nonce is all zeros, and each hex digit appears in every position", () => {
    // A slice past what was filled would read the pool's zeroed tail.
    const nonces = Array.from({ length: 2048 }, () => taskIdNonce());
    expect(nonces.some((n) => /^0+$/.test(n))).toBe(false);
    for (let pos = 0; pos < 24; pos++) expect(new Set(nonces.map((n) => n[pos])).size).toBe(16);
  });
});
