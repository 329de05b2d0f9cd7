import { RunExtents } from "./run-extents.js";

/**
 * Sequential readahead for keys that end in a number: pages of a file, block
 * addresses, numbered parts. Keys that differ only in that number form a
 * stream; reads of a stream that stay within `maxDepth` of its furthest key
 * so far are a run (parallel readers land slightly out of order), and a run
 * predicts the keys just past its furthest one, as a block device's
 * readahead window does. Unlike learned successors, this predicts keys
 * never read before, which is what a scan reads.
 *
 * Whether runs continue is learned per task type: after a run of at least
 * `minRun`, the stream's next read past its furthest key either lands within
 * the `maxDepth` keys past it (continued) or does not, or the stream falls
 * idle for `idleMs` (ended); re-reads behind the furthest key are neither.
 * The continuation share, with a one-and-one prior and a forgetting factor,
 * is the confidence of the next key; the j-th key past the run gets its j-th
 * power. Types whose numbered keys are not scanned (ids that merely end in
 * digits) learn a low share and predict nothing
 * above a useful confidence. How far runs go is learned per type too
 * (run-extents.ts): the j-th key past a run is as likely as the share of
 * the type's runs that reached this one's extent and went j keys further,
 * with the j-th power as a prior worth one run. A type read in fixed-size
 * chunks is then offered nothing past a chunk's end, however fast and
 * steadily its runs move.
 *
 * A key predicted is worth computing only if it can be ready before it is
 * read. A run moves forward at instants (a request of several pages reads
 * them at once): since it started it has moved `step` keys per advance, one
 * advance per `gap` ms on average, so a key is expected at the advance that
 * reaches it. `predict` gives the keys of the advances expected after
 * `now + leadMs`, the time a key offered now takes to be computed (the
 * caller learns it), and before them, at a confidence scaled down by how
 * late they are expected (to nothing at one gap late), those that may still
 * be in time: gaps vary. A slow scan is predicted from the next key; one
 * that outruns the lead is predicted from further ahead, as a block
 * device's asynchronous readahead stays ahead of its reader. A run that has
 * not advanced since its first instant is predicted from the next key, as
 * nothing says when it comes.
 * How long computing takes is learned here too, per tenant and type, from
 * the compute times reads report.
 */
export interface SequentialStreamsOptions {
  /** Streams remembered (least recently read dropped first). Default 100,000. */
  capacity: number;
  /**
   * A stream not read for this long has ended (a run that ends counts as not
   * continued). Default 1 minute: a scan that pauses longer is a new one.
   */
  idleMs: number;
  /** Reads in ascending order before a stream predicts. Default 2. */
  minRun: number;
  /** How far past the last key a read still continues the run, and the most keys predicted. Default 8. */
  maxDepth: number;
  /** Weight kept by the past per new outcome (1 − 1/window). Default 0.999. */
  forget: number;
  /** Weight a type's learned compute time keeps per new sample. Default 0.75. */
  smoothing: number;
  /** The furthest past a run a key is predicted, in keys (bounds the work of a fast stream). Default 1,024. */
  maxLead: number;
}

export const sequentialStreamsDefaults: Readonly<SequentialStreamsOptions> = {
  capacity: 100_000,
  idleMs: 60_000,
  minRun: 2,
  maxDepth: 8,
  forget: 0.999,
  smoothing: 0.75,
  maxLead: 1024,
};

interface Stream {
  /** The stream's key in the streams map, reused when the stream moves to the most recent end. */
  name: string;
  /** The furthest index of the run. */
  last: number;
  /** When the furthest index was read. */
  lastAt: number;
  /** The index the run started at, and when. */
  firstIndex: number;
  firstAt: number;
  /** Instants since then at which the run moved forward (reads at one instant move it once). */
  advances: number;
  run: number;
  time: number;
  /** Digits of the index when it is zero-padded (0: not padded). */
  width: number;
  /** The lowest index of the run: its extent is last − start + 1. */
  start: number;
  /** How far its kind's runs go (the kind's, held here so a read needs no lookup of it). */
  extents: RunExtents;
}

interface Outcomes {
  continued: number;
  trials: number;
  extents: RunExtents;
  /** Smoothed compute time (ms) of the type's results as reads report it; 0 until one does. */
  computeMs: number;
}

const newOutcomes = (forget: number): Outcomes => ({
  continued: 0,
  trials: 0,
  extents: new RunExtents(forget),
  computeMs: 0,
});

/** A key split into its stream (everything before the trailing number, at most 15 digits) and index. */
export function streamOf(key: string): { stream: string; index: number; width: number } | undefined {
  // Scanned from the end rather than matched: every ingested read passes here.
  let start = key.length;
  while (start > 0 && key.length - start < 15) {
    const c = key.charCodeAt(start - 1);
    if (c < 48 || c > 57) break;
    start--;
  }
  if (start === key.length) return undefined;
  const digits = key.slice(start);
  return {
    stream: key.slice(0, start),
    index: Number(digits),
    width: digits.length > 1 && digits[0] === "0" ? digits.length : 0,
  };
}

/** The tenant and task type of a canonical key (`tenant/type/entity`): what continuation is learned per. */
const kindOf = (key: string): string => {
  const first = key.indexOf("/");
  const second = first < 0 ? -1 : key.indexOf("/", first + 1);
  return second < 0 ? key : key.slice(0, second);
};

/** The tenant of a canonical key. */
const tenantOf = (key: string): string => {
  const first = key.indexOf("/");
  return first < 0 ? key : key.slice(0, first);
};

/**
 * Streams and what is learned from them are kept per tenant: each tenant's
 * streams end on that tenant's own reads and its continuation shares pool
 * only its own runs, so a tenant's predictions do not depend on the other
 * tenants' traffic, nor on which analyzer replica holds which tenants.
 * Only the capacity is shared: past it, the stream read longest ago of any
 * tenant goes.
 */
export class SequentialStreams {
  readonly #o: SequentialStreamsOptions;
  /** Per tenant, its streams in read order. */
  readonly #tenants = new Map<string, Map<string, Stream>>();
  readonly #outcomes = new Map<string, Outcomes>();
  #size = 0;

  constructor(options?: Partial<SequentialStreamsOptions>) {
    this.#o = { ...sequentialStreamsDefaults, ...options };
  }

  get size(): number {
    return this.#size;
  }

  /** Records a read (in time order); answers whether it moved a run of at least `minRun` forward. */
  observe(key: string, time: number, computeMs = 0): boolean {
    const k = streamOf(key);
    if (k === undefined) return false;
    const o = this.#o;
    const tenant = tenantOf(key);
    let streams = this.#tenants.get(tenant);
    if (streams === undefined) {
      streams = new Map();
      this.#tenants.set(tenant, streams);
    }
    this.#endIdle(streams, time - o.idleMs, k.stream);
    if (computeMs > 0) this.#computed(key, computeMs);
    const s = streams.get(k.stream);
    streams.delete(k.stream);
    if (s === undefined) {
      const extents = this.#outcomesOf(kindOf(key)).extents;
      extents.started();
      streams.set(k.stream, {
        name: k.stream,
        last: k.index,
        lastAt: time,
        firstIndex: k.index,
        firstAt: time,
        advances: 0,
        run: 1,
        time,
        width: k.width,
        start: k.index,
        extents,
      });
      this.#size++;
      if (this.#size > o.capacity) this.#evictOldest();
      return false;
    }
    const idle = time - s.time > o.idleMs;
    const near = !idle && Math.abs(k.index - s.last) <= o.maxDepth;
    if (s.run >= o.minRun && (!near || k.index > s.last)) this.#outcome(key, near);
    const forward = near && k.index > s.last;
    if (near) {
      const extent = s.last - s.start + 1;
      if (k.index < s.start) s.start = k.index;
      s.extents.grew(extent, Math.max(k.index, s.last) - s.start + 1);
      if (k.index !== s.last) s.run++;
      if (forward) {
        // Keys read at the run's first instant are where its advances start from.
        if (time > s.lastAt) s.advances++;
        else if (s.advances === 0) s.firstIndex = k.index;
        s.last = k.index;
        s.lastAt = time;
      }
    } else {
      s.extents.started();
      s.start = k.index;
      s.run = 1;
      s.last = k.index;
      s.lastAt = time;
      s.firstIndex = k.index;
      s.firstAt = time;
      s.advances = 0;
    }
    s.time = time;
    s.width = k.width;
    streams.set(s.name, s);
    return forward && s.run >= o.minRun;
  }

  /**
   * The keys past a run the key belongs to, most likely first, at most
   * `limit`: from the first one expected to be read after `now + leadMs`.
   */
  predict(key: string, limit: number, now: number, leadMs = 0): Array<{ key: string; confidence: number }> {
    const k = streamOf(key);
    if (k === undefined) return [];
    const o = this.#o;
    const s = this.#tenants.get(tenantOf(key))?.get(k.stream);
    if (s === undefined || s.run < o.minRun || now - s.time > o.idleMs) return [];
    // The key may run ahead of what was recorded (reports arrive in batches).
    if (k.index < s.last - o.maxDepth || k.index > s.last + o.maxDepth) return [];
    const p = this.continuation(kindOf(key));
    const from = Math.max(k.index, s.last);
    const timing = this.#timing(s, from, now + leadMs);
    if (timing === undefined) return [];
    const out: Array<{ key: string; confidence: number }> = [];
    const count = Math.min(limit, s.run, o.maxDepth);
    for (let j = timing.first; j < timing.timely + count; j++) {
      const index = from + j;
      if (!Number.isSafeInteger(index)) break;
      // How far runs of the kind go, from the extent this one has reached (p^j while few are known).
      const reach = s.extents.reach(s.last - s.start + 1, index - s.start + 1, p ** j);
      const confidence = reach * timing.inTime(j);
      if (confidence <= 0) continue;
      const digits = String(index);
      out.push({ key: `${k.stream}${digits.padStart(s.width, "0")}`, confidence });
    }
    return out;
  }

  /**
   * When the keys past `from` come, against `readyAt` (when a key offered
   * now is ready): `timely` is the first j ≥ 1 whose key is expected at or
   * after it, `first` the first j whose key may still be (expected less than
   * one gap before it), and `inTime(j)` the chance key `from + j` is ready in
   * time: 1 from `timely` on, falling linearly to 0 at one gap early.
   * Undefined when even `timely` is past maxLead.
   */
  #timing(
    s: Stream,
    from: number,
    readyAt: number,
  ): { first: number; timely: number; inTime: (j: number) => number } | undefined {
    // No advance after the first instant: nothing says when the next keys come.
    if (s.advances === 0 || readyAt <= s.lastAt) return { first: 1, timely: 1, inTime: () => 1 };
    const gap = (s.lastAt - s.firstAt) / s.advances;
    const step = (s.last - s.firstIndex) / s.advances;
    const behind = from - s.last;
    const expectedAt = (j: number) => s.lastAt + Math.ceil((behind + j) / step) * gap;
    // The first key of the advance after `at`.
    const firstAfter = (at: number) =>
      Math.max(1, Math.floor(Math.max(0, Math.ceil((at - s.lastAt) / gap) - 1) * step) + 1 - behind);
    const timely = firstAfter(readyAt);
    if (timely > this.#o.maxLead) return undefined;
    return {
      first: Math.min(timely, firstAfter(readyAt - gap)),
      timely,
      inTime: (j) => Math.min(1, Math.max(0, 1 - (readyAt - expectedAt(j)) / gap)),
    };
  }

  /** The learned compute time (ms) of a tenant's task type (`tenant/type`); 0 before any read reported one. */
  computeMs(kind: string): number {
    return this.#outcomes.get(kind)?.computeMs ?? 0;
  }

  /** The learned share of runs of a tenant's task type (`tenant/type`) that continue. */
  continuation(kind: string): number {
    const c = this.#outcomes.get(kind);
    return ((c?.continued ?? 0) + 1) / ((c?.trials ?? 0) + 2);
  }

  /** Forgets streams idle since before cutoff (each run still open counts as ended); returns how many. */
  removeIdle(cutoff: number): number {
    let ended = 0;
    for (const streams of this.#tenants.values()) ended += this.#endIdle(streams, cutoff, undefined, true);
    this.#dropEmptyTenants();
    return ended;
  }

  /**
   * Ends a tenant's streams idle since before cutoff, but `keep`, and returns
   * how many. The map is in read order, so the walk after a read stops at the
   * first stream read since; `all` walks every stream (reads reported late
   * can sit out of order).
   */
  #endIdle(streams: Map<string, Stream>, cutoff: number, keep?: string, all = false): number {
    let ended = 0;
    for (const [stream, s] of streams) {
      if (s.time >= cutoff) {
        if (all) continue;
        break;
      }
      if (stream === keep) continue;
      if (s.run >= this.#o.minRun) this.#outcome(stream, false);
      streams.delete(stream);
      ended++;
    }
    this.#size -= ended;
    return ended;
  }

  /** Past capacity: the stream of any tenant read longest ago (rare; a walk over the tenants). */
  #evictOldest(): void {
    let oldest: { streams: Map<string, Stream>; s: Stream } | undefined;
    for (const streams of this.#tenants.values()) {
      const s = streams.values().next().value;
      if (s !== undefined && (oldest === undefined || s.time < oldest.s.time)) oldest = { streams, s };
    }
    if (oldest === undefined) return;
    if (oldest.s.run >= this.#o.minRun) this.#outcome(oldest.s.name, false);
    oldest.streams.delete(oldest.s.name);
    this.#size--;
    this.#dropEmptyTenants();
  }

  #dropEmptyTenants(): void {
    for (const [tenant, streams] of this.#tenants) if (streams.size === 0) this.#tenants.delete(tenant);
  }

  #outcome(keyOrStream: string, continued: boolean): void {
    const c = this.#outcomesOf(kindOf(keyOrStream));
    c.continued = c.continued * this.#o.forget + (continued ? 1 : 0);
    c.trials = c.trials * this.#o.forget + 1;
  }

  #computed(key: string, computeMs: number): void {
    const c = this.#outcomesOf(kindOf(key));
    const w = this.#o.smoothing;
    c.computeMs = c.computeMs === 0 ? computeMs : w * c.computeMs + (1 - w) * computeMs;
  }

  /** A kind's entry, moved to the most recently updated end. */
  #outcomesOf(kind: string): Outcomes {
    const c = this.#outcomes.get(kind) ?? newOutcomes(this.#o.forget);
    // Most recently updated last; past capacity (tenants x types), the one updated longest ago goes.
    this.#outcomes.delete(kind);
    this.#outcomes.set(kind, c);
    if (this.#outcomes.size > this.#o.capacity) this.#outcomes.delete(this.#outcomes.keys().next().value!);
    return c;
  }
}
