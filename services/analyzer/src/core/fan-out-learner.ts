import { LRUCache } from "lru-cache";
import type { EntityRelations } from "./entity-relations.js";
import { dropTenantEntries, type FanOutSnapshot, scopedId, tenantOfId } from "./learning-snapshot.js";

/**
 * Learns fan-out rules from traffic: for each tenant and event type, which
 * task types are read after it, keyed by what (the event's entity, its
 * user, or an entity related to the user), with what probability and after
 * what delay. The precomputer adds the rules with enough support to its
 * configured ones, so an event nobody wrote a rule for still warms what its
 * readers will ask for.
 *
 * Counts decay (half-life `halfLifeMs`), so a change in behaviour is
 * followed. State is bounded: tenant × event pairs and the events awaiting
 * their reads are LRU caches. Tenants never mix: every map is keyed by tenant.
 */
export interface FanOutLearnerOptions {
  /** A read counts for an event within this long after it. Default 15 minutes. */
  windowMs: number;
  /**
   * Reads sooner than this after the event do not count: for actions, whose
   * own reads arrive with them and need no prediction. Default 0.
   */
  minDelayMs: number;
  /** Half-life of the counts. Default 1 day. */
  halfLifeMs: number;
  /** Decayed events of a type needed before its rule is offered. Default 5. */
  minSupport: number;
  /**
   * Share of events followed by a read of a target below which it is left
   * out. Default 0.02: low, since the precomputer weighs each target by its
   * share (and a configured target missing from a supported rule is one
   * whose results go unread).
   */
  minShare: number;
  /** Tenant × event type pairs tracked. Default 10,000. */
  maxEventTypes: number;
  /** Targets (task type × key) tracked per pair. Default 64. */
  maxTargets: number;
  /** Subjects (entities and users) with events awaiting their reads. Default 100,000. */
  maxPendingSubjects: number;
  /** Events awaiting reads per subject. Default 8. */
  pendingPerSubject: number;
}

export const fanOutLearnerDefaults: Readonly<FanOutLearnerOptions> = {
  windowMs: 15 * 60_000,
  minDelayMs: 0,
  halfLifeMs: 86_400_000,
  minSupport: 5,
  minShare: 0.02,
  maxEventTypes: 10_000,
  maxTargets: 64,
  maxPendingSubjects: 100_000,
  pendingPerSubject: 8,
};

export type LearnedKeyBy = "entity" | "user" | "related";

export interface LearnedTarget {
  taskType: string;
  keyBy: LearnedKeyBy;
  /** Share of the event's occurrences followed by such a read within the window. */
  probability: number;
  /** Mean delay from the event to the first such read. */
  meanDelayMs: number;
}

export interface LearnedRule {
  tenant: string;
  event: string;
  /** Decayed count of the event's occurrences. */
  support: number;
  targets: LearnedTarget[];
}

/** A supported target of a rule, as `observeAct` answers it (reused: read before the learner's next call). */
export interface RankedTarget {
  taskType: string;
  keyBy: LearnedKeyBy;
  /** Share of the event's occurrences followed by such a read within the window. */
  probability: number;
}

/** A ranked target with what `rules` needs of it besides. */
interface Ranking extends RankedTarget {
  /** Its decayed count of followed occurrences, at the time ranked. */
  followed: number;
  stats: TargetStats;
}

interface Decayed {
  w: number;
  at: number;
}

interface TargetStats {
  taskType: string;
  keyBy: LearnedKeyBy;
  /** taskType + keyBy, which orders targets of equal probability. */
  order: string;
  followed: Decayed;
  /** Decayed Σ delay, for the mean. */
  delay: Decayed;
}

interface EventStats {
  tenant: string;
  event: string;
  events: Decayed;
  targets: Map<string, TargetStats>;
}

interface Pending {
  stats: EventStats;
  time: number;
  entityId: string;
  userId: string;
  /** Targets already credited for this occurrence. */
  seen: Set<string> | undefined;
}

/**
 * Whether `a` ranks before `b` in a rule: more probable, then by task type and
 * key, compared as their concatenation (the order rules have always had).
 */
function ranksBefore(a: Ranking, b: Ranking): boolean {
  if (a.probability !== b.probability) return a.probability > b.probability;
  return a.stats.order < b.stats.order;
}

/** #live's answer when nothing awaits: shared, never written. */
const none: readonly Pending[] = [];

export class FanOutLearner {
  readonly options: FanOutLearnerOptions;
  readonly #rate: number;
  readonly #relations: EntityRelations;
  readonly #stats: LRUCache<string, EventStats>;
  readonly #pending: LRUCache<string, Pending[]>;
  readonly #targetIds = new Map<string, Readonly<Record<LearnedKeyBy, string>>>();
  /** `#rank`'s answer, and the entries it reuses (one per target of the largest rule ranked). */
  readonly #ranked: Ranking[] = [];
  readonly #rankedPool: Ranking[] = [];

  constructor(relations: EntityRelations, options?: Partial<FanOutLearnerOptions>) {
    this.options = { ...fanOutLearnerDefaults, ...options };
    this.#rate = Math.LN2 / this.options.halfLifeMs;
    this.#relations = relations;
    this.#stats = new LRUCache({ max: this.options.maxEventTypes });
    this.#pending = new LRUCache({ max: this.options.maxPendingSubjects });
  }

  /** Subjects with events awaiting their reads (bounded by maxPendingSubjects). */
  get pendingSubjects(): number {
    return this.#pending.size;
  }

  /** An event occurred: counted, and its reads awaited under its entity and its user. */
  observeEvent(tenant: string, event: string, entityId: string, userId: string, time: number): void {
    const stats = this.#counted(tenant, event, time);
    // Most occurrences are credited by no read: their set is made on the first credit.
    const p: Pending = { stats, time, entityId, userId, seen: undefined };
    if (entityId !== "") this.#await(tenant, entityId, p);
    if (userId !== "" && userId !== entityId) this.#await(tenant, userId, p);
  }

  /**
   * A user's act (a read, or an action): an event about no entity, counted
   * and awaiting their next reads as observeEvent would. Answers the act's
   * rule (its targets as `rules` lists them, in a list this learner reuses:
   * read it before calling the learner again), or undefined when the same
   * act of theirs already awaits reads from less than `minDelayMs` before:
   * that one predicted the reads this one would, so a user reading many
   * times a second is not predicted for again on every read. One lookup of
   * the user's awaiting events and one of the act's counts: every read of a
   * user is an act.
   */
  observeAct(tenant: string, act: string, userId: string, time: number): readonly RankedTarget[] | undefined {
    const stats = this.#counted(tenant, act, time);
    const id = scopedId(tenant, userId);
    const list = this.#prune(id, time);
    let previous: number | undefined;
    for (const p of list ?? none)
      if (p.stats.event === act && (previous === undefined || p.time > previous)) previous = p.time;
    this.#awaitIn(id, list, { stats, time, entityId: "", userId, seen: undefined });
    if (previous !== undefined && time >= previous && time - previous < this.options.minDelayMs)
      return undefined;
    return this.#rank(stats, time);
  }

  /** The counts of `event`, made if new, with one more occurrence at `time`. */
  #counted(tenant: string, event: string, time: number): EventStats {
    const id = scopedId(tenant, event);
    let stats = this.#stats.get(id);
    if (stats === undefined) {
      stats = { tenant, event, events: { w: 0, at: time }, targets: new Map() };
      this.#stats.set(id, stats);
    }
    this.#add(stats.events, time, 1);
    return stats;
  }

  /** A read: credits the events awaiting it, once per occurrence and target. */
  observeRead(tenant: string, taskType: string, entityId: string, userId: string, time: number): void {
    const byEntity = this.#live(tenant, entityId, time);
    for (const p of byEntity) {
      // An event about its own user (a login) keys the read both ways.
      if (p.entityId === entityId) this.#credit(p, taskType, "entity", time);
      if (p.userId === entityId) this.#credit(p, taskType, "user", time);
    }
    if (userId === "" || userId === entityId) return;
    // The event's own entity may be one of its user's related ones too (a login about a campaign):
    // the read is then keyed both ways, so a configured `related` target learns how often it pays.
    this.#creditRelated(tenant, taskType, entityId, userId, time, false);
  }

  /**
   * A read that names no user, of an entity `subject` created or read
   * (EntityRelations.subjectsOf): credits, keyed `related`, only the
   * subject's events about themselves (a login), whose related reads are
   * what such a read can stand for. An event about another entity of theirs
   * (the campaign they created with the video whose captions are read) is
   * left alone: whose read it was is a guess, and a guess should not teach a
   * rule to compute for every entity of a user.
   */
  observeReadThrough(
    tenant: string,
    taskType: string,
    entityId: string,
    subject: string,
    time: number,
  ): void {
    this.#creditRelated(tenant, taskType, entityId, subject, time, true);
  }

  /** Credits `subject`'s events awaiting reads, keyed `related`: all of them, or only those about the subject. */
  #creditRelated(
    tenant: string,
    taskType: string,
    entityId: string,
    subject: string,
    time: number,
    aboutSubjectOnly: boolean,
  ): void {
    const bySubject = this.#live(tenant, subject, time);
    if (bySubject.length === 0 || !this.#relations.has(tenant, subject, entityId)) return;
    for (const p of bySubject)
      if (p.userId === subject && (!aboutSubjectOnly || p.entityId === "" || p.entityId === subject))
        this.#credit(p, taskType, "related", time);
  }

  /**
   * The rules with enough support at `now`, of one tenant or all, targets
   * most probable first. A supported rule with no target says the event's
   * results go unread.
   */
  rules(now: number, tenant?: string): LearnedRule[] {
    const out: LearnedRule[] = [];
    for (const stats of this.#stats.values()) {
      if (tenant !== undefined && stats.tenant !== tenant) continue;
      const rule = this.#ruleOf(stats, now);
      if (rule !== undefined) out.push(rule);
    }
    return out.sort((a, b) =>
      a.tenant !== b.tenant ? (a.tenant < b.tenant ? -1 : 1) : a.event < b.event ? -1 : 1,
    );
  }

  #ruleOf(stats: EventStats, now: number): LearnedRule | undefined {
    const ranked = this.#rank(stats, now);
    if (ranked === undefined) return undefined;
    const targets = ranked.map(
      (r): LearnedTarget => ({
        taskType: r.taskType,
        keyBy: r.keyBy,
        probability: r.probability,
        meanDelayMs: this.#value(r.stats.delay, now) / r.followed,
      }),
    );
    return { tenant: stats.tenant, event: stats.event, support: this.#value(stats.events, now), targets };
  }

  /**
   * The event's targets at or above `minShare`, most probable first (then by
   * task type and key), into the reused `#ranked`; undefined below
   * `minSupport`. An insertion sort in place: a rule has a few targets, and
   * Array.sort allocates.
   */
  #rank(stats: EventStats, now: number): readonly Ranking[] | undefined {
    const o = this.options;
    const events = this.#value(stats.events, now);
    if (events < o.minSupport) return undefined;
    const out = this.#ranked;
    const pool = this.#rankedPool;
    let n = 0;
    for (const t of stats.targets.values()) {
      const followed = this.#value(t.followed, now);
      const probability = Math.min(1, followed / events);
      if (probability < o.minShare) continue;
      if (n === pool.length)
        pool.push({ taskType: "", keyBy: "entity", probability: 0, followed: 0, stats: t });
      const r = pool[n]!;
      r.taskType = t.taskType;
      r.keyBy = t.keyBy;
      r.probability = probability;
      r.followed = followed;
      r.stats = t;
      let i = n++;
      while (i > 0 && ranksBefore(r, out[i - 1]!)) {
        out[i] = out[i - 1]!;
        i--;
      }
      out[i] = r;
    }
    out.length = n;
    return out;
  }

  /** How many rules `rules(now)` offers (those with enough support), counted without building them: cheap enough for a metrics scrape. */
  ruleCount(now: number): number {
    let n = 0;
    for (const stats of this.#stats.values())
      if (this.#value(stats.events, now) >= this.options.minSupport) n++;
    return n;
  }

  /**
   * The counts of `tenants`, for their snapshots (learning-snapshot.ts). The
   * events awaiting their reads are not kept: a restart loses at most one
   * window of credits.
   */
  exportTenants(tenants: ReadonlySet<string>): Map<string, FanOutSnapshot> {
    const out = new Map<string, FanOutSnapshot>();
    for (const t of tenants) out.set(t, []);
    for (const stats of this.#stats.values()) {
      const snap = out.get(stats.tenant);
      if (snap === undefined) continue;
      const targets: FanOutSnapshot[number][2] = [];
      for (const t of stats.targets.values())
        targets.push([t.taskType, t.keyBy, t.followed.w, t.followed.at, t.delay.w, t.delay.at]);
      snap.push([stats.event, [stats.events.w, stats.events.at], targets]);
    }
    return out;
  }

  /**
   * Restores one tenant's counts (exportTenants). An event type this process
   * counts already keeps its own counts; the others take the snapshot's,
   * held to this instance's bounds.
   */
  importTenant(tenant: string, snap: FanOutSnapshot): void {
    for (const [event, [w, at], targets] of snap) {
      const id = scopedId(tenant, event);
      if (this.#stats.has(id)) continue;
      const stats: EventStats = { tenant, event, events: { w, at }, targets: new Map() };
      for (const [taskType, keyBy, fw, fat, dw, dat] of targets) {
        if (stats.targets.size >= this.options.maxTargets) break;
        stats.targets.set(this.#targetId(taskType, keyBy), {
          taskType,
          keyBy,
          order: taskType + keyBy,
          followed: { w: fw, at: fat },
          delay: { w: dw, at: dat },
        });
      }
      this.#stats.set(id, stats);
    }
  }

  /** The tenants some event type is counted for. */
  tenants(into: Set<string>): void {
    for (const id of this.#stats.keys()) into.add(tenantOfId(id));
  }

  /** Forgets the counts and the awaiting events of these tenants (before their saved state replaces them). */
  dropTenants(tenants: ReadonlySet<string>): void {
    dropTenantEntries([this.#stats, this.#pending], tenants);
  }

  /** Tenant × event type pairs tracked. */
  get eventTypes(): number {
    return this.#stats.size;
  }

  /**
   * Credits the target once for this occurrence. The credit is dated at the
   * event, as its count is, so followed / events is the decayed share of
   * occurrences followed (dated at the read, it would lean high by the decay
   * over the delay). A new target when the pair tracks `maxTargets` replaces
   * the weakest, so a pair that filled up with rare reads still learns new
   * ones as the old ones decay.
   */
  #credit(p: Pending, taskType: string, keyBy: LearnedKeyBy, time: number): void {
    const id = this.#targetId(taskType, keyBy);
    // At most maxTargets credits per occurrence: the seen set stays bounded too.
    p.seen ??= new Set();
    if (p.seen.has(id) || p.seen.size >= this.options.maxTargets) return;
    p.seen.add(id);
    let t = p.stats.targets.get(id);
    if (t === undefined) {
      if (p.stats.targets.size >= this.options.maxTargets) this.#evictWeakest(p.stats.targets, time);
      t = {
        taskType,
        keyBy,
        order: taskType + keyBy,
        followed: { w: 0, at: p.time },
        delay: { w: 0, at: p.time },
      };
      p.stats.targets.set(id, t);
    }
    this.#add(t.followed, p.time, 1);
    this.#add(t.delay, p.time, time - p.time);
  }

  /**
   * `${taskType}\0${keyBy}`, the same string each time: every read credits
   * a target or two, and a string built anew is hashed anew by each set and
   * map it is looked up in. Types are validated names; the memo starts over
   * past `maxEventTypes` of them.
   */
  #targetId(taskType: string, keyBy: LearnedKeyBy): string {
    let ids = this.#targetIds.get(taskType);
    if (ids === undefined) {
      if (this.#targetIds.size >= this.options.maxEventTypes) this.#targetIds.clear();
      ids = {
        entity: `${taskType}\u0000entity`,
        user: `${taskType}\u0000user`,
        related: `${taskType}\u0000related`,
      };
      this.#targetIds.set(taskType, ids);
    }
    return ids[keyBy];
  }

  #evictWeakest(targets: Map<string, TargetStats>, now: number): void {
    let weakest: string | undefined;
    let min = Number.POSITIVE_INFINITY;
    for (const [id, t] of targets) {
      const v = this.#value(t.followed, now);
      if (v < min) {
        min = v;
        weakest = id;
      }
    }
    if (weakest !== undefined) targets.delete(weakest);
  }

  #await(tenant: string, subject: string, p: Pending): void {
    const id = scopedId(tenant, subject);
    this.#awaitIn(id, this.#prune(id, p.time), p);
  }

  /** Adds `p` to the subject's awaiting events, `list` as #prune left it. */
  #awaitIn(id: string, list: Pending[] | undefined, p: Pending): void {
    if (list === undefined) {
      this.#pending.set(id, [p]);
      return;
    }
    list.push(p);
    if (list.length > this.options.pendingPerSubject) list.shift();
  }

  /** The subject's events awaiting reads at `time`: past windows are dropped, later events kept but not returned. */
  #live(tenant: string, subject: string, time: number): readonly Pending[] {
    const kept = this.#prune(scopedId(tenant, subject), time);
    if (kept === undefined) return none;
    const minDelayMs = this.options.minDelayMs;
    // Most calls return everything: checked first, without allocating.
    let early = false;
    for (let i = 0; i < kept.length; i++) if (kept[i]!.time + minDelayMs > time) early = true;
    return early ? kept.filter((p) => p.time + minDelayMs <= time) : kept;
  }

  /** The subject's awaiting events with those past their window at `time` dropped (undefined: none is left). */
  #prune(id: string, time: number): Pending[] | undefined {
    const list = this.#pending.get(id);
    if (list === undefined) return undefined;
    const windowMs = this.options.windowMs;
    // Most calls drop nothing: checked first, without allocating.
    let expired = false;
    for (let i = 0; i < list.length; i++) if (time - list[i]!.time > windowMs) expired = true;
    if (!expired) return list;
    const kept = list.filter((p) => time - p.time <= windowMs);
    if (kept.length === 0) {
      this.#pending.delete(id);
      return undefined;
    }
    this.#pending.set(id, kept);
    return kept;
  }

  #add(d: Decayed, time: number, amount: number): void {
    if (time > d.at) {
      d.w *= Math.exp(-this.#rate * (time - d.at));
      d.at = time;
      d.w += amount;
    } else d.w += amount * Math.exp(-this.#rate * (d.at - time));
  }

  #value(d: Decayed, now: number): number {
    return now <= d.at ? d.w : d.w * Math.exp(-this.#rate * (now - d.at));
  }
}
