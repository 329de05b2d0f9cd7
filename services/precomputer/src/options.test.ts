import { describe, expect, it } from "vitest";
import { precomputerOptionsFromEnv } from "./options.js";

describe("precomputerOptionsFromEnv", () => {
  it("reads the freshness gate's rate into the core's options, 0 included, and refuses one outside 0..1", () => {
    expect(precomputerOptionsFromEnv({ PRESCIENT_PRECOMPUTER_FRESH_PEEK_MIN_RATE: "0.05" }).core).toEqual({
      freshPeeks: { minFreshRate: 0.05 },
    });
    expect(precomputerOptionsFromEnv({ PRESCIENT_PRECOMPUTER_FRESH_PEEK_MIN_RATE: "0" }).core).toEqual({
      freshPeeks: { minFreshRate: 0 },
    });
    expect(precomputerOptionsFromEnv({}).core).toBeUndefined();
    for (const bad of ["2", "-0.1", "often"])
      expect(() => precomputerOptionsFromEnv({ PRESCIENT_PRECOMPUTER_FRESH_PEEK_MIN_RATE: bad })).toThrow(
        /PRESCIENT_PRECOMPUTER_FRESH_PEEK_MIN_RATE/,
      );
  });
});
