import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { LineSplitter, readLineChunks, readLines } from "./lines.js";

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
});
