import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

/**
 * Streams a text file line by line with 1-based line numbers, never holding
 * more than a chunk: traces of millions of lines replay in constant memory.
 */
export async function* readLines(path: string): AsyncGenerator<{ line: string; number: number }> {
  const input = createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 });
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  try {
    for await (const line of rl) {
      number++;
      yield { line, number };
    }
  } finally {
    rl.close();
    input.destroy();
  }
}

/** Splits one CSV line: commas, with double-quoted fields ("" is a quote). */
export function splitCsv(line: string): string[] {
  if (!line.includes('"')) return line.split(",");
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      out.push(field);
      field = "";
    } else field += c;
  }
  if (quoted) throw new Error("unterminated quoted field");
  out.push(field);
  return out;
}

/** A finite number from a field, or a reason. */
export function parseNumber(text: string | undefined, name: string): number {
  const v = text === undefined || text.trim() === "" ? Number.NaN : Number(text);
  if (!Number.isFinite(v))
    throw new Error(`${name} ${JSON.stringify((text ?? "").slice(0, 40))} is not a number`);
  return v;
}
