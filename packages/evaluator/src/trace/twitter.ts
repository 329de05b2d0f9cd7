import type { LineParser } from "./line-source.js";
import { parseNumber, splitCsv } from "./lines.js";
import { makeEvent, makeRead } from "./record.js";

/**
 * Twitter's in-memory cache traces (twitter/cache-trace, OSDI 2020):
 * `timestamp,anonymized key,key size,value size,client id,operation,TTL`,
 * no header, the time in whole seconds from the trace's start. Gets are
 * reads; every other operation writes the key (a trigger event, as
 * CacheLib's sets are). The anonymized key may itself hold commas: the
 * fields are counted from both ends. Client ids are front-end services,
 * not users, and the per-request TTL is left to `--ttl cache_get=...`.
 */
const tenant = "trace";
const type = "cache_get";

/** The memcached operations the traces record; get and gets read. */
export const twitterOperations: ReadonlySet<string> = new Set([
  "get",
  "gets",
  "set",
  "add",
  "replace",
  "cas",
  "append",
  "prepend",
  "delete",
  "incr",
  "decr",
]);

export function twitterParser(): LineParser {
  return {
    parse(line) {
      const f = splitCsv(line);
      if (f.length < 7)
        throw new Error(
          `expected 7 fields (timestamp,key,key size,value size,client id,operation,TTL), found ${f.length}`,
        );
      const time = parseNumber(f[0], "timestamp") * 1000;
      const key = f.slice(1, f.length - 5).join(",");
      if (key === "") throw new Error("key is empty");
      const op = (f[f.length - 2] ?? "").trim();
      if (!twitterOperations.has(op))
        throw new Error(`operation ${JSON.stringify(op.slice(0, 20))} is not a memcached command`);
      return op === "get" || op === "gets"
        ? makeRead(time, tenant, type, key, "")
        : makeEvent(time, tenant, type, key, op);
    },
  };
}
