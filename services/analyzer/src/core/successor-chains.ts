import { LRUCache } from "lru-cache";
import { forwardWeight, rescaleFactor } from "./forward-decay.js";
import { type ChainsSnapshot, dropTenantEntries } from "./learning-snapshot.js";
import type { Transition } from "./sequence-tracker.js";

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
 * It learns from the transitions the analyzer's SequenceTracker works out
 * per tenant and user (stepsOf), the ones the successor counts learn from.
 * Memory is bounded: source keys by an LRU, successors per source by
 * evicting the weakest (its weight stays in the
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
}

interface Edge {
  key: string;
  /** Weight scaled to the source's landmark. */
  g: number;
  /** Σ weight × gap (ms) of the transitions: their mean gap is gapG / g. */
  gapG: number;
}

interface Source {
  /** A few (perSource): a scan of an array beats a Map's hashing, and costs less to make per new source. */
  edges: Edge[];
  /** Every transition's weight, evicted successors' included. */
  total: number;
  landmark: number;
  /** The strongest successor (heaviest, then the smallest key), kept as weights grow: predict reads it per read. */
  best: Edge | undefined;
}

/** Largest rate × (time − landmark) before a source is rescaled (as in EntityRelations). */
const maxLandmarkExponent = 50;

export interface ChainedKey {
  key: string;
  confidence: number;
}

const noKeys: readonly ChainedKey[] = Object.freeze([]);

export class SuccessorChains {
  readonly options: SuccessorChainsOptions;
  readonly #bounds: SuccessorChainsBounds;
  readonly #rate: number;
  readonly #sources: LRUCache<string, Source>;

  constructor(bounds: SuccessorChainsBounds, options?: Partial<SuccessorChainsOptions>) {
    this.options = { ...successorChainsDefaults, ...options };
    this.#bounds = bounds;
    this.#rate = Math.LN2 / bounds.halfLifeMs;
    this.#sources = new LRUCache({ max: bounds.sources });
  }

  get size(): number {
    return this.#sources.size;
  }

  /** A transition of a read's sequence (tenant × user), in time order. */
  learn(step: Transition): void {
    const { from, to: key, time, gapMs: gap } = step;
    let s = this.#sources.get(from);
    if (s === undefined) {
      s = { edges: [], total: 0, landmark: time, best: undefined };
      this.#sources.set(from, s);
    }
    if (this.#rate * (time - s.landmark) > maxLandmarkExponent) rescale(s, this.#rate, time);
    const g = forwardWeight(this.#rate, time, s.landmark);
    s.total += g;
    let edge = s.edges.find((e) => e.key === key);
    if (edge !== undefined) {
      edge.g += g;
      edge.gapG += g * gap;
    } else {
      if (s.edges.length >= this.#bounds.perSource) evictWeakest(s);
      edge = { key, g, gapG: g * gap };
      s.edges.push(edge);
    }
    if (stronger(edge, s.best)) s.best = edge;
  }

  /** Whether a read of `key` is followed by one key often enough that predict may offer it. */
  leadsOn(key: string): boolean {
    const s = this.#sources.peek(key);
    return s?.best !== undefined && s.best.g >= this.options.minConfidence * s.total;
  }

  /**
   * The keys read likely after `key`, in chain order: each the strongest
   * successor of the one before, with the chance of reaching it. Keys
   * expected within `leadMs` of now are left out (they would come late).
   */
  predict(key: string, now: number, leadMs = 0): readonly ChainedKey[] {
    const { depth, minSupport, minConfidence } = this.options;
    // Most reads lead nowhere likely: answered before anything is allocated.
    let out: ChainedKey[] | undefined;
    let seen: Set<string> | undefined;
    let current = key;
    let chance = 1;
    let dueMs = 0;
    for (let step = 0; step < depth; step++) {
      const s = this.#sources.peek(current);
      const edge = s?.best;
      if (s === undefined || edge === undefined) break;
      chance *= edge.g / s.total;
      if (chance < minConfidence) break;
      if (s.total * Math.exp(-this.#rate * (now - s.landmark)) < minSupport) break;
      const best = edge.key;
      if (best === key || seen?.has(best) === true) break;
      seen ??= new Set();
      seen.add(best);
      dueMs += edge.gapG / edge.g;
      if (dueMs >= leadMs) {
        out ??= [];
        out.push({ key: best, confidence: chance });
      }
      current = best;
    }
    return out ?? noKeys;
  }

  /**
   * The sources of `tenants` (a key's tenant is its first part), for their
   * snapshots (learning-snapshot.ts): most recently read first, keys
   * without their tenant.
   */
  exportTenants(tenants: ReadonlySet<string>): Map<string, ChainsSnapshot> {
    const out = new Map<string, ChainsSnapshot>();
    for (const t of tenants) out.set(t, []);
    for (const [from, s] of this.#sources.entries()) {
      const tenant = tenantOfKey(from);
      const snap = out.get(tenant);
      if (snap === undefined) continue;
      const cut = tenant.length + 1;
      snap.push([from.slice(cut), s.landmark, s.total, s.edges.map((e) => [e.key.slice(cut), e.g, e.gapG])]);
    }
    return out;
  }

  /**
   * Restores one tenant's sources (exportTenants), each key put back under
   * that tenant. A source this process holds already keeps what it learned.
   */
  importTenant(tenant: string, snap: ChainsSnapshot): void {
    // Least recently read first, so that the sources' recency ends as it was saved.
    for (let i = snap.length - 1; i >= 0; i--) {
      const [from, landmark, total, edges] = snap[i]!;
      const key = `${tenant}/${from}`;
      if (this.#sources.has(key)) continue;
      const s: Source = { edges: [], total, landmark, best: undefined };
      for (const [to, g, gapG] of edges.slice(0, this.#bounds.perSource)) {
        const edge = { key: `${tenant}/${to}`, g, gapG };
        s.edges.push(edge);
        if (stronger(edge, s.best)) s.best = edge;
      }
      this.#sources.set(key, s);
    }
  }

  /** The tenants some source key belongs to. */
  tenants(into: Set<string>): void {
    for (const key of this.#sources.keys()) into.add(tenantOfKey(key));
  }

  /** Forgets every source of these tenants (before their saved state replaces it). */
  dropTenants(tenants: ReadonlySet<string>): void {
    dropTenantEntries([this.#sources], tenants, tenantOfKey);
  }
}

/** A canonical key's tenant: its first part. */
function tenantOfKey(key: string): string {
  const i = key.indexOf("/");
  return i < 0 ? key : key.slice(0, i);
}

/** Moves the source's landmark to `time`, scaling its weights down to match. */
function rescale(s: Source, rate: number, time: number): void {
  const f = rescaleFactor(rate, s.landmark, time);
  s.total *= f;
  for (const e of s.edges) {
    e.g *= f;
    e.gapG *= f;
  }
  s.landmark = time;
}

/** Whether `edge` ranks before `than`: heavier, then the smaller key. */
function stronger(edge: Edge, than: Edge | undefined): boolean {
  return than === undefined || edge.g > than.g || (edge.g === than.g && edge.key < than.key);
}

function evictWeakest(s: Source): void {
  let weakest = 0;
  for (let i = 1; i < s.edges.length; i++) if (s.edges[i]!.g < s.edges[weakest]!.g) weakest = i;
  const [gone] = s.edges.splice(weakest, 1);
  if (gone !== s.best) return;
  // Every successor weighed the same (the strongest is the weakest): the next strongest takes over.
  s.best = undefined;
  for (const e of s.edges) if (stronger(e, s.best)) s.best = e;
}
