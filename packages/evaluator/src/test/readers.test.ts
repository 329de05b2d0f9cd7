import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { systemTool } from "@prescient/kit/testing";
import { describe, expect, it } from "vitest";
import { openTrace } from "../trace/open-trace.js";
import type { TraceRecord } from "../trace/record.js";
import { isTraceFormatError } from "../trace/trace-error.js";
import { testTraces, traceFile } from "./fixtures.test-util.js";

/** The test compresses its input with it (and Node 20 reads .zst through it). */
const zstd = systemTool("zstd", "apt-get install zstd");

async function all(path: string, skipBad = false): Promise<{ records: TraceRecord[]; skipped: number }> {
  const source = await openTrace(path, { skipBad });
  const records: TraceRecord[] = [];
  for await (const r of source.records()) records.push(r);
  return { records, skipped: source.stats.skipped };
}

describe("the real traces in test/traces", () => {
  const dir = testTraces;
  it.each([
    ["short_bigcache_traces.csv", "cachelib-bigcache", 9999, 0],
    ["kv_traces_1.csv", "cachelib-kv", 678, 11],
    // 623 read rows of 1 to 8 pages of 1 MiB; 400 put rows.
    ["block_traces_1.csv", "cachelib-block", 1805, 2012],
  ])("%s reads as %s", async (file, format, reads, events) => {
    const source = await openTrace(join(dir, file));
    expect(source.format).toBe(format);
    const { records } = await all(join(dir, file));
    expect(records.filter((r) => r.kind === "read")).toHaveLength(reads);
    expect(records.filter((r) => r.kind === "event")).toHaveLength(events);
    for (let i = 1; i < records.length; i++)
      expect(records[i]!.time).toBeGreaterThanOrEqual(records[i - 1]!.time);
  });
});

describe("readers", () => {
  it("generic CSV: canonical keys, events and launches", async () => {
    const { records } = await all(
      traceFile(
        "ts,key,user,event,launch_at\n1.5,acme/ctr_prediction/ad 1,u1,,\n2,acme/x/c1,,launch,100\n3,plainkey,,,\n",
      ),
    );
    expect(records[0]).toMatchObject({
      kind: "read",
      time: 1500,
      tenant: "acme",
      taskType: "ctr_prediction",
      entity: "ad 1",
      user: "u1",
      key: "acme/ctr_prediction/ad%201",
    });
    expect(records[1]).toMatchObject({ kind: "event", event: "launch", anchor: 100_000 });
    expect(records[2]).toMatchObject({ tenant: "default", taskType: "object", entity: "plainkey" });
  });

  it("a record earlier than one before it is replayed at the later time, and counted, on every pass", async () => {
    const source = await openTrace(traceFile("ts,key\n5,a\n3,b\n7,c\n4,d\n8,e\n"));
    for (let pass = 0; pass < 2; pass++) {
      const times: number[] = [];
      for await (const r of source.records()) times.push(r.time);
      expect(times).toEqual([5000, 5000, 7000, 7000, 8000]);
      expect(source.reordered).toBe(2);
    }
  });

  it("plain ids and ARC lines are timed by position", async () => {
    const plain = await all(traceFile("a\nb\na\n", "txt"));
    expect(plain.records.map((r) => r.time)).toEqual([0, 1000, 2000]);
    const arc = await all(traceFile("10 3 0 1\n5 1 0 2\n", "arc"));
    expect(arc.records.map((r) => (r.kind === "read" ? r.entity : ""))).toEqual(["10", "11", "12", "5"]);
    expect(arc.records.map((r) => r.time)).toEqual([0, 1000, 2000, 3000]);
  });

  it("libCacheSim CSV, with or without its header", async () => {
    const { records } = await all(traceFile("version,time,op,size,lbn\n1,10,r,4096,77\n1,11,w,4096,78\n"));
    expect(records[0]).toMatchObject({ kind: "read", time: 10_000, entity: "77" });
    expect(records[1]).toMatchObject({ kind: "event", event: "write" });
    expect((await all(traceFile("1,10,r,4096,77\n"))).records).toHaveLength(1);
  });

  it("hands records on in bounded batches, however many one chunk of lines expands to", async () => {
    // 100 ARC lines of 1,000 blocks each: 100,000 records from a file of a couple of KB, one chunk.
    const lines = Array.from({ length: 100 }, (_, i) => `${i * 1000} 1000 0 ${i}`).join("\n");
    const source = await openTrace(traceFile(`${lines}\n`, "arc"));
    const sizes: number[] = [];
    for await (const batch of source.recordBatches!()) sizes.push(batch.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(100_000);
    // At most 4,096 and the records of the line that crossed it.
    expect(Math.max(...sizes)).toBeLessThan(4096 + 1000);
    expect(sizes.length).toBeGreaterThanOrEqual(20);
  });

  it("reads gzip traces decompressed", async () => {
    const text = "ts,key,user\n1,acme/ctr_prediction/ad-1,u1\n2,acme/ctr_prediction/ad-2,\n";
    const plain = await all(traceFile(text));
    const gz = traceFile("", "csv.gz");
    writeFileSync(gz, gzipSync(text));
    expect((await all(gz)).records).toEqual(plain.records);
    const bad = traceFile("", "csv.gz");
    writeFileSync(bad, "not gzip");
    await expect(all(bad)).rejects.toThrow(/incorrect header check/);
  });

  it.runIf(zstd.runTests)("reads zstd traces, the format told from the decompressed first line", async () => {
    // Twitter ships its cache traces as zstd-compressed CSV.
    const twitter = "0,k1,2,0,1,get,0\n1,k1,2,0,1,set,60\n";
    const zst = spawnSync("zstd", ["-q", "-c"], { input: twitter });
    expect(zst.status).toBe(0);
    const path = traceFile("", "zst");
    writeFileSync(path, zst.stdout);
    const source = await openTrace(path);
    expect(source.format).toBe("twitter-cache");
    expect((await all(path)).records.map((r) => r.kind)).toEqual(["read", "event"]);
  });

  it("keeps a character whole where it straddles two chunks of the file", async () => {
    // The reader takes 1 MiB at a time: the key "é" (2 bytes in UTF-8) starts on the chunk's last
    // byte, after a long column the generic format ignores.
    const header = "ts,note,key\n";
    const filler = "x".repeat(1024 * 1024 - 1 - header.length - "1,".length - ",".length);
    const { records } = await all(traceFile(`${header}1,${filler},é\n2,y,b\n`));
    expect(records.map((r) => r.entity)).toEqual(["é", "b"]);
  });

  it("names the line of a malformed record, or skips and counts it", async () => {
    const path = traceFile("ts,key\n1,a\nnot-a-time,b\n3,c\n");
    await expect(all(path)).rejects.toThrow(/:3: ts "not-a-time" is not a number/);
    const skipped = await all(path, true);
    expect(skipped.records).toHaveLength(2);
    expect(skipped.skipped).toBe(1);
  });

  it("the block format reads every page a byte range touches", async () => {
    const header =
      "op_time,block_id,block_id_size,io_size,io_offset,user_name,user_namespace,op_name,op_count,host_name,rs_shard_id\n";
    const mib = 1024 * 1024;
    const path = traceFile(
      `${header}1,b1,40,${mib},${mib + mib / 2},u,n,getChunkData.x,2,h,0\n2,b2,40,1,0,u,n,putChunk.x,1,h,0\n`,
    );
    const { records } = await all(path);
    expect(records.map((r) => `${r.kind} ${r.entity}`)).toEqual([
      "read b1.1",
      "read b1.2",
      "read b1.1",
      "read b1.2",
      "event b2.0",
    ]);
    const small = await openTrace(path, { blockPageBytes: 512 * 1024 });
    const pages: string[] = [];
    for await (const r of small.records()) if (r.kind === "read") pages.push(r.entity);
    expect(new Set(pages)).toEqual(new Set(["b1.3", "b1.4"]));
    await expect(openTrace(path, { blockPageBytes: 100 })).rejects.toThrow(/block page size/);
    const bad = traceFile(`${header}1,b1,40,0,0,u,n,getChunkData.x,1,h,0\n`);
    await expect(all(bad)).rejects.toThrow(/:2: io_size 0 is not a positive integer/);
  });

  it("a truncated last line is an error naming it", async () => {
    const path = traceFile(
      "op_time,block_id,block_id_size,io_size,io_offset,user_name,user_namespace,op_name,op_count,host_name,rs_shard_id\n1,b1,40,8,0,u,n,getChunkData.x,1,h,0\n2,b2,40,8",
    );
    const e = await all(path).catch((err: unknown) => err);
    expect(isTraceFormatError(e)).toBe(true);
    expect(String(e)).toMatch(/:3: expected 11 fields, found 4/);
  });

  it("a header without ts and key, or an unknown first line, is refused clearly", async () => {
    await expect(all(traceFile("ts,nokey\n1,a\n"))).rejects.toThrow(/lacks the required ts and key/);
    await expect(openTrace(traceFile("a b c\n"))).rejects.toThrow(/cannot tell the trace format/);
    await expect(openTrace("/nonexistent/trace.csv")).rejects.toThrow(/cannot open trace/);
  });
});
