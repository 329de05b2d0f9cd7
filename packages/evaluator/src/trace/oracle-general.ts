import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { basename } from "node:path";
import * as zlib from "node:zlib";
import { inBatches, spreadTies } from "./line-source.js";
import { emptyStats, makeRead, type ReaderStats, type TraceRecord, type TraceSource } from "./record.js";
import { TraceFormatError } from "./trace-error.js";

/**
 * libCacheSim's oracleGeneral binary traces, the form its public trace
 * collection ships CloudPhysics, MSR, Twitter, Meta and Wikimedia traces in:
 * packed little-endian records of 24 bytes, `uint32 time (s), uint64 object
 * id, uint32 size, int64 next access` (the last is libCacheSim's own oracle,
 * ignored: the replay's oracle works out the future itself). Every record is
 * a read of its object, the task type `object` as in the ARC and plain
 * formats. Read plain, or zstd-compressed (`.zst`) through Node's zlib where
 * it has zstd (Node 22.15 and later) and the `zstd` command otherwise.
 */
const recordBytes = 24;
const tenant = "trace";
const type = "object";

/** Whether a file is named as libCacheSim names its oracleGeneral traces (e.g. `w44.oracleGeneral.bin.zst`). */
export function isOracleGeneralPath(path: string): boolean {
  return /\.oracleGeneral(\.|$)/i.test(basename(path));
}

/** The file's bytes, decompressed when it ends in .zst. */
async function* bytesOf(path: string): AsyncGenerator<Buffer> {
  if (!path.toLowerCase().endsWith(".zst")) {
    yield* createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
    return;
  }
  const createZstd = (zlib as { createZstdDecompress?: () => NodeJS.ReadWriteStream }).createZstdDecompress;
  if (createZstd !== undefined) {
    const input = createReadStream(path);
    const output = input.pipe(createZstd());
    input.once("error", (e) => output.emit("error", e));
    yield* output as AsyncIterable<Buffer>;
    return;
  }
  const child = spawn("zstd", ["-dcq", "--", path], { stdio: ["ignore", "pipe", "pipe"] });
  const failed = new Promise<never>((_, reject) => {
    child.once("error", (e) =>
      reject(
        new Error(
          `cannot decompress ${basename(path)}: this Node has no zstd and the zstd command did not run (${e.message}); decompress it with zstd -d first`,
        ),
      ),
    );
  });
  // Read by the race below; held here so that a failure after the race is not unhandled.
  failed.catch(() => undefined);
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    if (stderr.length < 500) stderr += d.toString();
  });
  const closed = new Promise<number | null>((resolve) => child.once("close", resolve));
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) yield chunk;
    const code = await Promise.race([closed, failed]);
    if (code !== 0)
      throw new Error(`zstd could not decompress ${basename(path)}: ${stderr.trim().slice(0, 200)}`);
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

export class OracleGeneralSource implements TraceSource {
  readonly name: string;
  readonly format = "oracle-general";
  stats: ReaderStats = emptyStats();
  /** Records whose time was earlier than one before them; replayed at the later time. */
  reordered = 0;
  readonly #path: string;
  readonly #skipBad: boolean;

  constructor(path: string, options: { skipBad: boolean }) {
    this.name = path;
    this.#path = path;
    this.#skipBad = options.skipBad;
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
    this.reordered = 0;
    let last = Number.NEGATIVE_INFINITY;
    let rest: Buffer = Buffer.alloc(0);
    let bytes = 0;
    for await (const chunk of bytesOf(this.#path)) {
      bytes += chunk.length;
      const buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
      const whole = buf.length - (buf.length % recordBytes);
      for (let at = 0; at < whole; at += recordBytes) {
        stats.lines++;
        let time = buf.readUInt32LE(at) * 1000;
        const id = buf.readBigUInt64LE(at + 4).toString();
        if (time < last) {
          this.reordered++;
          time = last;
        } else last = time;
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
