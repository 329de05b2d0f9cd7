import { type AnalyzerRuntime, emptyIngestResult, startAnalyzer } from "@prescient/analyzer";
import { ManualClock } from "@prescient/core";
import { ServiceHost } from "@prescient/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDelay, registerAnalyzerCommands } from "./analyzer.js";
import { runCommand } from "./run-command.test-util.js";

const now = Date.UTC(2025, 1, 10, 12);
let host: ServiceHost;
let runtime: AnalyzerRuntime;

/** `prescient <args>` in this process, against the analyzer on loopback. */
const prescient = (...args: string[]) =>
  runCommand(registerAnalyzerCommands, [...args, "--addr", host.address]);

/** Eight users created a campaign two hours ago and logged in a minute ago; then read their dashboard, half their campaign's analytics. */
async function learn(): Promise<void> {
  const users = Array.from({ length: 8 }, (_, i) => i);
  const events = emptyIngestResult();
  runtime.analyzer.recordEvents(
    users.flatMap((i) => [
      {
        time: new Date(now - 2 * 3_600_000),
        tenant: "acme",
        type: "campaign_created",
        entityId: `c${i}`,
        userId: `u${i}`,
      },
      { time: new Date(now - 60_000), tenant: "acme", type: "user_login", entityId: "", userId: `u${i}` },
    ]),
    events,
  );
  expect(events.rejected).toBe(0);
  const read = (time: number, taskType: string, entityId: string, userId: string) => ({
    time: new Date(time),
    tenant: "acme",
    taskType,
    entityId,
    key: "",
    userId,
    outcome: 3,
    computeMs: 1,
    latencyMs: 1,
  });
  const reads = emptyIngestResult();
  await runtime.analyzer.recordQueries(
    [
      ...users.map((i) => read(now - 58_000, "user_dashboard", `u${i}`, `u${i}`)),
      ...users
        .filter((i) => i % 2 === 0)
        .map((i) => read(now - 55_000, "campaign_analytics", `c${i}`, `u${i}`)),
    ],
    reads,
  );
  expect(reads.rejected).toBe(0);
}

beforeAll(async () => {
  host = new ServiceHost({ address: "127.0.0.1:0" });
  runtime = await startAnalyzer(host, { clock: new ManualClock(now), retrainIntervalMs: 0, store: "memory" });
  await host.start();
  await runtime.ready;
});

afterAll(async () => {
  await host?.shutdown();
});

describe("prescient rules and related, against an analyzer over gRPC", () => {
  it("says so when nothing is learned yet", async () => {
    const r = await prescient("rules");
    expect(r).toEqual({ stdout: expect.stringMatching(/^no learned rules yet/), stderr: "", code: 0 });
    expect(JSON.parse((await prescient("rules", "--json")).stdout)).toEqual({ rules: [] });
    const none = await prescient("related", "u0", "--tenant", "acme");
    expect(none.stdout).toBe("nothing related to u0 in acme\n");
  });

  it("prints learned rules: event, tenant, support, and per target its task type, key, probability and mean delay", async () => {
    await learn();
    const r = await prescient("rules", "--tenant", "acme");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^tenant\s+event\s+support\s+task_type\s+key_by\s+probability\s+mean_delay$/);
    // Campaign creations are supported but nothing read follows them in the window: no target.
    expect(lines[1]).toMatch(/^acme\s+campaign_created\s+7\.6\s+-\s+-\s+-\s+-$/);
    expect(lines[2]).toMatch(/^acme\s+user_login\s+8\.0\s+user_dashboard\s+user\s+1\.00\s+2\.0s$/);
    expect(lines[3]).toMatch(/^acme\s+user_login\s+8\.0\s+campaign_analytics\s+related\s+0\.50\s+5\.0s$/);
    expect(lines).toHaveLength(4);

    const json = JSON.parse((await prescient("rules", "--json")).stdout) as { rules: unknown[] };
    expect(json.rules).toHaveLength(2);
    expect(json.rules[1]).toEqual({
      tenant: "acme",
      event: "user_login",
      support: expect.closeTo(8, 2),
      targets: [
        { task_type: "user_dashboard", key_by: "user", probability: 1, mean_delay_ms: 2000 },
        { task_type: "campaign_analytics", key_by: "related", probability: 0.5, mean_delay_ms: 5000 },
      ],
    });
    // Another tenant's: none of acme's.
    expect(JSON.parse((await prescient("rules", "--tenant", "other", "--json")).stdout)).toEqual({
      rules: [],
    });
  });

  it("prints a subject's related entities, of the kind a task type is read for", async () => {
    runtime.analyzer.recordEvents(
      [
        {
          time: new Date(now - 30_000),
          tenant: "acme",
          type: "video_uploaded",
          entityId: "v0",
          userId: "u0",
        },
      ],
      emptyIngestResult(),
    );
    const all = await prescient("related", "u0", "--tenant", "acme", "--json");
    expect(all.code).toBe(0);
    const entities = (JSON.parse(all.stdout) as { entities: { entity_id: string; weight: number }[] })
      .entities;
    expect(entities.map((e) => e.entity_id).sort()).toEqual(["c0", "v0"]);
    expect(entities.every((e) => e.weight > 0)).toBe(true);
    const campaigns = await prescient(
      "related",
      "u0",
      "--tenant",
      "acme",
      "--task-type",
      "campaign_analytics",
    );
    expect(campaigns.stdout.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/^entity_id\s+weight$/),
      expect.stringMatching(/^c0\s+\d+\.\d\d$/),
    ]);
    const one = await prescient("related", "u0", "--tenant", "acme", "--limit", "1", "--json");
    expect((JSON.parse(one.stdout) as { entities: unknown[] }).entities).toHaveLength(1);
  });

  it("reports bad input as one line on stderr and exit code 1", async () => {
    const badTenant = await prescient("rules", "--tenant", "a/b");
    expect(badTenant.code).toBe(1);
    expect(badTenant.stderr).toMatch(/^error: INVALID_ARGUMENT: tenant "a\/b" may hold only/);
    const badSubject = await prescient("related", "", "--tenant", "acme");
    expect(badSubject.code).toBe(1);
    expect(badSubject.stderr).toBe("error: INVALID_ARGUMENT: subject is empty\n");
    const badLimit = await prescient("related", "u0", "--tenant", "acme", "--limit", "5000");
    expect(badLimit.stderr).toMatch(/^error: INVALID_ARGUMENT: limit must be from 0 to 1000/);
    const badType = await prescient("related", "u0", "--tenant", "acme", "--task-type", "Bad-Type");
    expect(badType.stderr).toMatch(/^error: INVALID_ARGUMENT: task_type "Bad-Type"/);
    await expect(prescient("related", "u0")).rejects.toThrow(/--tenant/);
    await expect(prescient("related", "u0", "--tenant", "acme", "--limit", "0")).rejects.toThrow(
      /positive integer/,
    );
  });

  it("formats delays for people", () => {
    expect([formatDelay(350), formatDelay(4200), formatDelay(210_000)]).toEqual(["350ms", "4.2s", "3.5m"]);
  });
});
