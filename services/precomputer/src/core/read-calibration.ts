/**
 * Learns how the sources' read probabilities compare with what happens, and
 * corrects them before the budget spends by them. Each source estimates in
 * its own way: refresh-ahead assumes reads keep coming at the key's decayed
 * rate (Poisson), which holds for steady traffic and overestimates for
 * sessions (right after a burst of reads the decayed rate is high, and says
 * little about the next TTL); a learned fan-out target carries the share of
 * events its type was read after, whichever entity it was keyed by. The
 * budget admits by probability, so an overestimate wins budget it should
 * not, and becomes waste.
 *
 * Each background task with a probability is a prediction: "this key is
 * read within one TTL from now with probability p". It is judged one TTL
 * later by the analyzer's read marks (a number per key that grows with every
 * recorded read and never otherwise), whether or not the task was admitted:
 * a read is logged hit or miss, so the outcome does not depend on the
 * compute. A read counts only where the source alone would have served
 * it: when another source's work (a trigger's fan-out, enqueued or found
 * fresh) plans the key within the window first, the prediction is
 * covered, and a later read counts as none, since that work would have
 * served it anyway (it is judged not read when it is covered, not a TTL
 * later). What a source is worth is the reads nothing else serves: a
 * refresh of keys that every read's own event computes is waste, however
 * often they are read. Per tenant, task type, reason and band of p, the
 * evidence is Σ outcomes (realized) against Σ p (predicted), decayed by
 * `halfLifeMs`; a probability is scaled by (realized + k × r) / (predicted +
 * k), a Beta-like prior of k expected reads at the ratio r of the tenant's
 * source over all its task types (that one with a prior at 1; sources of
 * one estimator pool theirs, `sharedPriors`), so a new group starts where
 * the source stands in its tenant and the correction grows with its own
 * evidence. One pending prediction per key at a time;
 * memory is bounded by `maxPending` and `maxGroups` (the oldest go first,
 * unjudged).
 */
export interface ReadCalibrationOptions {
  /** Predictions awaiting their outcome, at most. Default 100,000. */
  maxPending: number;
  /** (tenant, task type, reason, band) groups kept. Default 10,000. */
  maxGroups: number;
  /** Weight of the prior, in expected reads at ratio 1. Default 5. */
  priorWeight: number;
  /** Half-life of the evidence, so a change in traffic is followed. Default 24 h. */
  halfLifeMs: number;
  /** Bands of the raw probability judged apart. Default 1. */
  bands: number;
  /**
   * Sources whose probabilities one estimator makes, by the source whose
   * pooled evidence they share: their outcomes go to one tenant-wide ratio,
   * the prior of each of their groups. Default: top-N (`schedule`) with
   * refresh-ahead (`refresh`). Both read a key's decayed demand as a
   * Poisson rate over its TTL (readProbability), and top-N runs once a day,
   * so on its own a run would wait a day for the evidence that refresh-ahead
   * has gathered by then: random-adplatform's off-peak top-N was 85–95%
   * unread while refresh-ahead's calibration already stood well below what
   * the same estimate claimed (0.05–0.6 of it by task type, seed 22).
   */
  sharedPriors: Readonly<Record<string, string>>;
}

export const readCalibrationDefaults: Readonly<ReadCalibrationOptions> = {
  maxPending: 100_000,
  maxGroups: 10_000,
  priorWeight: 5,
  halfLifeMs: 24 * 3_600_000,
  bands: 1,
  sharedPriors: { schedule: "refresh" },
};

/** What a prediction is grouped by, and its raw probability. */
export interface PredictionKind {
  tenant: string;
  taskType: string;
  /** The source (the task's reason). */
  source: string;
  probability: number;
}

export interface ReadPrediction extends PredictionKind {
  key: string;
  /** When the predicted window opens (now, or a delayed task's notBefore). */
  from: number;
  ttlMs: number;
}

interface Pending {
  group: string;
  from: number;
  dueAt: number;
  probability: number;
  mark: number | undefined;
  /** The source that made it: its own work never covers it. */
  source: string;
  /** Its tenant's pooled evidence for the source. */
  pooled: string;
  /** Another source's work planned the key within the window: a read no longer counts (see the class comment). */
  covered: boolean;
}

/** The names of a (tenant, type, source)'s band groups and of its tenant's pooled evidence for the source. */
interface GroupNames {
  bands: string[];
  pooled: string;
}

interface Evidence {
  realized: number;
  predicted: number;
  at: number;
}

export class ReadCalibration {
  readonly options: ReadCalibrationOptions;
  /** TTL → key → pending prediction: within one TTL, insertion order is due order. */
  readonly #pending = new Map<number, Map<string, Pending>>();
  #pendingCount = 0;
  /** Group → evidence, least recently updated first. */
  readonly #groups = new Map<string, Evidence>();
  /** Tenant and source → the evidence over the tenant's task types, a prior for each; as many as groups at most. */
  readonly #sources = new Map<string, Evidence>();
  /** Tenant → type → source → the group name of each band and the pooled name; at most maxGroups, cleared past that. */
  readonly #names = new Map<string, Map<string, Map<string, GroupNames>>>();
  #namesKept = 0;

  constructor(options?: Partial<ReadCalibrationOptions>) {
    this.options = { ...readCalibrationDefaults, ...options };
  }

  get pendingCount(): number {
    return this.#pendingCount;
  }

  get groupCount(): number {
    return this.#groups.size;
  }

  /** (tenant, source) evidence kept, the groups' priors. */
  get pooledCount(): number {
    return this.#sources.size;
  }

  /** The raw probability scaled by its group's realized / predicted ratio, at most 1. */
  calibrate(p: PredictionKind, now: number): number {
    return Math.min(1, p.probability * this.ratio(p, now));
  }

  /**
   * A group's smoothed realized / predicted ratio: its evidence, with a prior
   * of `priorWeight` expected reads at the ratio of its tenant's source over
   * all of the tenant's task types (itself with a prior at 1), so a new group
   * starts where its source stands in the tenant rather than at the raw
   * estimate: a refresh of a 6 h result waits 6 h for evidence of its own,
   * and the tenant's 1 h results have spoken by then. Never across tenants.
   */
  ratio(p: PredictionKind, now: number): number {
    const names = this.#namesOf(p);
    const s = this.#sources.get(names.pooled);
    const prior = s === undefined ? 1 : this.#smoothed(s, now, 1);
    const e = this.#groups.get(this.#bandOf(names, p.probability));
    return e === undefined ? prior : this.#smoothed(e, now, prior);
  }

  #smoothed(e: Evidence, now: number, prior: number): number {
    const k = this.options.priorWeight;
    const f = this.#decay(e, now);
    return (e.realized * f + k * prior) / (e.predicted * f + k);
  }

  /** Whether a prediction about the key awaits its outcome. */
  isPending(key: string, ttlMs: number): boolean {
    return this.#pending.get(ttlMs)?.has(key) === true;
  }

  /** Records predictions with each key's read mark now; a key already pending is left as it is. */
  record(predictions: readonly ReadPrediction[], marks: readonly (number | undefined)[]): void {
    for (let i = 0; i < predictions.length; i++) {
      const p = predictions[i]!;
      let byTtl = this.#pending.get(p.ttlMs);
      if (byTtl === undefined) {
        byTtl = new Map();
        this.#pending.set(p.ttlMs, byTtl);
      }
      if (byTtl.has(p.key)) continue;
      const names = this.#namesOf(p);
      byTtl.set(p.key, {
        group: this.#bandOf(names, p.probability),
        from: p.from,
        dueAt: p.from + p.ttlMs,
        probability: p.probability,
        mark: marks[i],
        source: p.source,
        pooled: names.pooled,
        covered: false,
      });
      this.#pendingCount++;
      if (this.#pendingCount > this.options.maxPending) this.#dropOldest();
    }
  }

  /**
   * Work of `source` planned the key (of a result living `ttlMs`) at `now`:
   * a pending prediction of another source about it is covered, and a later
   * read counts as none. Its outcome is then known, and judged at once (not
   * read) rather than a TTL later, so a source whose work others redo is
   * corrected within minutes even where its results live a day. It stays
   * pending until its window closes: a new prediction of the key by the
   * same source would be credited with reads the covering work serves.
   */
  cover(key: string, ttlMs: number, source: string, now: number): void {
    const p = this.#pending.get(ttlMs)?.get(key);
    if (p === undefined || p.source === source || p.covered) return;
    p.covered = true;
    this.#observe(p.group, p.pooled, 0, p.probability, now);
  }

  /** Keys whose predicted window has closed by `now`, to be judged with `judge`. */
  due(now: number): string[] {
    const out: string[] = [];
    for (const byTtl of this.#pending.values())
      for (const [key, p] of byTtl) {
        if (p.dueAt > now) break;
        out.push(key);
      }
    return out;
  }

  /** Judges the due predictions of `keys`: read when the key's mark rose since the prediction. */
  judge(keys: readonly string[], marks: readonly (number | undefined)[], now: number): void {
    const markOf = new Map<string, number | undefined>();
    for (let i = 0; i < keys.length; i++) markOf.set(keys[i]!, marks[i]);
    for (const byTtl of this.#pending.values())
      for (const [key, p] of byTtl) {
        if (p.dueAt > now) break;
        if (!markOf.has(key)) continue;
        byTtl.delete(key);
        this.#pendingCount--;
        if (p.covered) continue; // judged when covered
        const mark = markOf.get(key);
        // No mark at the prediction: the key has entered the analyzer's sketch since, by a read.
        const read = mark !== undefined && (p.mark === undefined || rose(p.mark, mark));
        this.#observe(p.group, p.pooled, read ? 1 : 0, p.probability, now);
      }
  }

  #observe(group: string, pooled: string, realized: number, predicted: number, now: number): void {
    this.#add(this.#sources, pooled, realized, predicted, now);
    this.#add(this.#groups, group, realized, predicted, now);
  }

  /** Adds an outcome to `name`'s decayed evidence, most recently updated last; past maxGroups the oldest goes. */
  #add(
    evidence: Map<string, Evidence>,
    name: string,
    realized: number,
    predicted: number,
    now: number,
  ): void {
    const e = evidence.get(name);
    const f = e === undefined ? 0 : this.#decay(e, now);
    evidence.delete(name);
    evidence.set(name, {
      realized: (e?.realized ?? 0) * f + realized,
      predicted: (e?.predicted ?? 0) * f + predicted,
      at: now,
    });
    if (evidence.size > this.options.maxGroups) {
      const oldest = evidence.keys().next();
      if (!oldest.done) evidence.delete(oldest.value);
    }
  }

  #decay(e: Evidence, now: number): number {
    return 0.5 ** (Math.max(0, now - e.at) / this.options.halfLifeMs);
  }

  /** The name of a prediction's group: its (tenant, type, source), and its band of p. */
  #bandOf(names: GroupNames, probability: number): string {
    const bands = names.bands.length;
    return names.bands[Math.min(bands - 1, Math.floor(Math.max(0, probability) * bands))]!;
  }

  #namesOf(p: PredictionKind): GroupNames {
    // The names are made once per (tenant, type, source): every task of a run asks twice.
    let byType = this.#names.get(p.tenant);
    if (byType === undefined) {
      if (this.#namesKept >= this.options.maxGroups) {
        this.#names.clear();
        this.#namesKept = 0;
      }
      byType = new Map();
      this.#names.set(p.tenant, byType);
    }
    let bySource = byType.get(p.taskType);
    if (bySource === undefined) {
      bySource = new Map();
      byType.set(p.taskType, bySource);
    }
    let names = bySource.get(p.source);
    if (names === undefined) {
      const bands = Math.max(1, Math.floor(this.options.bands));
      names = {
        bands: Array.from(
          { length: bands },
          (_, b) => `${p.tenant}\u0000${p.taskType}\u0000${p.source}\u0000${b}`,
        ),
        pooled: `${p.tenant}\u0000${this.#pooledSource(p.source)}`,
      };
      bySource.set(p.source, names);
      this.#namesKept++;
    }
    return names;
  }

  /** The source whose pooled evidence `source` shares (sharedPriors), itself by default. */
  #pooledSource(source: string): string {
    const shared = this.options.sharedPriors;
    return Object.hasOwn(shared, source) ? (shared[source] ?? source) : source;
  }

  /** Drops the pending prediction made longest ago, unjudged. */
  #dropOldest(): void {
    let oldest: { byTtl: Map<string, Pending>; key: string; from: number } | undefined;
    for (const byTtl of this.#pending.values()) {
      const head = byTtl.entries().next();
      if (head.done) continue;
      if (oldest === undefined || head.value[1].from < oldest.from)
        oldest = { byTtl, key: head.value[0], from: head.value[1].from };
    }
    if (oldest === undefined) return;
    oldest.byTtl.delete(oldest.key);
    this.#pendingCount--;
  }
}

/**
 * Whether a read mark rose: by more than the rounding a store's rescale
 * leaves (a read adds ln(1 + 1/W) for a key of decayed weight W, far above
 * it for any W under 10⁷).
 */
export function rose(before: number, after: number): boolean {
  return after - before > Math.abs(before) * 1e-13 + 1e-12;
}
