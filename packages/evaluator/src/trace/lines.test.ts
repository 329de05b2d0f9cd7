import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { LineSplitter, maxTraceLineChars, readLineChunks, readLines } from "./lines.js";
import { openTrace } from "./open-trace.js";
import { isTraceFormatError } from "./trace-error.js";

/** The lines Node's readline gives for text arriving in these chunks (what the reader replaced). */
async function readlineLines(chunks: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const line of createInterface({
    input: Readable.from(chunks),
    crlfDelay: Number.POSITIVE_INFINITY,
  }))
    out.push(line);
  return out;
}

function splitterLines(chunks: string[]): string[] {
  const s = new LineSplitter();
  const out: string[] = [];
  for (const c of chunks) out.push(...s.push(c));
  const last = s.end();
  if (last !== undefined) out.push(last);
  return out;
}

const texts = [
  "a\nb\n",
  "a\r\nb",
  "a\rb\r\n\r\nc\n\n",
  "\r\n\n\r\r\n",
  "x",
  "abc\r",
  "\r",
  "\n",
  "a\r\r\nb\r\n",
  "héllo\nwörld\r\n€",
  "ts,key\n1,a\n2,b",
];

describe("line splitting", () => {
  it("ends lines as readline does, wherever the chunks break", async () => {
    for (const text of texts)
      for (let i = 0; i <= text.length; i++)
        for (let j = i; j <= text.length; j++) {
          const chunks = [text.slice(0, i), text.slice(i, j), text.slice(j)].filter((c) => c.length > 0);
          expect(splitterLines(chunks), JSON.stringify(chunks)).toEqual(await readlineLines(chunks));
        }
  });

  const dir = mkdtempSync(join(tmpdir(), "prescient-lines-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a file larger than a chunk, numbering its lines", async () => {
    const path = join(dir, "big.csv");
    const lines = Array.from({ length: 60_000 }, (_, i) => `${i},${"x".repeat(i % 40)}`);
    writeFileSync(path, `${lines.join("\r\n")}\n`);
    const chunks: string[][] = [];
    for await (const c of readLineChunks(path)) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat()).toEqual(lines);
    let n = 0;
    for await (const { line, number } of readLines(path)) {
      expect(line).toBe(lines[n]);
      expect(number).toBe(++n);
    }
    expect(n).toBe(lines.length);
  });

  it("stops at a line longer than the bound, naming it, whether or not it has ended", () => {
    const split = (chunks: string[]) => () => {
      const s = new LineSplitter("t.csv", 6);
      for (const c of chunks) s.push(c);
      return s.end();
    };
    expect(split(["abcdef\n", "ghijkl"])()).toBe("ghijkl");
    expect(split(["abc", "def", "g\n"])).toThrow(/^t\.csv:1: line longer than 6 characters/);
    expect(split(["ok\nabcdefg\n"])).toThrow(/^t\.csv:2: /);
    expect(split(["ok\r\nok\nabcdefg"])).toThrow(/^t\.csv:3: /);
    expect(split(["ok\nabc", "defg", "\n"])).toThrow(/^t\.csv:2: /);
  });

  it("rejects a file without line endings without reading it whole, when opened and when read", async () => {
    const path = join(dir, "no-endings.csv");
    writeFileSync(path, `ts,key,${"x".repeat(3 * maxTraceLineChars)}`);
    const tooLong = /no-endings\.csv:1: line longer than 1,048,576 characters/;
    const opened = await openTrace(path).catch((e: unknown) => e);
    expect(isTraceFormatError(opened)).toBe(true);
    expect((opened as Error).message).toMatch(tooLong);
    const read = (async () => {
      for await (const _ of readLines(path));
    })();
    await expect(read).rejects.toThrow(tooLong);
  });
});
