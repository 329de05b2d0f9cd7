import { canonicalKey } from "@prescient/core";

/**
 * What the evaluator replays: reads (a lookup of one key) and trigger events
 * (something happened to an entity), in time order. Every reader turns its
 * format into these, so the simulator and the policies see one shape.
 */
export interface TraceRead {
  kind: "read";
  /** ms since the epoch (or since the trace's start, for position-timed formats). */
  time: number;
  tenant: string;
  taskType: string;
  entity: string;
  /** "" when the format has no user. */
  user: string;
  /** Canonical `{tenant}/{task_type}/{escaped entity}`. */
  key: string;
  /**
   * When the trace recorded the read, where `time` spreads the reads it
   * recorded at one timestamp across the timestamp's unit; absent: `time`.
   */
  instant?: number;
  /** Part of the same request as the record before it (a page of a multi-page read): replayed at its time. */
  withPrevious?: true;
}

export interface TraceEvent {
  kind: "event";
  time: number;
  tenant: string;
  entity: string;
  user: string;
  /** Event type (video_uploaded, campaign_created, ...). */
  event: string;
  /** The task type the row names, or "". */
  taskType: string;
  /** When the reads it announces start: a launch's time, or the event's own time. */
  anchor: number;
  /** Part of the same request as the record before it (a page of a multi-page put): replayed at its time. */
  withPrevious?: true;
}

export type TraceRecord = TraceRead | TraceEvent;

/** Counts a reader keeps while it streams. */
export interface ReaderStats {
  lines: number;
  records: number;
  /** Malformed lines skipped under --skip-bad. */
  skipped: number;
  /** First few skipped lines, with their reasons. */
  skippedExamples: string[];
}

/** A streaming source of records; each call to `records()` reads the trace again from the start. */
export interface TraceSource {
  readonly name: string;
  readonly format: string;
  readonly stats: ReaderStats;
  /** Records of the last pass whose time was earlier than one before them, replayed at the later time. Optional. */
  readonly reordered?: number;
  records(): AsyncIterable<TraceRecord>;
  /**
   * The same records as `records()`, a batch at a time (each batch in order,
   * never held whole): a replay reads every record, and one await per batch
   * rather than per record is a visible share of it. Optional.
   */
  recordBatches?(): AsyncIterable<readonly TraceRecord[]>;
}

/** Entity ids longer than the key schema allows are replaced by a stable digest of themselves. */
const maxEntityBytes = 512;

function fnv1a64(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return (h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0");
}

export function safeEntity(entity: string): string {
  if (entity.length * 3 <= maxEntityBytes || Buffer.byteLength(entity, "utf8") <= maxEntityBytes)
    return entity;
  return `${entity.slice(0, 64)}~${fnv1a64(entity)}`;
}

export function makeRead(
  time: number,
  tenant: string,
  taskType: string,
  entity: string,
  user: string,
): TraceRead {
  const e = safeEntity(entity);
  return { kind: "read", time, tenant, taskType, entity: e, user, key: canonicalKey(tenant, taskType, e) };
}

/** A trigger event on one entity (a write, a put, a delete), announcing its reads from its own time. */
export function makeEvent(
  time: number,
  tenant: string,
  taskType: string,
  entity: string,
  event: string,
): TraceEvent {
  return { kind: "event", time, tenant, entity: safeEntity(entity), user: "", event, taskType, anchor: time };
}

/** Marks every record after the first as part of the first one's request (see `withPrevious`). */
export function oneRequest<T extends TraceRecord>(records: T[]): T[] {
  for (let i = 1; i < records.length; i++) records[i]!.withPrevious = true;
  return records;
}

export const emptyStats = (): ReaderStats => ({ lines: 0, records: 0, skipped: 0, skippedExamples: [] });
