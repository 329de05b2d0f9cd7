import { checkPageBytes, pagesOf } from "./block-pages.js";
import type { LineParser } from "./line-source.js";
import { parseNumber, splitCsv } from "./lines.js";
import { makeEvent, makeRead, oneRequest, type TraceRecord } from "./record.js";

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

function fields(line: string, width: number, names: string): string[] {
  const f = splitCsv(line);
  if (f.length !== width) throw new Error(`expected ${width} fields (${names}), found ${f.length}`);
  return f.map((x) => x.trim());
}

/** One row's pages, read or written at one instant, as one request. */
function request(time: number, pages: string[], write: boolean): TraceRecord[] {
  return oneRequest(
    pages.map((p) =>
      write ? makeEvent(time, tenant, type, p, "write") : makeRead(time, tenant, type, p, ""),
    ),
  );
}

/** `Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime`; a volume is `<host>_<disk>`. */
export function msrParser(pageBytes: number): () => LineParser {
  checkPageBytes(pageBytes);
  const names = "Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime";
  return () => ({
    parse(line) {
      const f = fields(line, 7, names);
      if (f[0] === "Timestamp") return undefined;
      // FILETIMEs pass 2^53: as a double they keep 16-tick (1.6 µs) steps, far below a millisecond.
      const time = (parseNumber(f[0], "Timestamp") - fileTimeUnixEpoch) / 10_000;
      const op = f[3]!.toLowerCase();
      if (op !== "read" && op !== "write")
        throw new Error(`Type ${JSON.stringify(f[3]!.slice(0, 20))} is neither Read nor Write`);
      const volume = `${f[1]}_${f[2]}`;
      const pages = pagesOf(volume, parseNumber(f[4], "Offset"), parseNumber(f[5], "Size"), pageBytes, {
        offset: "Offset",
        size: "Size",
      });
      return request(time, pages, op === "write");
    },
  });
}

/** `device_id,opcode,offset,length,timestamp`; a volume is the device. */
export function alibabaParser(pageBytes: number): () => LineParser {
  checkPageBytes(pageBytes);
  const names = "device_id,opcode,offset,length,timestamp";
  return () => ({
    parse(line) {
      const f = fields(line, 5, names);
      if (f[0] === "device_id") return undefined;
      const op = f[1]!.toUpperCase();
      if (op !== "R" && op !== "W")
        throw new Error(`opcode ${JSON.stringify(f[1]!.slice(0, 20))} is neither R nor W`);
      const time = parseNumber(f[4], "timestamp") / 1000;
      const pages = pagesOf(f[0]!, parseNumber(f[2], "offset"), parseNumber(f[3], "length"), pageBytes, {
        offset: "offset",
        size: "length",
      });
      return request(time, pages, op === "W");
    },
  });
}

/** `Timestamp,Offset,Size,IOType,VolumeID`; a volume is the volume id. */
export function tencentParser(pageBytes: number): () => LineParser {
  checkPageBytes(pageBytes);
  const names = "Timestamp,Offset,Size,IOType,VolumeID";
  return () => ({
    parse(line) {
      const f = fields(line, 5, names);
      if (f[0] === "Timestamp") return undefined;
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
      const pages = pagesOf(f[4]!, offset * sectorBytes, size * sectorBytes, pageBytes, {
        offset: "Offset (bytes)",
        size: "Size (bytes)",
      });
      return request(time, pages, io === "1");
    },
  });
}
