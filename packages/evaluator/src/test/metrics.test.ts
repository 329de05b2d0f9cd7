import { describe, expect, it } from "vitest";
import { replay } from "../sim/replay.js";
import { openTrace } from "../trace/open-trace.js";
import { traceFile } from "./fixtures.test-util.js";

/** Hand-made traces whose answers are known. */
const csv = (rows: string[]): string => `ts,key\n${rows.join("\n")}\n`;
const run = async (text: string, policies: Parameters<typeof replay>[1] = {}) =>
  replay(await openTrace(traceFile(text)), {
    ttlSeconds: { default: 10 },
    latencyMs: { default: 100 },
    ...policies,
  });

describe("metrics on hand-made traces", () => {
  it("reactive: a first read misses, a read within the TTL hits, a read after expiry misses", async () => {
    const r = await run(csv(["0,z", "10,a", "11,a", "40,a", "41,b"]), {
      policies: ["none", "reactive", "oracle"],
      budgetPerSecond: 10,
    });
    const [none, reactive, oracle] = r.policies;
    expect(none?.hitRate).toBe(0);
    expect(none?.computes.total).toBe(5);
    expect(reactive?.hits).toBe(1);
    expect(reactive?.hitRate).toBeCloseTo(0.2);
    expect(reactive?.firstReads).toEqual({ reads: 3, hits: 0, hitRate: 0 });
    expect(reactive?.afterExpiryReads).toEqual({ reads: 1, hits: 0, hitRate: 0 });
    expect(reactive?.computes).toMatchObject({ total: 4, demand: 4, ahead: 0, wasted: 0 });
    expect(reactive?.latencySavedMs).toBe(100);
    // The oracle computes each otherwise-missing read just in time, except the trace's first.
    expect(oracle?.hits).toBe(4);
    // The first read's compute could only start with the trace: useful, but late.
    expect(oracle?.computes.ahead).toBe(4);
    expect(oracle?.waste).toBe(0);
    expect(oracle?.prefetch).toMatchObject({ issued: 4, useful: 4, late: 1, accuracy: 1, timeliness: 0.75 });
  });

  it("a read while its compute runs waits for it: a miss, with part of the latency saved", async () => {
    const r = await run(csv(["10,a", "10.04,a"]), { policies: ["reactive"] });
    expect(r.policies[0]?.hits).toBe(0);
    expect(r.policies[0]?.computes.total).toBe(1);
    expect(r.policies[0]?.latencySavedMs).toBe(40);
  });

  it("the oracle is held to the budget", async () => {
    // Ten distinct keys in one second after a first read; a budget of one token (burst = TTL × rate = 10 s × 0.1).
    const rows = ["0,start", ...Array.from({ length: 10 }, (_, i) => `${10 + i / 10},k${i}`)];
    const r = await run(csv(rows), { policies: ["oracle"], budgetPerSecond: 0.1 });
    expect(r.policies[0]?.hits).toBe(1);
    expect(r.policies[0]?.budget.refused).toBe(9);
  });

  it("waste counts unread ahead-of-time results; triggers fan out by learned rules", async () => {
    const rows = ["ts,key,tenant,task_type,entity,event"];
    // Ten uploads, each read 60 s later: the analyzer learns upload → analysis (entity) once
    // more than five (decayed) uploads back it, and the precomputer fetches the rule.
    for (let i = 0; i < 10; i++) {
      rows.push(`${i * 100},,t,,v${i},upload`);
      rows.push(`${i * 100 + 60},,t,analysis,v${i},`);
    }
    const r = await run(`${rows.join("\n")}\n`, {
      policies: ["reactive", "prescient"],
      ttlSeconds: { default: 1000 },
      budgetPerSecond: 1,
    });
    const prescient = r.policies[1]!;
    // Six uploads (0..500 s) and their reads back the rule by the seventh: the last four are precomputed,
    // fanned out by the learned rule (paid from the budget: a learned target carries its probability).
    expect(prescient.byReason.trigger?.computes).toBe(4);
    expect(prescient.byReason.trigger?.hits).toBe(4);
    expect(prescient.hits).toBe(4);
    expect(r.policies[0]?.hits).toBe(0);
  });
});
