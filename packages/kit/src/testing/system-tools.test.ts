import { describe, expect, it } from "vitest";
import { inCi, systemTool } from "./system-tools.js";

describe("systemTool", () => {
  it("finds a command that answers its probe, and runs the tests that need it", () => {
    expect(systemTool(process.execPath, "it is this test's own Node")).toMatchObject({
      available: true,
      runTests: true,
    });
  });

  it("reports a missing command with how to install it; its tests run only in CI", () => {
    const tool = systemTool("prescient-no-such-command", "apt-get install nothing");
    expect(tool.available).toBe(false);
    expect(tool.runTests).toBe(inCi);
    expect(tool.missing).toBe(
      "the prescient-no-such-command command is not available (apt-get install nothing)",
    );
  });

  it("counts a command that fails its probe as missing", () => {
    expect(systemTool(process.execPath, "-", ["-e", "process.exit(3)"]).available).toBe(false);
  });
});
