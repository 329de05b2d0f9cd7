import { access } from "node:fs/promises";
import { InvalidArgumentError, NotFoundError } from "@prescient/core";
import { alibabaParser, msrParser, tencentParser } from "./block-io.js";
import { bigcacheParser, blockParser, kvParser } from "./cachelib.js";
import { genericCsvParser } from "./generic-csv.js";
import { type LineParser, LineTraceSource } from "./line-source.js";
import { readLineChunks } from "./lines.js";
import { isOracleGeneralPath, OracleGeneralSource } from "./oracle-general.js";
import { arcParser, libCacheSimParser, plainParser } from "./position-timed.js";
import type { TraceSource } from "./record.js";
import { twitterOperations, twitterParser } from "./twitter.js";

/** The formats `prescient replay` reads; `auto` detects from the first line. */
export const traceFormats = [
  "auto",
  "generic",
  "cachelib-bigcache",
  "cachelib-kv",
  "cachelib-block",
  "libcachesim-csv",
  "plain",
  "arc",
  "msr-cambridge",
  "alibaba-block",
  "tencent-cbs",
  "twitter-cache",
  "oracle-general",
] as const;
export type TraceFormat = (typeof traceFormats)[number];

export interface OpenTraceOptions {
  format: TraceFormat;
  skipBad: boolean;
  /** Unit of libCacheSim's time column, in ms. Default 1000 (seconds). */
  timeUnitMs: number;
  /**
   * Page size of the block formats (CacheLib, MSR Cambridge, Alibaba,
   * Tencent CBS), in bytes: a read is of the pages its range touches.
   * Default 1 MiB (chunk stores read in MiB-sized ranges; 4 KiB pages
   * multiply the reads by ~256 without changing who wins).
   */
  blockPageBytes: number;
}

const defaults: OpenTraceOptions = {
  format: "auto",
  skipBad: false,
  timeUnitMs: 1000,
  blockPageBytes: 1024 * 1024,
};

/** NOT_FOUND, naming the trace, when it cannot be read. */
async function readable(path: string): Promise<void> {
  try {
    await access(path);
  } catch (e) {
    throw new NotFoundError(`cannot open trace ${path}: ${(e as Error).message}`);
  }
}

async function firstLine(path: string): Promise<string> {
  // The first chunk of lines is enough (and for a compressed trace, all that is decompressed).
  for await (const lines of readLineChunks(path)) return lines[0] ?? "";
  return "";
}

const wholeNumber = /^\d+$/;

/**
 * The headerless public formats, told apart by their fields: MSR Cambridge
 * by its Read/Write fourth field, Alibaba by its R/W second, Tencent CBS by
 * five numbers with a 0/1 fourth and a Unix time first, Twitter by a
 * memcached command second from last (its keys may hold commas).
 */
function headerless(f: readonly string[]): Exclude<TraceFormat, "auto" | "oracle-general"> | undefined {
  const number = (x: string | undefined): boolean => x !== undefined && wholeNumber.test(x);
  if (f.length === 7 && number(f[0]) && /^(read|write)$/i.test(f[3] ?? "") && number(f[4]))
    return "msr-cambridge";
  if (f.length === 5 && /^[rw]$/i.test(f[1] ?? "") && number(f[2]) && number(f[3]) && number(f[4]))
    return "alibaba-block";
  if (f.length === 5 && f.every(number) && (f[3] === "0" || f[3] === "1") && f[0]!.length >= 9)
    return "tencent-cbs";
  if (f.length >= 7 && number(f[0]) && twitterOperations.has(f[f.length - 2] ?? "")) return "twitter-cache";
  return undefined;
}

/** Which format a first line looks like. */
export function detectFormat(line: string): Exclude<TraceFormat, "auto" | "oracle-general"> {
  const header = line.split(",").map((h) => h.trim());
  const has = (...names: string[]): boolean => names.every((n) => header.includes(n));
  if (has("timestamp", "cacheKey", "OpType")) return "cachelib-bigcache";
  if (has("op_time", "block_id")) return "cachelib-block";
  if (has("op_time", "key", "op")) return "cachelib-kv";
  if (has("Timestamp", "Hostname", "DiskNumber")) return "msr-cambridge";
  if (has("device_id", "opcode", "offset", "length")) return "alibaba-block";
  if (has("Timestamp", "IOType", "VolumeID")) return "tencent-cbs";
  const known = headerless(header);
  if (known !== undefined) return known;
  if (header.includes("ts") || header.includes("key")) return "generic";
  if (has("version", "time", "op", "size", "lbn") || header.length === 5) return "libcachesim-csv";
  const words = line.trim().split(/\s+/);
  if (words.length === 4 && words.every((w) => /^\d+$/.test(w))) return "arc";
  if (words.length === 1 && !line.includes(",")) return "plain";
  throw new InvalidArgumentError(
    `cannot tell the trace format from its first line ${JSON.stringify(line.slice(0, 120))}; pass --format (${traceFormats.join(", ")})`,
  );
}

function parserFor(
  format: Exclude<TraceFormat, "auto" | "oracle-general">,
  o: OpenTraceOptions,
): () => LineParser {
  switch (format) {
    case "generic":
      return genericCsvParser;
    case "cachelib-bigcache":
      return bigcacheParser;
    case "cachelib-kv":
      return kvParser;
    case "cachelib-block":
      return blockParser(o.blockPageBytes);
    case "libcachesim-csv":
      return () => libCacheSimParser(o.timeUnitMs);
    case "plain":
      return plainParser;
    case "arc":
      return arcParser;
    case "msr-cambridge":
      return msrParser(o.blockPageBytes);
    case "alibaba-block":
      return alibabaParser(o.blockPageBytes);
    case "tencent-cbs":
      return tencentParser(o.blockPageBytes);
    case "twitter-cache":
      return twitterParser;
  }
}

/** Formats that stamp whole seconds: their ties are spread across the second (LineSourceOptions). */
const wholeSeconds: ReadonlySet<string> = new Set([
  "cachelib-bigcache",
  "cachelib-kv",
  "cachelib-block",
  "tencent-cbs",
  "twitter-cache",
]);

/**
 * Opens a trace in the format given, or the one its first line shows;
 * libCacheSim's binary oracleGeneral traces, which have no lines, by their
 * file name (`*.oracleGeneral*`) or `--format oracle-general`.
 */
export async function openTrace(path: string, options?: Partial<OpenTraceOptions>): Promise<TraceSource> {
  const o = { ...defaults, ...options };
  await readable(path);
  if (o.format === "oracle-general" || (o.format === "auto" && isOracleGeneralPath(path)))
    return new OracleGeneralSource(path, { skipBad: o.skipBad });
  const line = await firstLine(path);
  const format = o.format === "auto" ? detectFormat(line) : o.format;
  const resolutionMs = wholeSeconds.has(format) ? 1000 : 0;
  return new LineTraceSource(path, format, parserFor(format, o), { skipBad: o.skipBad, resolutionMs });
}
