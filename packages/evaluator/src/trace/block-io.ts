import { checkPageBytes, pagesOf } from "./block-pages.js";
import type { LineParser } from "./line-source.js";
import { parseNumber, splitCsv } from "./lines.js";
import { makeEvent, makeRead, oneRequest } from "./record.js";

/**
 * The public block I/O traces most studies replay, each a CSV with no
 * header (a header line, where a copy carries one, is skipped). A read row
 * reads every page of `pageBytes` its byte range touches (block-pages.ts); a
 * write row announces a new version of each (a trigger event, as CacheLib's
 * puts are). All are the task type `block_read`, as CacheLib's block format
 * is, so one `--ttl block_read=...` covers them.
 *
 * - MSR Cambridge (SNIA IOTTA): `Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime`,
 *   the time a Windows FILETIME (100 ns ticks since 1601), Type Read or Write, bytes.
 * - Alibaba block traces (2020): `device_id,opcode,offset,length,timestamp`, opcode R or W,
 *   bytes, the time in µs since the Unix epoch.
 * - Tencent CBS (SNIA IOTTA): `Timestamp,Offset,Size,IOType,VolumeID`, the time in whole
 *   Unix seconds, offset and size in 512-byte sectors, IOType 0 (read) or 1 (write).
 */
const tenant = "trace";
const type = "block_read";

/** 100 ns ticks from 1601-01-01 to 1970-01-01. */
const fileTimeUnixEpoch = 116_444_736_000_000_000;
const sectorBytes = 512;

/** One row of a block trace, its range in bytes. */
interface BlockRow {
  time: number;
  volume: string;
  offset: number;
  size: number;
  write: boolean;
}

/** What tells one block format from another: its columns, and how a row of them reads. */
interface BlockFormat {
  /** The columns, as the format's own header (if any) names them; the first names a header line. */
  columns: string;
  /** How messages name the byte range. */
  range: { offset: string; size: string };
  row(f: readonly string[]): BlockRow;
}

/**
 * A parser of one block format: its row's pages, read or written at one
 * instant, as one request (block-pages.ts); a header line is skipped.
 */
function blockRows(pageBytes: number, format: BlockFormat): () => LineParser {
  checkPageBytes(pageBytes);
  const width = format.columns.split(",").length;
  const header = format.columns.split(",")[0];
  return () => ({
    parse(line) {
      const f = splitCsv(line);
      if (f.length !== width)
        throw new Error(`expected ${width} fields (${format.columns}), found ${f.length}`);
      for (let i = 0; i < f.length; i++) f[i] = f[i]!.trim();
      if (f[0] === header) return undefined;
      const r = format.row(f);
      const pages = pagesOf(r.volume, r.offset, r.size, pageBytes, format.range);
      return oneRequest(
        pages.map((p) =>
          r.write ? makeEvent(r.time, tenant, type, p, "write") : makeRead(r.time, tenant, type, p, ""),
        ),
      );
    },
  });
}

/** MSR Cambridge: a volume is `<host>_<disk>`. */
const msr: BlockFormat = {
  columns: "Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime",
  range: { offset: "Offset", size: "Size" },
  row(f) {
    // FILETIMEs pass 2^53: as a double they keep 16-tick (1.6 µs) steps, far below a millisecond.
    const time = (parseNumber(f[0], "Timestamp") - fileTimeUnixEpoch) / 10_000;
    const op = f[3]!.toLowerCase();
    if (op !== "read" && op !== "write")
      throw new Error(`Type ${JSON.stringify(f[3]!.slice(0, 20))} is neither Read nor Write`);
    const offset = parseNumber(f[4], "Offset");
    const size = parseNumber(f[5], "Size");
    return { time, volume: `${f[1]}_${f[2]}`, offset, size, write: op === "write" };
  },
};

/** Alibaba: a volume is the device. */
const alibaba: BlockFormat = {
  columns: "device_id,opcode,offset,length,timestamp",
  range: { offset: "offset", size: "length" },
  row(f) {
    const op = f[1]!.toUpperCase();
    if (op !== "R" && op !== "W")
      throw new Error(`opcode ${JSON.stringify(f[1]!.slice(0, 20))} is neither R nor W`);
    const time = parseNumber(f[4], "timestamp") / 1000;
    const offset = parseNumber(f[2], "offset");
    const size = parseNumber(f[3], "length");
    return { time, volume: f[0]!, offset, size, write: op === "W" };
  },
};

/** Tencent CBS: a volume is the volume id; offset and size come in sectors. */
const tencent: BlockFormat = {
  columns: "Timestamp,Offset,Size,IOType,VolumeID",
  range: { offset: "Offset (bytes)", size: "Size (bytes)" },
  row(f) {
    const time = parseNumber(f[0], "Timestamp") * 1000;
    const io = f[3];
    if (io !== "0" && io !== "1")
      throw new Error(`IOType ${JSON.stringify(io!.slice(0, 20))} is neither 0 (read) nor 1 (write)`);
    const offset = parseNumber(f[1], "Offset");
    const size = parseNumber(f[2], "Size");
    // Checked in sectors, as the row gives them, before they are made bytes.
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new Error(`Offset ${offset} is not a non-negative whole number of sectors`);
    if (!Number.isSafeInteger(size) || size < 1)
      throw new Error(`Size ${size} is not a positive whole number of sectors`);
    return { time, volume: f[4]!, offset: offset * sectorBytes, size: size * sectorBytes, write: io === "1" };
  },
};

export const msrParser = (pageBytes: number): (() => LineParser) => blockRows(pageBytes, msr);
export const alibabaParser = (pageBytes: number): (() => LineParser) => blockRows(pageBytes, alibaba);
export const tencentParser = (pageBytes: number): (() => LineParser) => blockRows(pageBytes, tencent);
