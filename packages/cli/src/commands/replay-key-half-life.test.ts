import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { registerReplay } from "./replay.js";
import { runCommand } from "./run-command.test-util.js";

const runReplay = (...args: string[]) => runCommand(registerReplay, ["replay", ...args]);

/** One key read every 7 hours for 4 days: refresh-ahead keeps it only if its demand outlives a 6-hour TTL. */
function steadyTrace(): string {
  const file = join(mkdtempSync(join(tmpdir(), "replay-khl-")), "steady.csv");
  const rows = ["ts,key,tenant,user,task_type,entity,event,launch_at"];
  for (let i = 0; i < 14; i++) rows.push(`${1_704_067_200 + i * 7 * 3600},acme/report/r1,,,,,,`);
  writeFileSync(file, `${rows.join("\n")}\n`);
  return file;
}

it("prescient replay --key-half-life runs the analyzer with that half-life, and refuses one beyond a year", async () => {
  const trace = steadyTrace();
  const hitRate = async (...extra: string[]): Promise<number> => {
    const r = await runReplay(
      trace,
      "--policy",
      "prescient",
      "--ttl",
      "default=21600",
      "--budget",
      "1",
      "--json",
      "--no-progress",
      ...extra,
    );
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout).policies[0].hitRate;
  };
  expect(await hitRate()).toBe(0);
  expect(await hitRate("--key-half-life", "86400")).toBeGreaterThan(0.8);
  const bad = await runReplay(trace, "--key-half-life", String(365 * 86_400 + 1), "--no-progress");
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toMatch(/--key-half-life must be at most 31536000 seconds/);
}, 60_000);
