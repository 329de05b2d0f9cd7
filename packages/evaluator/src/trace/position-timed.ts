import type { LineParser } from "./line-source.js";
import { parseNumber, splitCsv } from "./lines.js";
import { makeEvent, makeRead, type TraceRecord } from "./record.js";

/**
 * Formats whose time is a request's position (libCacheSim's plain and ARC
 * traces) or whose clock is a number column (libCacheSim CSV). Position p is
 * replayed at p seconds, so a TTL of n seconds lasts n requests.
 */
const tenant = "trace";
const type = "object";

/** One request id per line. */
export function plainParser(): LineParser {
  return {
    parse(line, position) {
      const id = line.trim();
      if (/\s/.test(id)) throw new Error("expected one id per line");
      return makeRead(position * 1000, tenant, type, id, "");
    },
  };
}

/** ARC: `start count ignore seq`: blocks start..start+count-1, each one request. */
export function arcParser(): LineParser {
  return {
    parse(line, position) {
      const f = line.trim().split(/\s+/);
      if (f.length !== 4) throw new Error(`expected 4 fields (start count ignore seq), found ${f.length}`);
      const start = parseNumber(f[0], "start");
      const count = parseNumber(f[1], "count");
      if (!Number.isInteger(start) || start < 0) throw new Error("start is not a non-negative integer");
      if (!Number.isInteger(count) || count < 1 || count > 1_000_000)
        throw new Error("count is not a positive integer up to 1,000,000");
      const out: TraceRecord[] = [];
      for (let i = 0; i < count; i++)
        out.push(makeRead((position + i) * 1000, tenant, type, String(start + i), ""));
      return out;
    },
  };
}

/**
 * libCacheSim CSV: `version,time,op,size,lbn` (time in the given unit; the
 * op is a read unless it names a write). The header line is optional.
 */
export function libCacheSimParser(timeUnitMs: number): LineParser {
  return {
    parse(line) {
      const f = splitCsv(line);
      if (f.length !== 5) throw new Error(`expected 5 fields (version,time,op,size,lbn), found ${f.length}`);
      if (f[1]?.trim() === "time") return undefined;
      const time = parseNumber(f[1], "time") * timeUnitMs;
      const op = (f[2] ?? "").trim().toLowerCase();
      const lbn = (f[4] ?? "").trim();
      if (lbn === "") throw new Error("lbn is empty");
      parseNumber(f[3], "size");
      if (op === "w" || op === "write") return makeEvent(time, tenant, type, lbn, "write");
      return makeRead(time, tenant, type, lbn, "");
    },
  };
}
