import { readFileSync } from "node:fs";
import { join } from "node:path";
import { defaultTaskTypesPath, loadTaskTypes } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { replay } from "../sim/replay.js";
import { detectFormat, openTrace } from "../trace/open-trace.js";
import type { TraceRecord } from "../trace/record.js";
import { testTraces, traceFile } from "./fixtures.test-util.js";

async function all(path: string, options?: Parameters<typeof openTrace>[1]): Promise<TraceRecord[]> {
  const records: TraceRecord[] = [];
  for await (const r of (await openTrace(path, options)).records()) records.push(r);
  return records;
}

const shape = (r: TraceRecord): string =>
  `${r.kind} ${r.taskType} ${r.entity} ${r.time}${r.kind === "event" ? ` ${r.event}` : ""}${r.withPrevious ? " +" : ""}`;

const mib = 1024 * 1024;
/** 2024-01-01T00:00:00Z. */
const unixS = 1_704_067_200;
const fileTime = (ms: number): string => String(BigInt(ms) * 10_000n + 116_444_736_000_000_000n);

describe("the headerless public trace formats", () => {
  it("tells each apart by its first line, with or without a header", () => {
    expect(detectFormat(`${fileTime(unixS * 1000)},wdev,0,Read,3399864320,4096,1497`)).toBe("msr-cambridge");
    expect(detectFormat("Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime")).toBe("msr-cambridge");
    expect(detectFormat("0,R,126703644672,4096,1577808000000147")).toBe("alibaba-block");
    expect(detectFormat("device_id,opcode,offset,length,timestamp")).toBe("alibaba-block");
    expect(detectFormat("1538323200,18287856,8,1,1283")).toBe("tencent-cbs");
    expect(detectFormat("Timestamp,Offset,Size,IOType,VolumeID")).toBe("tencent-cbs");
    expect(detectFormat("0,q:q:1:8WTfjZU5Q05vu,21,0,1,get,0")).toBe("twitter-cache");
    expect(detectFormat("3,a,b,21,0,1,gets,0")).toBe("twitter-cache"); // a key with a comma
    // Still what they were: libCacheSim's five fields, and the generic header.
    expect(detectFormat("1,10,r,4096,77")).toBe("libcachesim-csv");
    expect(detectFormat("1,10,0,4096,77")).toBe("libcachesim-csv");
    expect(detectFormat("ts,key")).toBe("generic");
  });

  it("MSR Cambridge: FILETIME to ms, a volume per host and disk, the pages a range touches", async () => {
    const t = unixS * 1000;
    const records = await all(
      traceFile(
        `${fileTime(t)},wdev,0,Read,${mib - 512},1024,1497\n${fileTime(t + 3)},wdev,1,Write,0,4096,10\n`,
      ),
    );
    expect(records.map(shape)).toEqual([
      `read block_read wdev_0.0 ${t}`,
      `read block_read wdev_0.1 ${t} +`,
      `event block_read wdev_1.0 ${t + 3} write`,
    ]);
    const first = `${fileTime(t)},wdev,0,Read,0,4096,1\n`;
    await expect(all(traceFile(`${first}${fileTime(t)},wdev,0,Trim,0,4096,1\n`))).rejects.toThrow(
      /:2: Type "Trim" is neither Read nor Write/,
    );
    await expect(all(traceFile(`${fileTime(t)},wdev,0,Read,0,0,1\n`))).rejects.toThrow(
      /:1: Size 0 is not a positive integer/,
    );
  });

  it("Alibaba: µs to ms, a volume per device; its header line is skipped", async () => {
    const records = await all(
      traceFile(
        `device_id,opcode,offset,length,timestamp\n7,R,0,4096,1577808000000147\n7,W,${mib},1,1577808000002000\n`,
      ),
    );
    expect(records.map(shape)).toEqual([
      "read block_read 7.0 1577808000000.147",
      "event block_read 7.1 1577808000002 write",
    ]);
    await expect(
      all(traceFile("7,X,0,4096,1577808000000147\n"), { format: "alibaba-block" }),
    ).rejects.toThrow(/opcode "X" is neither R nor W/);
  });

  it("Tencent CBS: whole seconds, sectors of 512 bytes, IOType 0 reads and 1 writes", async () => {
    // 2,048 sectors from sector 2,047: bytes 1,048,064 to 2,096,639, pages 0 and 1 of 1 MiB.
    const records = await all(traceFile(`${unixS},2047,2048,0,1283\n${unixS},0,8,1,1283\n`));
    expect(records.map(shape)).toEqual([
      `read block_read 1283.0 ${unixS * 1000}`,
      `read block_read 1283.1 ${unixS * 1000} +`,
      // Whole seconds: the second request of the second is spread half a second on.
      `event block_read 1283.0 ${unixS * 1000 + 500} write`,
    ]);
    const small = await all(traceFile(`${unixS},2047,2,0,9\n`), { blockPageBytes: 1024 });
    expect(small.map((r) => r.entity)).toEqual(["9.1023", "9.1024"]);
    await expect(all(traceFile(`${unixS},1.5,8,0,1283\n`), { format: "tencent-cbs" })).rejects.toThrow(
      /Offset 1.5 is not a non-negative whole/,
    );
    await expect(all(traceFile(`${unixS},0,8,2,1283\n`), { format: "tencent-cbs" })).rejects.toThrow(
      /IOType "2" is neither 0 \(read\) nor 1 \(write\)/,
    );
  });

  it("Twitter: gets read, every other command writes, keys keep their commas", async () => {
    const records = await all(
      traceFile("0,k1,2,0,1,get,0\n0,a,b,3,10,1,set,60\n1,k1,2,0,1,gets,0\n2,k1,2,0,1,delete,0\n"),
    );
    expect(records.map(shape)).toEqual([
      "read cache_get k1 0",
      "event cache_get a,b 500 set",
      "read cache_get k1 1000",
      "event cache_get k1 2000 delete",
    ]);
    await expect(all(traceFile("0,k1,2,0,1,get,0\n1,k1,2,0,1,flush,0\n"))).rejects.toThrow(
      /:2: operation "flush" is not a memcached command/,
    );
  });

  it("the real block trace, rewritten in each block format, replays to the same figures", async () => {
    // block_traces_1.csv's requests, each op_count repeat its own, spread across their second
    // as the CacheLib reader spreads them, then written as MSR, Alibaba and Tencent rows.
    const lines = readFileSync(join(testTraces, "block_traces_1.csv"), "utf8").trim().split("\n").slice(1);
    const bySecond = new Map<
      number,
      Array<{ block: string; offset: number; size: number; write: boolean }>
    >();
    for (const line of lines) {
      const f = line.split(",");
      const write = !f[7]!.startsWith("get");
      const second = Number(f[0]);
      const list = bySecond.get(second) ?? [];
      bySecond.set(second, list);
      for (let i = 0; i < (write ? 1 : Number(f[8])); i++)
        list.push({ block: f[1]!, offset: Number(f[4]), size: Number(f[3]), write });
    }
    const volumes = new Map<string, number>();
    const msr: string[] = [];
    const alibaba: string[] = [];
    const tencent: string[] = [];
    for (const [second, requests] of bySecond)
      requests.forEach((r, i) => {
        const ms = second * 1000 + Math.floor((i * 1000) / requests.length);
        const volume = volumes.get(r.block) ?? volumes.size + 1;
        volumes.set(r.block, volume);
        msr.push(`${fileTime(ms)},${r.block},0,${r.write ? "Write" : "Read"},${r.offset},${r.size},100`);
        alibaba.push(`${r.block},${r.write ? "W" : "R"},${r.offset},${r.size},${ms * 1000}`);
        // Sector-aligned: the same pages of 1 MiB as the byte range.
        const first = Math.floor(r.offset / 512);
        const sectors = Math.floor((r.offset + r.size - 1) / 512) - first + 1;
        tencent.push(`${second},${first},${sectors},${r.write ? 1 : 0},${volume}`);
      });
    const figures = async (path: string) => {
      const report = await replay(await openTrace(path), {
        policies: ["reactive", "prescient", "oracle"],
        taskTypes: loadTaskTypes(defaultTaskTypesPath),
      });
      return report.policies.map((p) => [p.policy, p.reads, p.hits, p.computes.total, p.computes.wasted]);
    };
    const cachelib = await figures(join(testTraces, "block_traces_1.csv"));
    expect(cachelib[0]![1]).toBe(1805);
    for (const rows of [msr, alibaba, tencent])
      expect(await figures(traceFile(`${rows.join("\n")}\n`))).toEqual(cachelib);
  });
});
