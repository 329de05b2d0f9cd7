import { checkPageBytes, pagesOf } from "./block-pages.js";
import type { LineParser } from "./line-source.js";
import { parseNumber, splitCsv } from "./lines.js";
import { makeEvent, makeRead, oneRequest, type TraceRecord } from "./record.js";

/**
 * The three CacheLib cachebench trace formats (facebook/CacheLib's test
 * configs). Gets are reads; sets, puts and deletes are trigger events on the
 * key (its value changed), which a policy may learn to act on. Each format
 * is its own task type, so TTLs are set per format with --ttl.
 */
const tenant = "trace";

function headerCheck(expected: readonly string[]): (line: string) => void {
  return (line) => {
    const names = splitCsv(line).map((h) => h.trim());
    const missing = expected.filter((e) => !names.includes(e));
    if (missing.length > 0) throw new Error(`header lacks ${missing.join(", ")}`);
  };
}

function columns(line: string, width: number): string[] {
  const f = splitCsv(line);
  if (f.length !== width) throw new Error(`expected ${width} fields, found ${f.length}`);
  return f;
}

const event = (time: number, taskType: string, entity: string, name: string): TraceRecord =>
  makeEvent(time, tenant, taskType, entity, name);

/** `timestamp,cacheKey,OpType,objectSize,responseSize,responseHeaderSize,rangeStart,rangeEnd,TTL,SamplingRate` */
export function bigcacheParser(): LineParser {
  const type = "cdn_object";
  return {
    header: headerCheck(["timestamp", "cacheKey", "OpType"]),
    parse(line) {
      const f = columns(line, 10);
      const time = parseNumber(f[0], "timestamp") * 1000;
      const key = f[1] ?? "";
      if (key === "") throw new Error("cacheKey is empty");
      const op = parseNumber(f[2], "OpType");
      // OpType 1 is a GET; anything else (a write) announces a new version.
      return op === 1 ? makeRead(time, tenant, type, key, "") : event(time, type, key, `op${op}`);
    },
  };
}

/** `op_time,key,key_size,op,op_count,size,cache_hits,ttl,usecase,sub_usecase` */
export function kvParser(): LineParser {
  const type = "kv_get";
  return {
    header: headerCheck(["op_time", "key", "op", "op_count"]),
    parse(line) {
      const f = columns(line, 10);
      const time = parseNumber(f[0], "op_time") * 1000;
      const key = f[1] ?? "";
      if (key === "") throw new Error("key is empty");
      const op = (f[3] ?? "").trim();
      const count = parseNumber(f[4], "op_count");
      if (!Number.isInteger(count) || count < 1 || count > 1_000_000)
        throw new Error(`op_count ${count} is not a positive integer`);
      const user = (f[8] ?? "").trim();
      if (op === "GET" || op === "GET_LEASE")
        return Array.from({ length: count }, () => makeRead(time, tenant, type, key, user));
      if (op === "SET" || op === "SET_LEASE" || op === "DELETE")
        return event(time, type, key, op.toLowerCase());
      throw new Error(
        `op ${JSON.stringify(op.slice(0, 20))} is not GET, GET_LEASE, SET, SET_LEASE or DELETE`,
      );
    },
  };
}

/**
 * `op_time,block_id,block_id_size,io_size,io_offset,user_name,user_namespace,op_name,op_count,host_name,rs_shard_id`
 *
 * A row reads, or for a put announces, every page of `pageBytes` its byte
 * range touches (block-pages.ts): the key `<block_id>.<page>`.
 */
export function blockParser(pageBytes: number): () => LineParser {
  checkPageBytes(pageBytes);
  const type = "block_read";
  return () => ({
    header: headerCheck(["op_time", "block_id", "op_name", "io_offset", "io_size"]),
    parse(line) {
      const f = columns(line, 11);
      const time = parseNumber(f[0], "op_time") * 1000;
      const block = f[1] ?? "";
      if (block === "") throw new Error("block_id is empty");
      const size = parseNumber(f[3], "io_size");
      const offset = parseNumber(f[4], "io_offset");
      const pages = pagesOf(block, offset, size, pageBytes, { offset: "io_offset", size: "io_size" });
      const op = f[7] ?? "";
      const count = parseNumber(f[8], "op_count");
      if (!Number.isInteger(count) || count < 1 || count > 1_000_000)
        throw new Error(`op_count ${count} is not a positive integer`);
      const user = (f[5] ?? "").trim();
      // A row's pages are one request, read (or put) at one instant; each of op_count repeats is one.
      if (op.startsWith("get"))
        return Array.from({ length: count }, () =>
          oneRequest(pages.map((p) => makeRead(time, tenant, type, p, user))),
        ).flat();
      if (op.startsWith("put") || op.startsWith("delete"))
        return oneRequest(pages.map((p) => event(time, type, p, op.split(".")[0] ?? op)));
      throw new Error(`op_name ${JSON.stringify(op.slice(0, 40))} is neither a get nor a put`);
    },
  });
}
