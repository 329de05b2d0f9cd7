import { join } from "node:path";
import { defaultTaskTypesPath, loadTaskTypes } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { renderHtml } from "../report/html.js";
import { renderTable } from "../report/table.js";
import { ReadClassifier } from "../sim/read-classifier.js";
import { replay } from "../sim/replay.js";
import { openTrace } from "../trace/open-trace.js";
import type { TraceRead } from "../trace/record.js";
import { RowsTraceSource } from "../workload/output.js";
import { event, read } from "../workload/row.js";
import { testTraces } from "./fixtures.test-util.js";

const t0 = Date.UTC(2024, 0, 1);

describe("reads out of any online policy's reach", () => {
  it("are the first reads of keys nothing named before their instant: no earlier read of their run", () => {
    const c = new ReadClassifier();
    const at = (key: string, time: number) => {
      const entity = key.split("/")[2]!;
      const r: TraceRead = { kind: "read", time, tenant: "t", taskType: "page", entity, user: "", key };
      return c.outOfReach(r, c.classify(key, time, 5_000));
    };
    expect(at("t/page/b1.0", 1000)).toBe(true); // a block's first request: nothing read it before
    expect(at("t/page/b1.1", 1000)).toBe(true); // read with it
    expect(at("t/page/b1.2", 1000)).toBe(true);
    expect(at("t/page/b1.1", 1000)).toBe(false); // read again: not a first read
    expect(at("t/page/b1.3", 2000)).toBe(false); // a later request: b1's earlier pages named the run
    expect(at("t/page/b1.4", 2000)).toBe(false);
    expect(at("t/page/b2.0", 2000)).toBe(true); // another run, new at this instant
    expect(at("t/page/plain", 2000)).toBe(true); // no number: a run of its own
    expect(at("t/page/plain", 3000)).toBe(false); // read again
    expect(at("t/page/plainer", 3000)).toBe(true);
  });

  it("are also the key's reads while its out-of-reach first read still computes", () => {
    const c = new ReadClassifier();
    const at = (entity: string, time: number, latencyMs = 100) => {
      const key = `t/page/${entity}`;
      const r: TraceRead = { kind: "read", time, tenant: "t", taskType: "page", entity, user: "", key };
      return c.outOfReach(r, c.classify(key, time, 5_000), latencyMs);
    };
    expect(at("b1.0", 1000)).toBe(true);
    expect(at("b1.0", 1050)).toBe(true); // a parallel reader, 50 ms later: the compute runs until 1100
    expect(at("b1.0", 1099)).toBe(true);
    expect(at("b1.0", 1100)).toBe(false); // ready from then on, for any policy that computed on the first read
    expect(at("b1.3", 2000)).toBe(false); // within reach (b1 was read before)...
    expect(at("b1.3", 2010)).toBe(false); // ...and so are its repeats
  });

  it("no online policy hits a read out of reach, on a real block trace", async () => {
    const report = await replay(await openTrace(join(testTraces, "block_traces_1.csv")), {
      policies: ["reactive", "prescient", "oracle"],
      // The shipped configuration: its readahead schedule takes the analyzer's readahead keys.
      taskTypes: loadTaskTypes(defaultTaskTypesPath),
    });
    const [reactive, prescient, oracle] = report.policies;
    expect(oracle!.outOfReachReads.reads).toBeGreaterThan(report.policies[0]!.reads / 2);
    expect(oracle!.outOfReachReads.hits).toBeGreaterThan(oracle!.outOfReachReads.reads / 2);
    expect(reactive!.outOfReachReads.hits).toBe(0);
    expect(prescient!.outOfReachReads.hits).toBe(0);
    // Within reach, readahead does better than cache-aside.
    const within = (p: typeof prescient) =>
      (p!.hits - p!.outOfReachReads.hits) / (p!.reads - p!.outOfReachReads.reads);
    expect(within(prescient)).toBeGreaterThan(within(reactive) + 0.1);
  });

  it("leaves out pages an earlier event announced: a rule on it could compute them first", () => {
    const c = new ReadClassifier();
    const read = (entity: string, time: number): boolean => {
      const key = `t/page/${entity}`;
      const r: TraceRead = { kind: "read", time, tenant: "t", taskType: "page", entity, user: "", key };
      return c.outOfReach(r, c.classify(key, time, 5_000));
    };
    const put = (entity: string, tenant = "t"): void =>
      c.announce({
        kind: "event",
        time: 500,
        tenant,
        entity,
        user: "",
        event: "put",
        taskType: "page",
        anchor: 500,
      });
    put("b1.1");
    put("b1.2", "other"); // another tenant's entity of the same name announces nothing here
    expect(read("b1.0", 1000)).toBe(true);
    expect(read("b1.1", 1000)).toBe(false); // announced by the put
    expect(read("b1.2", 1000)).toBe(true);
  });

  it("the replay reports them, and hit rates without them, where a trace has any", async () => {
    const rows = [];
    // 40 blocks of 8 pages, each read in two requests of 4 pages a minute apart: the first request's
    // pages are new at their instant; the second's run was read a minute before.
    for (let b = 0; b < 40; b++)
      for (const half of [0, 1])
        for (let p = 0; p < 4; p++)
          rows.push(read(t0 + (2 * b + half) * 60_000, "acme", "page", `block${b}.${4 * half + p}`));
    const report = await replay(new RowsTraceSource("requests", rows), {
      ttlSeconds: { default: 600 },
      latencyMs: { default: 100 },
      budgetPerSecond: 10,
      policies: ["reactive", "oracle"],
    });
    const [reactive, oracle] = report.policies;
    expect(reactive!.outOfReachReads).toMatchObject({ reads: 160, hits: 0 });
    // The oracle knows the future: it computes them first.
    expect(oracle!.outOfReachReads.reads).toBe(160);
    expect(oracle!.outOfReachReads.hits).toBeGreaterThan(140);
    const text = renderTable(report);
    expect(text).toContain("Within reach");
    expect(text).toMatch(/reactive\s+50\.0%\s+0\s+0\.0%/);
    const html = renderHtml(report);
    expect(html).toContain('data-table="within-reach"');
    expect(html).toContain("Columns of the table within reach");
  });

  it("leaves the table out where every key read was named first", async () => {
    const rows = [];
    // Each page is announced by a put, and read a second after the page before it.
    for (let b = 0; b < 10; b++)
      for (let p = 0; p < 4; p++) {
        rows.push(event(t0 + b * 60_000 - 5000, "acme", "put", `block${b}.${p}`));
        rows.push(read(t0 + b * 60_000 + p * 1000, "acme", "page", `block${b}.${p}`));
      }
    const report = await replay(new RowsTraceSource("scans", rows), {
      ttlSeconds: { default: 600 },
      policies: ["reactive", "oracle"],
    });
    expect(report.policies[1]!.outOfReachReads.reads).toBe(0);
    expect(report.policies[1]!.unnamedReads.reads).toBe(0);
    expect(renderTable(report)).not.toContain("Within reach");
    expect(renderHtml(report)).not.toContain('data-table="within-reach"');
  });

  it("counts apart the first reads of keys whose entity nothing named: no event of it, no earlier read of any type", () => {
    const c = new ReadClassifier();
    const at = (tenant: string, taskType: string, entity: string, time: number): boolean => {
      const key = `${tenant}/${taskType}/${entity}`;
      const r: TraceRead = { kind: "read", time, tenant, taskType, entity, user: "", key };
      return c.unnamed(r, c.classify(key, time, 5_000));
    };
    expect(at("t", "ctr", "ad7", 1000)).toBe(true); // nothing named ad7
    expect(at("t", "roas", "ad7", 1000)).toBe(true); // read with it, at the same instant
    expect(at("t", "ctr", "ad7", 2000)).toBe(false); // read again: not a first read
    expect(at("t", "bid", "ad7", 2000)).toBe(false); // a new key, but its entity was read before
    expect(at("t", "ctr", "ad8", 2000)).toBe(true); // the run ad* was read before: out of reach says no, this says yes
    expect(at("u", "ctr", "ad7", 3000)).toBe(true); // another tenant's ad7 named nothing here
    c.announce({
      kind: "event",
      time: 3500,
      tenant: "t",
      entity: "ad9",
      user: "",
      event: "ad_created",
      taskType: "",
      anchor: 3500,
    });
    expect(at("t", "ctr", "ad9", 4000)).toBe(false); // announced by the event
  });

  it("the replay reports hit rates on named reads: the oracle's margin on never-seen ads is left out", async () => {
    // Each minute a new ad is read once, never named before; ad0 is read every 10 s throughout.
    const rows = [];
    for (let m = 0; m < 60; m++) {
      rows.push(read(t0 + m * 60_000 + 30_000, "acme", "ctr", `ad${m + 1}`));
      for (let s = 0; s < 6; s++) rows.push(read(t0 + m * 60_000 + s * 10_000, "acme", "ctr", "ad0"));
    }
    const report = await replay(new RowsTraceSource("ads", rows), {
      ttlSeconds: { default: 600 },
      latencyMs: { default: 100 },
      budgetPerSecond: 10,
      policies: ["reactive", "prescient", "oracle"],
    });
    const [reactive, prescient, oracle] = report.policies;
    for (const p of [reactive, prescient, oracle]) expect(p!.unnamedReads.reads).toBe(61); // ad0's first read too
    expect(reactive!.unnamedReads.hits).toBe(0);
    expect(prescient!.unnamedReads.hits).toBe(0);
    expect(oracle!.unnamedReads.hits).toBeGreaterThan(55);
    // Out of reach counts only ad0: every later ad's run (ad*) was read before.
    expect(oracle!.outOfReachReads.reads).toBe(1);
    const text = renderTable(report);
    expect(text).toContain("vs oracle on named");
    // On named reads reactive misses only ad0's reads after each expiry (5 of 359), which the oracle hits.
    expect(text).toMatch(/reactive(\s+\S+){4}\s+14\.5%\s+0\s+0\.97x/);
  });

  it("a CacheLib block trace keeps the instant its reads were recorded at while it spreads their times", async () => {
    const source = await openTrace(join(testTraces, "block_traces_1.csv"));
    const reads: TraceRead[] = [];
    for await (const r of source.records()) if (r.kind === "read") reads.push(r);
    for (const r of reads) {
      expect(r.instant).toBeDefined();
      expect(r.time - r.instant!).toBeGreaterThanOrEqual(0);
      expect(r.time - r.instant!).toBeLessThan(1000);
    }
    // The first row reads 8 pages of one block at one second: one request, so one instant and one time.
    const first = reads.filter((r) => r.key.includes("12ce23eaa5534a38"));
    expect(new Set(first.slice(0, 8).map((r) => r.instant)).size).toBe(1);
    expect(new Set(first.slice(0, 8).map((r) => r.time)).size).toBe(1);
    // The next second holds three rows (reads of 7 and 8 pages, then a put): spread across it a
    // request at a time, a third of a second apart, not a page at a time.
    const second = reads.filter((r) => r.instant === reads[0]!.instant! + 1000);
    const at = second[0]!.instant!;
    expect(second).toHaveLength(15);
    expect(second.map((r) => r.time - at)).toEqual([...Array(7).fill(0), ...Array(8).fill(333)]);
  });
});
