import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openTrace } from "@prescient/evaluator";
import { expect, it } from "vitest";
import { runCommand } from "./run-command.test-util.js";
import { registerWorkload } from "./workload.js";

/** `prescient workload generate`, in this process, read back by the replay's own CSV reader. */
const run = (...args: string[]) => runCommand(registerWorkload, ["workload", "generate", ...args]);

it("workload generate random-adplatform --seed 3 --days 1 writes a CSV the replay reads, and validates it", async () => {
  const out = join(mkdtempSync(join(tmpdir(), "prescient-workload-")), "ra.csv");
  const r = await run("random-adplatform", "--seed", "3", "--days", "1", "--out", out);
  expect(r.code, r.stdout).toBe(0);
  expect(r.stdout).toMatch(/^wrote .*ra\.csv: \d+ rows/);
  expect(r.stdout).not.toContain("FAIL");
  expect(r.stdout).toContain("ok   session reads of the user's own campaigns");
  // Tolerances to three decimals like the values they bound, not a computed float's every digit.
  const checks = r.stdout.split("\n").filter((l) => /^(ok {2}|FAIL) /.test(l));
  expect(checks.length).toBeGreaterThan(3);
  for (const line of checks) expect(line).toMatch(/: expected -?\d+\.\d{3} ± \d+\.\d{3}, got -?\d+\.\d{3}$/);
  const lines = readFileSync(out, "utf8").trimEnd().split("\n");
  const source = await openTrace(out);
  expect(source.format).toBe("generic");
  const events = new Map<string, number>();
  let reads = 0;
  let last = 0;
  for await (const rec of source.records()) {
    expect(rec.time).toBeGreaterThanOrEqual(last);
    last = rec.time;
    if (rec.kind === "read") reads++;
    else events.set(rec.event, (events.get(rec.event) ?? 0) + 1);
  }
  const eventCount = [...events.values()].reduce((a, b) => a + b, 0);
  expect(reads + eventCount).toBe(lines.length - 1);
  expect(reads).toBeGreaterThan(10_000);
  expect([...events.keys()].sort()).toEqual([
    "campaign_created",
    "campaign_launch_scheduled",
    "user_login",
    "video_uploaded",
  ]);
  // The same seed writes the same file.
  const again = `${out}.again`;
  await run("random-adplatform", "--seed", "3", "--days", "1", "--out", again);
  expect(readFileSync(again, "utf8")).toBe(readFileSync(out, "utf8"));
}, 60_000);
