import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { defaultTaskTypesPath, loadTaskTypes } from "@prescient/core";
import { systemTool } from "@prescient/kit/testing";
import { describe, expect, it } from "vitest";
import { replay } from "../sim/replay.js";
import { openTrace } from "../trace/open-trace.js";
import type { TraceRecord } from "../trace/record.js";
import { zstdCommand } from "../trace/trace-bytes.js";
import { isTraceFormatError } from "../trace/trace-error.js";
import { traceFile } from "./fixtures.test-util.js";

/** The tests compress their inputs with it (and Node 20 reads .zst through it). */
const zstd = systemTool("zstd", "apt-get install zstd");

/** libCacheSim's oracleGeneral records: uint32 time (s), uint64 id, uint32 size, int64 next access. */
function oracleGeneral(records: ReadonlyArray<{ time: number; id: bigint }>): Buffer {
  const buf = Buffer.alloc(records.length * 24);
  records.forEach((r, i) => {
    buf.writeUInt32LE(r.time, i * 24);
    buf.writeBigUInt64LE(r.id, i * 24 + 4);
    buf.writeUInt32LE(4096, i * 24 + 12);
    buf.writeBigInt64LE(-1n, i * 24 + 16);
  });
  return buf;
}

function binaryFile(bytes: Buffer, name: string): string {
  const path = traceFile("", name);
  writeFileSync(path, bytes);
  return path;
}

async function all(path: string, skipBad = false): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of (await openTrace(path, { skipBad })).records()) out.push(r);
  return out;
}

const entities = (rs: TraceRecord[]): string[] => rs.map((r) => r.entity);

describe("libCacheSim oracleGeneral traces", () => {
  it("reads each 24-byte record as a read of its object, by the file's name", async () => {
    const path = binaryFile(
      oracleGeneral([
        { time: 10, id: 18_446_744_073_709_551_615n },
        { time: 10, id: 7n },
        { time: 12, id: 7n },
      ]),
      "oracleGeneral.bin",
    );
    const source = await openTrace(path);
    expect(source.format).toBe("oracle-general");
    const records = await all(path);
    expect(entities(records)).toEqual(["18446744073709551615", "7", "7"]);
    // Whole seconds: two reads in second 10 are spread across it.
    expect(records.map((r) => r.time)).toEqual([10_000, 10_500, 12_000]);
    expect(records.every((r) => r.kind === "read" && r.taskType === "object")).toBe(true);
  });

  it("replays a record earlier than one before it at the later time, and counts it", async () => {
    const path = binaryFile(
      oracleGeneral([
        { time: 10, id: 1n },
        { time: 4, id: 2n },
        { time: 12, id: 3n },
      ]),
      "late.oracleGeneral",
    );
    const source = await openTrace(path);
    const times: number[] = [];
    for await (const r of source.records()) times.push(r.time);
    // The late read joins second 10, and the two are spread across it.
    expect(times).toEqual([10_000, 10_500, 12_000]);
    expect(source.reordered).toBe(1);
  });

  it("a truncated last record is an error naming it, or skipped and counted", async () => {
    const whole = oracleGeneral([{ time: 1, id: 1n }]);
    const path = binaryFile(Buffer.concat([whole, whole.subarray(0, 10)]), "cut.oracleGeneral");
    const e = await all(path).catch((err: unknown) => err);
    expect(isTraceFormatError(e)).toBe(true);
    expect(String(e)).toMatch(/:2: 10 bytes after the last whole record of 24/);
    expect(entities(await all(path, true))).toEqual(["1"]);
  });

  it.runIf(zstd.runTests)("reads zstd-compressed traces (Node's zstd, or the zstd command)", async () => {
    const plain = oracleGeneral(Array.from({ length: 5000 }, (_, i) => ({ time: i, id: BigInt(i % 97) })));
    const zst = spawnSync("zstd", ["-q", "-c"], { input: plain });
    expect(zst.status).toBe(0);
    const path = binaryFile(zst.stdout, "w44.oracleGeneral.bin.zst");
    const records = await all(path);
    expect(records).toHaveLength(5000);
    expect(records[4999]).toMatchObject({ entity: "52", time: 4_999_000 });
    const bad = binaryFile(Buffer.from("not zstd at all"), "bad.oracleGeneral.zst");
    await expect(all(bad)).rejects.toThrow(/zstd|Unknown frame|incorrect header/i);
  });

  it.runIf(zstd.runTests)(
    "through the zstd command, on any Node, with a clear error where it cannot run",
    async () => {
      const plain = oracleGeneral([{ time: 1, id: 5n }]);
      const path = binaryFile(
        spawnSync("zstd", ["-q", "-c"], { input: plain }).stdout,
        "x.oracleGeneral.zst",
      );
      const read = async (): Promise<Buffer> => {
        const chunks: Buffer[] = [];
        for await (const c of zstdCommand(path)) chunks.push(c);
        return Buffer.concat(chunks);
      };
      expect(await read()).toEqual(plain);
      const saved = process.env.PATH;
      process.env.PATH = "/nonexistent";
      try {
        await expect(read()).rejects.toThrow(
          /the zstd command did not run .*ENOENT.*decompress it with zstd -d first/,
        );
      } finally {
        process.env.PATH = saved;
      }
    },
  );

  it("replays to the same figures as the same reads in the plain format", async () => {
    // 6,000 reads of a skewed id mix, one a second: the plain format times each by its position.
    let x = 12345;
    const ids = Array.from({ length: 6000 }, () => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return (x >> 8) % (1 + ((x >> 4) % 400));
    });
    const figures = async (path: string) => {
      const report = await replay(await openTrace(path), {
        policies: ["reactive", "prescient", "oracle"],
        taskTypes: loadTaskTypes(defaultTaskTypesPath),
      });
      return report.policies.map((p) => [p.policy, p.reads, p.hits, p.computes.total, p.computes.wasted]);
    };
    const plain = await figures(traceFile(`${ids.join("\n")}\n`, "txt"));
    expect(plain[0]![1]).toBe(6000);
    const binary = binaryFile(
      oracleGeneral(ids.map((id, i) => ({ time: i, id: BigInt(id) }))),
      "same.oracleGeneral.bin",
    );
    expect(await figures(binary)).toEqual(plain);
  });
});
