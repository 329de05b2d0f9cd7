import { basename } from "node:path";
import { inBatches, spreadTies, TimeOrder } from "./line-source.js";
import { emptyStats, makeRead, type ReaderStats, type TraceRecord, type TraceSource } from "./record.js";
import { traceBytes } from "./trace-bytes.js";
import { TraceFormatError } from "./trace-error.js";

/**
 * libCacheSim's oracleGeneral binary traces, the form its public trace
 * collection ships CloudPhysics, MSR, Twitter, Meta and Wikimedia traces in:
 * packed little-endian records of 24 bytes, `uint32 time (s), uint64 object
 * id, uint32 size, int64 next access` (the last is libCacheSim's own oracle,
 * ignored: the replay's oracle works out the future itself). Every record is
 * a read of its object, the task type `object` as in the ARC and plain
 * formats. Read plain or compressed (trace-bytes.ts).
 */
const recordBytes = 24;
const tenant = "trace";
const type = "object";

/** Whether a file is named as libCacheSim names its oracleGeneral traces (e.g. `w44.oracleGeneral.bin.zst`). */
export function isOracleGeneralPath(path: string): boolean {
  return /\.oracleGeneral(\.|$)/i.test(basename(path));
}

export class OracleGeneralSource implements TraceSource {
  readonly name: string;
  readonly format = "oracle-general";
  stats: ReaderStats = emptyStats();
  #order = new TimeOrder();
  readonly #path: string;
  readonly #skipBad: boolean;

  constructor(path: string, options: { skipBad: boolean }) {
    this.name = path;
    this.#path = path;
    this.#skipBad = options.skipBad;
  }

  /** Records whose time was earlier than one before them; replayed at the later time. */
  get reordered(): number {
    return this.#order.reordered;
  }

  /** Whole seconds: the reads of one second are spread across it, as for CacheLib's traces. */
  records(): AsyncGenerator<TraceRecord> {
    return spreadTies(this.#raw(), 1000);
  }

  recordBatches(): AsyncIterable<readonly TraceRecord[]> {
    return inBatches(this.records());
  }

  async *#raw(): AsyncGenerator<TraceRecord> {
    const stats = emptyStats();
    this.stats = stats;
    const order = new TimeOrder();
    this.#order = order;
    let rest: Buffer = Buffer.alloc(0);
    let bytes = 0;
    for await (const chunk of traceBytes(this.#path)) {
      bytes += chunk.length;
      const buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
      const whole = buf.length - (buf.length % recordBytes);
      for (let at = 0; at < whole; at += recordBytes) {
        stats.lines++;
        const time = order.at(buf.readUInt32LE(at) * 1000);
        const id = buf.readBigUInt64LE(at + 4).toString();
        stats.records++;
        yield makeRead(time, tenant, type, id, "");
      }
      rest = buf.subarray(whole);
    }
    if (rest.length > 0) {
      const reason = `${rest.length} bytes after the last whole record of ${recordBytes} (of ${bytes}): the file is truncated`;
      if (!this.#skipBad) throw new TraceFormatError(this.name, stats.lines + 1, reason);
      stats.skipped++;
      stats.skippedExamples.push(`record ${stats.lines + 1}: ${reason}`);
    }
  }
}
