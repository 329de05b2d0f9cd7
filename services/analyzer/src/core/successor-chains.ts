import { LRUCache } from "lru-cache";
import { forwardWeight, rescaleFactor } from "./forward-decay.js";
import { SequenceTracker, sequenceOf } from "./sequence-tracker.js";

/**
 * Which key each key is read after, learned in process from the reads as
 * they arrive, so that a read can offer the keys its sequence is likely to
 * read next before they are asked for: a training job's fixed shuffle of
 * shards, a page traversal of a database, a user's habitual path through
 * reports. Sequential runs of numbered keys are SequentialStreams'; these are
 * orders no numbering shows.
 *
 * A read offers its key's most frequent successor with the share of the
 * key's transitions that went there, then that key's in turn, the chance
 * multiplied along the chain, for `depth` steps or until the chance falls
 * below `minConfidence`. A key expected sooner than the caller's lead (the
 * readahead's wait and the compute) is passed over, as it would come late,
 * and the chain goes on past it.
 *
 * Memory is bounded: sequences by SequenceTracker, source keys by an LRU,
 * successors per source by evicting the weakest (its weight stays in the
 * source's total, so shares stay the chance of a transition). Weights are
 * forward-decayed per source, so a changed order is followed.
 */
export interface SuccessorChainsOptions {
  /** Steps ahead a chain is followed; 0 offers nothing. Default 3. */
  depth: number;
  /** Least decayed transitions out of a key before its successors are offered. Default 3. */
  minSupport: number;
  /** Least chance of a read an offered key carries. Default 0.5. */
  minConfidence: number;
}

export const successorChainsDefaults: Readonly<SuccessorChainsOptions> = {
  depth: 3,
  minSupport: 3,
  minConfidence: 0.5,
};

/** The bounds and decay the analyzer's other successor counts use. */
export interface SuccessorChainsBounds {
  /** Source keys kept; the least recently read go first. */
  sources: number;
  /** Successors kept per source key. */
  perSource: number;
  halfLifeMs: number;
  /** Sequences followed (SequenceTracker). */
  sequences: number;
  /** A pause longer than this starts a new sequence. */
  sessionGapMs: number;
}

interface Edge {
  /** Weight scaled to the source's landmark. */
  g: number;
  /** Σ weight × gap (ms) of the transitions: their mean gap is gapG / g. */
  gapG: number;
}

interface Source {
  next: Map<string, Edge>;
  /** Every transition's weight, evicted successors' included. */
  total: number;
  landmark: number;
}

/** Largest rate × (time − landmark) before a source is rescaled (as in EntityRelations). */
const maxLandmarkExponent = 50;

export interface ChainedKey {
  key: string;
  confidence: number;
}

export class SuccessorChains {
  readonly options: SuccessorChainsOptions;
  readonly #bounds: SuccessorChainsBounds;
  readonly #rate: number;
  readonly #sequences: SequenceTracker;
  readonly #sources: LRUCache<string, Source>;

  constructor(bounds: SuccessorChainsBounds, options?: Partial<SuccessorChainsOptions>) {
    this.options = { ...successorChainsDefaults, ...options };
    this.#bounds = bounds;
    this.#rate = Math.LN2 / bounds.halfLifeMs;
    this.#sequences = new SequenceTracker(bounds.sequences, bounds.sessionGapMs);
    this.#sources = new LRUCache({ max: bounds.sources });
  }

  get size(): number {
    return this.#sources.size;
  }

  /** A read, in time order: the transition it completes in its sequence (tenant × user) is learned. */
  observe(tenant: string, userId: string, key: string, time: number): void {
    const step = this.#sequences.observe(sequenceOf(tenant, userId), key, time);
    if (step === undefined) return;
    const gap = step.gapMs;
    let s = this.#sources.get(step.from);
    if (s === undefined) {
      s = { next: new Map(), total: 0, landmark: time };
      this.#sources.set(step.from, s);
    }
    if (this.#rate * (time - s.landmark) > maxLandmarkExponent) rescale(s, this.#rate, time);
    const g = forwardWeight(this.#rate, time, s.landmark);
    s.total += g;
    const edge = s.next.get(key);
    if (edge !== undefined) {
      edge.g += g;
      edge.gapG += g * gap;
      return;
    }
    if (s.next.size >= this.#bounds.perSource) evictWeakest(s);
    s.next.set(key, { g, gapG: g * gap });
  }

  /**
   * The keys read likely after `key`, in chain order: each the strongest
   * successor of the one before, with the chance of reaching it. Keys
   * expected within `leadMs` of now are left out (they would come late).
   */
  predict(key: string, now: number, leadMs = 0): ChainedKey[] {
    const { depth, minSupport, minConfidence } = this.options;
    const out: ChainedKey[] = [];
    let current = key;
    let chance = 1;
    let dueMs = 0;
    const seen = new Set<string>([key]);
    for (let step = 0; step < depth; step++) {
      const s = this.#sources.peek(current);
      if (s === undefined) break;
      if (s.total * Math.exp(-this.#rate * (now - s.landmark)) < minSupport) break;
      let best: string | undefined;
      let bestEdge: Edge | undefined;
      s.next.forEach((edge, next) => {
        if (bestEdge === undefined || edge.g > bestEdge.g || (edge.g === bestEdge.g && next < best!)) {
          best = next;
          bestEdge = edge;
        }
      });
      if (best === undefined || bestEdge === undefined || seen.has(best)) break;
      chance *= bestEdge.g / s.total;
      if (chance < minConfidence) break;
      dueMs += bestEdge.gapG / bestEdge.g;
      seen.add(best);
      if (dueMs >= leadMs) out.push({ key: best, confidence: chance });
      current = best;
    }
    return out;
  }
}

/** Moves the source's landmark to `time`, scaling its weights down to match. */
function rescale(s: Source, rate: number, time: number): void {
  const f = rescaleFactor(rate, s.landmark, time);
  s.total *= f;
  for (const e of s.next.values()) {
    e.g *= f;
    e.gapG *= f;
  }
  s.landmark = time;
}

function evictWeakest(s: Source): void {
  let weakest: string | undefined;
  let min = Number.POSITIVE_INFINITY;
  s.next.forEach((e, k) => {
    if (e.g < min) {
      min = e.g;
      weakest = k;
    }
  });
  if (weakest !== undefined) s.next.delete(weakest);
}
