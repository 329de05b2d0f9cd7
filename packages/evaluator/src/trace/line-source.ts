import { errorMessage } from "@prescient/core";
import { readLineChunks } from "./lines.js";
import { emptyStats, type ReaderStats, type TraceRecord, type TraceSource } from "./record.js";
import { TraceFormatError } from "./trace-error.js";

/**
 * The common shell of every line-based reader: streaming, line numbers,
 * --skip-bad accounting, and time order. A format supplies a parser that
 * turns one line into records (or none, for lines it ignores) and throws
 * with a reason on a malformed one.
 */
export interface LineParser {
  /** Whether the first line is a header to check and skip. */
  header?: (line: string) => void;
  parse(line: string, position: number): TraceRecord[] | TraceRecord | undefined;
}

export interface LineSourceOptions {
  skipBad: boolean;
  /**
   * The resolution of the format's timestamps, ms (1000 for whole seconds), or
   * 0. Records that share a truncated timestamp happened somewhere in that
   * unit; they are spread evenly across it rather than replayed at one instant,
   * where every read after the first would wait on the first one's compute.
   */
  resolutionMs: number;
}

const maxExamples = 5;
/** Records per batch handed on, at most (a line's own records are never split). */
const maxBatchRecords = 4096;

export class LineTraceSource implements TraceSource {
  readonly name: string;
  readonly format: string;
  stats: ReaderStats = emptyStats();
  #order = new TimeOrder();
  readonly #path: string;
  readonly #makeParser: () => LineParser;
  readonly #skipBad: boolean;
  readonly #resolutionMs: number;

  constructor(path: string, format: string, makeParser: () => LineParser, options: LineSourceOptions) {
    this.name = path;
    this.format = format;
    this.#path = path;
    this.#makeParser = makeParser;
    this.#skipBad = options.skipBad;
    this.#resolutionMs = options.resolutionMs;
  }

  /** Records whose time was earlier than one before them; replayed at the later time. */
  get reordered(): number {
    return this.#order.reordered;
  }

  records(): AsyncGenerator<TraceRecord> {
    return this.#resolutionMs > 0 ? spreadTies(this.#raw(), this.#resolutionMs) : this.#raw();
  }

  recordBatches(): AsyncIterable<readonly TraceRecord[]> {
    return this.#resolutionMs > 0 ? inBatches(this.records()) : this.#rawBatches();
  }

  async *#raw(): AsyncGenerator<TraceRecord> {
    for await (const batch of this.#rawBatches()) for (const r of batch) yield r;
  }

  /** The records of each chunk of lines. */
  async *#rawBatches(): AsyncGenerator<TraceRecord[]> {
    const stats = emptyStats();
    this.stats = stats;
    const order = new TimeOrder();
    this.#order = order;
    const parser = this.#makeParser();
    let position = 0;
    let number = 0;
    for await (const lines of readLineChunks(this.#path)) {
      let batch: TraceRecord[] = [];
      for (const line of lines) {
        number++;
        stats.lines = number;
        if (number === 1 && parser.header !== undefined) {
          try {
            parser.header(line);
          } catch (e) {
            throw new TraceFormatError(this.name, number, errorMessage(e));
          }
          continue;
        }
        if (line.trim() === "" || line.startsWith("#")) continue;
        let out: TraceRecord[] | TraceRecord | undefined;
        try {
          out = parser.parse(line, position);
        } catch (e) {
          if (!this.#skipBad)
            throw new TraceFormatError(
              this.name,
              number,
              `${errorMessage(e)} (use --skip-bad to skip such lines)`,
            );
          stats.skipped++;
          if (stats.skippedExamples.length < maxExamples)
            stats.skippedExamples.push(`line ${number}: ${errorMessage(e)}`);
          continue;
        }
        if (out === undefined) continue;
        for (const r of Array.isArray(out) ? out : [out]) {
          position++;
          r.time = order.at(r.time);
          stats.records++;
          batch.push(r);
        }
        // A chunk of lines can expand to a million records (ARC lines name runs of blocks): held
        // together until the chunk ends, they outlive young-generation collections and swell
        // the old space, which then dominates a replay's memory.
        if (batch.length >= maxBatchRecords) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    }
  }
}

/**
 * Keeps a pass over a trace in time order. Traces are mostly in order; a
 * slightly late record is replayed at the latest time seen, and counted.
 */
export class TimeOrder {
  reordered = 0;
  #last = Number.NEGATIVE_INFINITY;

  /** The time to replay a record stamped `time` at. */
  at(time: number): number {
    if (time < this.#last) {
      this.reordered++;
      return this.#last;
    }
    this.#last = time;
    return time;
  }
}

/** Records grouped into batches of at most `size`, in order. */
export async function* inBatches(
  records: AsyncIterable<TraceRecord>,
  size = 4096,
): AsyncGenerator<TraceRecord[]> {
  let batch: TraceRecord[] = [];
  for await (const r of records) {
    batch.push(r);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Spreads each run of records with one timestamp evenly across the
 * timestamp's unit, a request at a time: the records of one request (the
 * pages of one block read) keep one time, as they were read at one instant.
 * Spread apart, they would look like a reader that scans a page every few
 * milliseconds, which is not what happened.
 */
export async function* spreadTies(
  records: AsyncIterable<TraceRecord>,
  unitMs: number,
): AsyncGenerator<TraceRecord> {
  let run: TraceRecord[] = [];
  const release = function* (): Generator<TraceRecord> {
    let requests = 0;
    for (const r of run) if (r.withPrevious !== true) requests++;
    const step = unitMs / Math.max(1, requests);
    let request = -1;
    for (const r of run) {
      if (r.withPrevious !== true || request < 0) request++;
      const shift = Math.floor(request * step);
      if (r.kind === "read") r.instant = r.time;
      r.time += shift;
      if (r.kind === "event") r.anchor += shift;
      yield r;
    }
    run = [];
  };
  for await (const r of records) {
    if (run.length > 0 && r.time !== run[0]!.time) yield* release();
    run.push(r);
  }
  if (run.length > 0) yield* release();
}
