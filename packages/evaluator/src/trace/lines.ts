import { StringDecoder } from "node:string_decoder";
import { traceBytes } from "./trace-bytes.js";
import { TraceFormatError } from "./trace-error.js";

/**
 * The longest line a trace may hold, in characters. Trace lines are well
 * under a kilobyte; the bound keeps a file without line endings (a binary
 * trace read as text, say) from being gathered whole into memory.
 */
export const maxTraceLineChars = 1 << 20;

/**
 * Streams a text file line by line with 1-based line numbers, never holding
 * more than a chunk: traces of millions of lines replay in constant memory.
 */
export async function* readLines(path: string): AsyncGenerator<{ line: string; number: number }> {
  let number = 0;
  for await (const lines of readLineChunks(path)) for (const line of lines) yield { line, number: ++number };
}

/**
 * The lines of a text file, a chunk's worth at a time (a replay reads every
 * line twice, and one await per chunk rather than per line is a visible
 * share of it); gzip and zstd files are read decompressed (trace-bytes.ts).
 * Lines end as Node's readline ends them with an infinite crlfDelay: at
 * "\r\n", "\n" or a lone "\r"; a last line without an ending counts, an
 * empty one after the last ending does not.
 */
export async function* readLineChunks(path: string): AsyncGenerator<string[]> {
  // UTF-8 decoded across chunk boundaries: a character split between two chunks is kept whole.
  const text = new StringDecoder("utf8");
  const lines = new LineSplitter(path);
  for await (const chunk of traceBytes(path)) {
    const out = lines.push(text.write(chunk));
    if (out.length > 0) yield out;
  }
  const tail = lines.push(text.end());
  if (tail.length > 0) yield tail;
  const last = lines.end();
  if (last !== undefined) yield [last];
}

/**
 * Splits text arriving in chunks into lines (see readLineChunks). A line
 * longer than `maxLineChars` is a TraceFormatError naming `source` and the
 * line, raised as soon as the unfinished line passes the bound.
 */
export class LineSplitter {
  /** The unfinished line so far. */
  #rest = "";
  /** The text so far ended with "\r": a "\n" starting the next chunk belongs to that ending. */
  #sawReturn = false;
  /** Lines ended so far, to name the one that is too long. */
  #ended = 0;

  constructor(
    private readonly source = "trace",
    private readonly maxLineChars = maxTraceLineChars,
  ) {}

  push(chunk: string): string[] {
    let text = chunk;
    if (this.#sawReturn && text.charCodeAt(0) === 10) text = text.slice(1);
    this.#sawReturn = false;
    const out: string[] = [];
    let start = 0;
    let found = false;
    let nl = text.indexOf("\n");
    let cr = text.indexOf("\r");
    while (nl >= 0 || cr >= 0) {
      const atReturn = cr >= 0 && (nl < 0 || cr < nl);
      const end = atReturn ? cr : nl;
      const piece = text.slice(start, end);
      const line = found || this.#rest === "" ? piece : this.#rest + piece;
      if (line.length > this.maxLineChars) this.#tooLong(this.#ended + out.length + 1);
      out.push(line);
      found = true;
      start = atReturn && nl === cr + 1 ? nl + 1 : end + 1;
      if (nl >= 0 && nl < start) nl = text.indexOf("\n", start);
      if (cr >= 0 && cr < start) cr = text.indexOf("\r", start);
    }
    this.#ended += out.length;
    if (!found) {
      if (this.#rest.length + text.length > this.maxLineChars) this.#tooLong(this.#ended + 1);
      this.#rest += text;
      return out;
    }
    if (text.length - start > this.maxLineChars) this.#tooLong(this.#ended + 1);
    this.#rest = text.slice(start);
    this.#sawReturn = text.charCodeAt(text.length - 1) === 13;
    return out;
  }

  /** The last line, when the text did not end with a line ending. */
  end(): string | undefined {
    const last = this.#rest;
    this.#rest = "";
    return last.length > 0 ? last : undefined;
  }

  #tooLong(line: number): never {
    throw new TraceFormatError(
      this.source,
      line,
      `line longer than ${this.maxLineChars.toLocaleString("en-US")} characters: not a text trace? (a binary oracleGeneral trace takes --format oracle-general)`,
    );
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
