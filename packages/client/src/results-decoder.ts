import { commonV1 } from "@prescient/contracts";
import type { LookupOutcome } from "@prescient/core";
import { outcomeOfLookup } from "@prescient/kit/wire";
import type { LookupResult } from "./client.js";
import type { DecodedValue } from "./values.js";
import { decodeValueParts, readValueParts } from "./values-decoder.js";
import { WireReader, wire } from "./wire-reader.js";

/**
 * The answer of a full LookupMany, decoded from the wire straight into
 * LookupResults. The generated decoder builds every result whole: a Result,
 * its Value tree with a BigInt per shape dimension, two Timestamps through
 * a BigInt's text each, every string; then decodeValue copies the Value
 * again. A caller ranking candidates reads the values and perhaps the
 * times, so this reads each answer's value and times once, into its
 * LookupResult, and leaves the stored Result's bytes to be decoded only when
 * `raw` is read (issue 16's bench measures both decoders against the
 * minimal MGET service). It agrees with lookupResult(LookupManyResponse.
 * decode(bytes)) on every input; results-decoder.test.ts checks it.
 */
export interface LookupResultsAnswer {
  /** One per full result the cache answered. */
  results: LookupResult[];
  /** Values the cache answered (a cache that took the call as values only). */
  values: number;
}

export function decodeLookupResults(bytes: Uint8Array): LookupResultsAnswer {
  const r = new WireReader(bytes);
  const results: LookupResult[] = [];
  let values = 0;
  while (!r.done()) {
    const tag = r.varint32();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === wire.len) results.push(readResponse(r, r.length()));
    else {
      if (field === 2) values++;
      r.skip(tag & 7);
    }
  }
  return { results, values };
}

/**
 * A LookupResult whose stored Result is decoded on first use of `raw`, and
 * written whole by JSON.stringify, as the plain object of lookupResult is.
 */
class WireLookupResult implements LookupResult {
  readonly key: string;
  readonly outcome: LookupOutcome;
  readonly value: DecodedValue | undefined;
  readonly computed: boolean;
  readonly taskId: string | undefined;
  /** The stored Result's bytes (undefined for a miss), and its times in ms (NaN where absent). */
  readonly #stored: Uint8Array | undefined;
  readonly #computedAtMs: number;
  readonly #expiresAtMs: number;
  #raw: commonV1.Result | undefined;
  #computedAt: Date | undefined;
  #expiresAt: Date | undefined;

  constructor(
    fields: Omit<LookupResult, "raw" | "computedAt" | "expiresAt">,
    stored: Uint8Array | undefined,
    computedAtMs: number,
    expiresAtMs: number,
  ) {
    this.key = fields.key;
    this.outcome = fields.outcome;
    this.value = fields.value;
    this.computed = fields.computed;
    this.taskId = fields.taskId;
    this.#stored = stored;
    this.#computedAtMs = computedAtMs;
    this.#expiresAtMs = expiresAtMs;
  }

  // Dates are made when read, once each: a caller ranking values reads none of them.
  get computedAt(): Date | undefined {
    if (Number.isNaN(this.#computedAtMs)) return undefined;
    this.#computedAt ??= new Date(this.#computedAtMs);
    return this.#computedAt;
  }

  get expiresAt(): Date | undefined {
    if (Number.isNaN(this.#expiresAtMs)) return undefined;
    this.#expiresAt ??= new Date(this.#expiresAtMs);
    return this.#expiresAt;
  }

  get raw(): commonV1.Result | undefined {
    if (this.#stored === undefined) return undefined;
    this.#raw ??= commonV1.Result.decode(this.#stored);
    return this.#raw;
  }

  /** What lookupResult's plain object writes, in its order. */
  toJSON(): LookupResult {
    return {
      key: this.key,
      outcome: this.outcome,
      value: this.value,
      computedAt: this.computedAt,
      expiresAt: this.expiresAt,
      computed: this.computed,
      taskId: this.taskId,
      raw: this.raw,
    };
  }
}

/** LookupResponse: key (1), hit (2), result (3), stale (4), refresh_due (5), degraded (6), computed (7), task_id (8). */
function readResponse(r: WireReader, end: number): LookupResult {
  let key = "";
  let hit = false;
  let stale = false;
  let computed = false;
  let taskId = "";
  let resultStart = -1;
  let resultEnd = -1;
  while (r.pos < end) {
    const tag = r.varint32();
    const field = tag >>> 3;
    const type = tag & 7;
    if (field === 1 && type === wire.len) key = r.text(r.length());
    else if (field === 2 && type === wire.varint) hit = r.int64() !== 0;
    else if (field === 3 && type === wire.len) {
      resultEnd = r.length();
      resultStart = r.pos;
      r.pos = resultEnd;
    } else if (field === 4 && type === wire.varint) stale = r.int64() !== 0;
    else if (field === 7 && type === wire.varint) computed = r.int64() !== 0;
    else if (field === 8 && type === wire.len) taskId = r.text(r.length());
    else r.skip(type); // refresh_due and degraded are not part of a LookupResult
  }
  r.expectAt(end);
  const outcome = outcomeOfLookup({ hit, stale });
  // As lookupResult: a miss carries no result unless this call computed one.
  const stored =
    resultStart >= 0 && (outcome !== "miss" || computed)
      ? readStoredResult(r, resultStart, resultEnd)
      : undefined;
  return new WireLookupResult(
    { key, outcome, value: stored?.value, computed, taskId: taskId === "" ? undefined : taskId },
    stored?.bytes,
    stored?.computedAtMs ?? Number.NaN,
    stored?.expiresAtMs ?? Number.NaN,
  );
}

/**
 * The Result from `start` to `end`, the reader left where it was: its bytes
 * (copied, as a payload is: a result the caller keeps must not hold the
 * whole answer's buffer), value (1), computed_at (4) and expires_at (5); the
 * rest waits for `raw`.
 */
function readStoredResult(r: WireReader, start: number, end: number) {
  const at = r.pos;
  let value: DecodedValue | undefined;
  let computedAtMs = Number.NaN;
  let expiresAtMs = Number.NaN;
  r.pos = start;
  while (r.pos < end) {
    const tag = r.varint32();
    const field = tag >>> 3;
    const type = tag & 7;
    if (field === 1 && type === wire.len) value = decodeValueParts(readValueParts(r, r.length()));
    else if (field === 4 && type === wire.len) computedAtMs = readTimestamp(r, r.length());
    else if (field === 5 && type === wire.len) expiresAtMs = readTimestamp(r, r.length());
    else r.skip(type);
  }
  r.expectAt(end);
  r.pos = at;
  return { bytes: r.copy(start, end), value, computedAtMs, expiresAtMs };
}

/** Timestamp: seconds (1, int64), nanos (2, int32), in ms as the generated decoder makes its Date. */
function readTimestamp(r: WireReader, end: number): number {
  let seconds = 0;
  let nanos = 0;
  while (r.pos < end) {
    const tag = r.varint32();
    const field = tag >>> 3;
    const type = tag & 7;
    if (field === 1 && type === wire.varint) seconds = r.int64();
    else if (field === 2 && type === wire.varint) nanos = r.int64() | 0;
    else r.skip(type);
  }
  r.expectAt(end);
  return seconds * 1_000 + nanos / 1_000_000;
}
