import { cacheV1, commonV1 } from "@prescient/contracts";
import { EncodedResult, EncodedValue } from "../store/encoded-result.js";

/**
 * Lookup and LookupMany response encoding that copies stored protobuf bytes
 * verbatim (an embedded message is a length-delimited field, like bytes)
 * instead of decoding and re-encoding them, and writes the whole response
 * into one buffer sized up front: no writer chunks, no fork/join copies per
 * answer. Field for field the same as the generated encoders; a test
 * compares them.
 */

// Tags of LookupResponse (field << 3 | wire type); all below 16, so one byte each.
const keyTag = (1 << 3) | 2;
const hitTag = 2 << 3;
const resultTag = (3 << 3) | 2;
const staleTag = 4 << 3;
const refreshDueTag = 5 << 3;
const degradedTag = 6 << 3;
const computedTag = 7 << 3;
const taskIdTag = (8 << 3) | 2;
// Tags of LookupManyResponse.
const resultsTag = (1 << 3) | 2;
const valuesTag = (2 << 3) | 2;
// Packed, as proto3 writes a repeated scalar.
const expiresAtMsTag = (3 << 3) | 2;

/** One answer's pieces, measured once and written once. */
interface Sized {
  m: cacheV1.LookupResponse;
  keyBytes: number;
  result: Uint8Array | undefined;
  taskIdBytes: number;
  /** The LookupResponse's own length, without its tag and length prefix. */
  size: number;
}

function measure(m: cacheV1.LookupResponse): Sized {
  const keyBytes = m.key === "" ? 0 : utf8Length(m.key);
  const result =
    m.result === undefined
      ? undefined
      : m.result instanceof EncodedResult
        ? m.result.encoded
        : commonV1.Result.encode(m.result).finish();
  const taskIdBytes = m.taskId === "" ? 0 : utf8Length(m.taskId);
  let size = 0;
  if (keyBytes > 0) size += 1 + varintLength(keyBytes) + keyBytes;
  if (m.hit) size += 2;
  if (result !== undefined) size += 1 + varintLength(result.length) + result.length;
  if (m.stale) size += 2;
  if (m.refreshDue) size += 2;
  if (m.degraded) size += 2;
  if (m.computed) size += 2;
  if (taskIdBytes > 0) size += 1 + varintLength(taskIdBytes) + taskIdBytes;
  return { m, keyBytes, result, taskIdBytes, size };
}

function writeResponse(s: Sized, buf: Buffer, at: number): number {
  const m = s.m;
  let pos = at;
  if (s.keyBytes > 0) {
    buf[pos++] = keyTag;
    pos = writeVarint(buf, pos, s.keyBytes);
    pos = writeString(buf, pos, m.key, s.keyBytes);
  }
  if (m.hit) pos = writeTrue(buf, pos, hitTag);
  if (s.result !== undefined) {
    buf[pos++] = resultTag;
    pos = writeVarint(buf, pos, s.result.length);
    buf.set(s.result, pos);
    pos += s.result.length;
  }
  if (m.stale) pos = writeTrue(buf, pos, staleTag);
  if (m.refreshDue) pos = writeTrue(buf, pos, refreshDueTag);
  if (m.degraded) pos = writeTrue(buf, pos, degradedTag);
  if (m.computed) pos = writeTrue(buf, pos, computedTag);
  if (s.taskIdBytes > 0) {
    buf[pos++] = taskIdTag;
    pos = writeVarint(buf, pos, s.taskIdBytes);
    pos = writeString(buf, pos, m.taskId, s.taskIdBytes);
  }
  return pos;
}

export function encodeLookupResponse(m: cacheV1.LookupResponse): Buffer {
  const s = measure(m);
  const buf = Buffer.allocUnsafe(s.size);
  writeResponse(s, buf, 0);
  return buf;
}

/**
 * LookupManyResponse: `results`, or with values_only the `values`, each a
 * stored Value's bytes where the store gave them, or with expiries_only the
 * `expires_at_ms` (never negative: epoch milliseconds or 0, see wireExpiry
 * in lookup-responses.ts).
 */
export function encodeLookupManyResponse(m: cacheV1.LookupManyResponse): Buffer {
  const sized = m.results.map(measure);
  const values = m.values.map((v) =>
    v instanceof EncodedValue ? v.encoded : commonV1.Value.encode(v).finish(),
  );
  const expiries = m.expiresAtMs.map(Number);
  let expiriesBytes = 0;
  for (const e of expiries) expiriesBytes += varintLength(e);
  let total = 0;
  for (const s of sized) total += 1 + varintLength(s.size) + s.size;
  for (const v of values) total += 1 + varintLength(v.length) + v.length;
  if (expiries.length > 0) total += 1 + varintLength(expiriesBytes) + expiriesBytes;
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const s of sized) {
    buf[pos++] = resultsTag;
    pos = writeVarint(buf, pos, s.size);
    pos = writeResponse(s, buf, pos);
  }
  for (const v of values) {
    buf[pos++] = valuesTag;
    pos = writeVarint(buf, pos, v.length);
    buf.set(v, pos);
    pos += v.length;
  }
  if (expiries.length > 0) {
    buf[pos++] = expiresAtMsTag;
    pos = writeVarint(buf, pos, expiriesBytes);
    for (const e of expiries) pos = writeVarint(buf, pos, e);
  }
  return buf;
}

function writeTrue(buf: Buffer, at: number, tag: number): number {
  buf[at] = tag;
  buf[at + 1] = 1;
  return at + 2;
}

function varintLength(n: number): number {
  let length = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    length++;
  }
  return length;
}

function writeVarint(buf: Buffer, at: number, n: number): number {
  let pos = at;
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

/** UTF-8 length of a string, as TextEncoder writes it (a lone surrogate becomes U+FFFD, 3 bytes). */
const utf8Length = (s: string): number => Buffer.byteLength(s, "utf8");

/** Writes a string of `bytes` UTF-8 bytes. */
function writeString(buf: Buffer, at: number, s: string, bytes: number): number {
  return at + buf.write(s, at, bytes, "utf8");
}

/** The generated service definition with the pass-through encoders for Lookup and LookupMany. */
export const cacheServiceDefinition = {
  ...cacheV1.CacheServiceService,
  lookup: {
    ...cacheV1.CacheServiceService.lookup,
    responseSerialize: encodeLookupResponse,
  },
  lookupMany: {
    ...cacheV1.CacheServiceService.lookupMany,
    responseSerialize: encodeLookupManyResponse,
  },
} as const;
