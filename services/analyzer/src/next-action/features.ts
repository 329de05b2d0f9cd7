import type { ActionRecord } from "../store/analyzer-store.js";

/**
 * Next-action features. A prediction is made right after a user's latest
 * action, at time `at`, from what is known then: hour of day and day of week
 * (UTC), the last k actions, how many actions today, and how long the
 * current session has lasted (the original design's features), plus hashed
 * crosses of the last action with the time of day and with the action before
 * it, so that a linear model captures those interactions. Every feature is
 * binary, so an example is the list of its active indices; the ONNX model
 * takes the same features densely, as FP32 [batch, width].
 */
export interface FeatureSpec {
  /** The action vocabulary: the classes, in output order. */
  actions: string[];
  /** How many of the latest actions are features. */
  historyLength: number;
  /** Buckets of the hashed (last action × previous action) cross. */
  crossBuckets: number;
  /** Actions further apart than this start a new session. */
  sessionGapMs: number;
}

const hourSlots = 24;
const daySlots = 7;
/** Bucket edges: actions so far today, and session length in minutes. */
const todayEdges = [1, 2, 4, 8, 16];
const sessionEdges = [5, 15, 60];
const dayMs = 86_400_000;
const dayparts = 6;

/** Slots per history position: every action, "none" (no action that far back) and "other" (out of vocabulary). */
const actionSlots = (spec: FeatureSpec): number => spec.actions.length + 2;

interface Layout {
  hour: number;
  day: number;
  history: number;
  today: number;
  session: number;
  daypart: number;
  cross: number;
  width: number;
}

function layout(spec: FeatureSpec): Layout {
  const hour = 0;
  const day = hour + hourSlots;
  const history = day + daySlots;
  const today = history + spec.historyLength * actionSlots(spec);
  const session = today + todayEdges.length + 1;
  // Session slots: none, then one per length bucket.
  const daypart = session + sessionEdges.length + 2;
  const cross = daypart + dayparts * actionSlots(spec);
  return { hour, day, history, today, session, daypart, cross, width: cross + spec.crossBuckets };
}

export const featureWidth = (spec: FeatureSpec): number => layout(spec).width;

const bucketOf = (edges: readonly number[], v: number): number => {
  let i = 0;
  while (i < edges.length && v >= edges[i]!) i++;
  return i;
};

/** FNV-1a, for cross-feature hashing: stable across processes and versions. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Active feature indices for a prediction at `at`, from the user's actions up
 * to then (oldest first; later ones are ignored).
 */
export function encodeFeatures(history: readonly ActionRecord[], at: number, spec: FeatureSpec): number[] {
  return featureEncoder(spec)(history, history.length, at);
}

/**
 * Encodes a prediction at `at` from the first `end` actions of a history
 * (later ones, and any of those after `at`, are ignored): encodeFeatures of
 * `history.slice(0, end)`, without the copy.
 */
export type FeatureEncoder = (history: readonly ActionRecord[], end: number, at: number) => number[];

/**
 * An encoder for one spec: the layout, the vocabulary and the hashed crosses
 * are worked out once, not per example, as a retrain encodes every action of
 * every user (twice, when the current model's spec is another).
 */
export function featureEncoder(spec: FeatureSpec): FeatureEncoder {
  const l = layout(spec);
  const vocab = new Map(spec.actions.map((a, i) => [a, i]));
  const slots = actionSlots(spec);
  const none = spec.actions.length;
  const other = none + 1;
  const nameOf = (slot: number): string =>
    slot === none ? "(none)" : slot === other ? "(other)" : (spec.actions[slot] ?? "(other)");
  /** The cross bucket of (last, previous) history slots; -1 where not worked out yet. */
  const crosses = new Int32Array(spec.crossBuckets > 0 ? slots * (slots + 1) : 0).fill(-1);
  const crossOf = (last: number, previous: number | undefined): number => {
    const at = last * (slots + 1) + (previous ?? slots);
    let c = crosses[at]!;
    if (c < 0) {
      c = fnv1a(`${nameOf(last)}|${previous === undefined ? "-" : nameOf(previous)}`) % spec.crossBuckets;
      crosses[at] = c;
    }
    return c;
  };
  return (history, endAt, at) => {
    let end = endAt;
    while (end > 0 && history[end - 1]!.time > at) end--;
    const out: number[] = [];
    const { hour, weekday } = utcHourAndWeekday(at);
    out.push(l.hour + hour, l.day + weekday);
    let last = none;
    let previous: number | undefined;
    for (let k = 0; k < spec.historyLength; k++) {
      const rec = history[end - 1 - k];
      const slot = rec === undefined ? none : (vocab.get(rec.action) ?? other);
      if (k === 0) last = slot;
      else if (k === 1) previous = slot;
      out.push(l.history + k * slots + slot);
    }
    const dayStart = Math.floor(at / dayMs) * dayMs;
    let today = 0;
    for (let i = end - 1; i >= 0 && history[i]!.time >= dayStart; i--) today++;
    out.push(l.today + bucketOf(todayEdges, today));
    let start = end - 1;
    if (start >= 0 && at - history[start]!.time <= spec.sessionGapMs) {
      while (start > 0 && history[start]!.time - history[start - 1]!.time <= spec.sessionGapMs) start--;
      out.push(l.session + 1 + bucketOf(sessionEdges, (at - history[start]!.time) / 60_000));
    } else out.push(l.session);
    out.push(l.daypart + Math.floor(hour / (24 / dayparts)) * slots + last);
    if (spec.crossBuckets > 0) out.push(l.cross + crossOf(last, previous));
    return ascending(out) ? out : [...new Set(out)].sort((a, b) => a - b);
  };
}

/** The UTC hour and the weekday (Monday 0) of a time, as Date's getUTCHours and getUTCDay tell them. */
function utcHourAndWeekday(at: number): { hour: number; weekday: number } {
  // Outside the integers Date represents exactly, ask Date itself (NaN for an invalid time, as before).
  if (!Number.isSafeInteger(at) || Math.abs(at) > 8.64e15) {
    const d = new Date(at);
    return { hour: d.getUTCHours(), weekday: (d.getUTCDay() + 6) % 7 };
  }
  const day = Math.floor(at / dayMs);
  // 1970-01-01 was a Thursday (getUTCDay 4, weekday 3 from Monday).
  return { hour: Math.floor((at - day * dayMs) / 3_600_000), weekday: (((day + 3) % 7) + 7) % 7 };
}

/** Whether indices are strictly ascending: the layout's groups are in index order, one index each. */
function ascending(out: readonly number[]): boolean {
  for (let i = 1; i < out.length; i++) if (!(out[i]! > out[i - 1]!)) return false;
  return true;
}

/** Dense rows for ONNX: one FP32 row of `width` per example. */
export function denseRows(examples: readonly number[][], width: number): Float32Array {
  const out = new Float32Array(examples.length * width);
  examples.forEach((idx, r) => {
    for (const i of idx) out[r * width + i] = 1;
  });
  return out;
}
