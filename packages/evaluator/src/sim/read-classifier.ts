import { streamOf } from "@prescient/analyzer";
import type { TraceEvent, TraceRead } from "../trace/record.js";
import type { ReadClass } from "./metrics.js";

/**
 * Classifies reads independently of any policy, so that first-read and
 * after-expiry hit rates compare like with like: a key's first read, a read
 * more than a TTL after the key's previous read (cache-aside would have let
 * it expire), or a repeat.
 */
export class ReadClassifier {
  /** Per run of keys (a key less its trailing number, as the analyzer's sequential streams see it), the instant its first read was recorded at. */
  readonly #runFirst = new Map<string, number>();
  /** Tenant and entity of every event so far: reads of them were announced before they came. */
  readonly #announced = new Set<string>();
  /** Per tenant, the entities read so far (of any task type). */
  readonly #entitiesRead = new Map<string, Set<string>>();
  /** The instant of the latest read, and the tenants and entities first read at it. */
  #instantNow = Number.NaN;
  readonly #firstReadNow = new Set<string>();
  /** Each key's slot in `#last`: the times live in a typed array, so a read writes a number, not a new box. */
  readonly #slot = new Map<string, number>();
  #last = new Float64Array(1024);
  /** Per slot, when the result of a key first read out of reach can be ready at the earliest (0: no bound). */
  #readyAt = new Float64Array(1024);

  classify(key: string, time: number, ttlMs: number): ReadClass {
    const slot = this.#slot.get(key);
    if (slot === undefined) {
      const added = this.#slot.size;
      if (added === this.#last.length) {
        const grown = new Float64Array(added * 2);
        grown.set(this.#last);
        this.#last = grown;
        const ready = new Float64Array(added * 2);
        ready.set(this.#readyAt);
        this.#readyAt = ready;
      }
      this.#slot.set(key, added);
      this.#last[added] = time;
      return "first";
    }
    const prev = this.#last[slot]!;
    this.#last[slot] = time;
    return time - prev >= ttlMs ? "after-expiry" : "repeat";
  }

  /**
   * Whether a read is out of any online policy's reach: the first read of a
   * key that nothing named before the instant it was recorded at. No earlier
   * read of the key (it is the first), none of its run at an earlier instant
   * (the pages of a block's first request, `block.0` to `block.7` at one
   * timestamp; a later request's pages can be read ahead from the earlier
   * ones), and no earlier event of its entity (a put of the block announces
   * its pages, and a rule could compute them). A key without a trailing
   * number is a run of its own: its first read is out of reach unless an
   * event announced it. A policy learns of such a key only as it is read,
   * so only the oracle, which knows the future, can compute it first. So
   * are the key's reads while that first read's compute (`latencyMs`) still
   * runs: nothing could have started it sooner (the same page read again
   * by a parallel reader). Call it for every read, in order, after
   * `classify`, and `announce` for every event.
   */
  outOfReach(r: TraceRead, cls: ReadClass, latencyMs = 0): boolean {
    const instant = r.instant ?? r.time;
    const run = streamOf(r.key)?.stream ?? r.key;
    let first = this.#runFirst.get(run);
    if (first === undefined) {
      first = instant;
      this.#runFirst.set(run, instant);
    }
    const slot = this.#slot.get(r.key);
    if (slot === undefined) return false; // not classified
    if (cls !== "first") return r.time < this.#readyAt[slot]!;
    const out = first === instant && !this.#announced.has(`${r.tenant}\u0000${r.entity}`);
    if (out) this.#readyAt[slot] = r.time + latencyMs;
    return out;
  }

  /**
   * Whether a read is the first read of a key whose entity nothing named
   * before its instant: no event of the entity, and no read of it (of any
   * task type) at an earlier instant. Wider than `outOfReach`, which counts
   * a key as reachable once an earlier key of its run was read: a policy
   * can reach such a key only by guessing from the numbering of keys, as
   * readahead does for a block's later pages. For keys whose numbers carry
   * no order (ad ids drawn by popularity), that guess is not there to be
   * made, and these reads bound what any policy that learns from what came
   * before can hit. Call it for every read, in order, after `classify`.
   */
  unnamed(r: TraceRead, cls: ReadClass): boolean {
    // Sets of entities and one instant's worth of pairs, not a map of first instants keyed by a
    // joined string: built for every read, that string and the boxed instant put 300 MB on
    // ARC P3's peak.
    const instant = r.instant ?? r.time;
    if (instant !== this.#instantNow) {
      this.#instantNow = instant;
      this.#firstReadNow.clear();
    }
    let read = this.#entitiesRead.get(r.tenant);
    if (read === undefined) {
      read = new Set();
      this.#entitiesRead.set(r.tenant, read);
    }
    if (!read.has(r.entity)) {
      read.add(r.entity);
      const entity = `${r.tenant}\u0000${r.entity}`;
      this.#firstReadNow.add(entity);
      return cls === "first" && !this.#announced.has(entity);
    }
    if (cls !== "first" || this.#firstReadNow.size === 0) return false;
    const entity = `${r.tenant}\u0000${r.entity}`;
    return this.#firstReadNow.has(entity) && !this.#announced.has(entity);
  }

  /** An event: reads of its entity from now on were announced. */
  announce(e: TraceEvent): void {
    if (e.entity !== "") this.#announced.add(`${e.tenant}\u0000${e.entity}`);
  }

  get keys(): number {
    return this.#slot.size;
  }
}
