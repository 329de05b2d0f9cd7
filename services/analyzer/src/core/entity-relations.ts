import { canonicalKey } from "@prescient/core";
import { LRUCache } from "lru-cache";
import { decayFactor, forwardWeight, rescaleFactor } from "./forward-decay.js";
import { dropTenantEntries, type RelationsSnapshot, scopedId, tenantOfId } from "./learning-snapshot.js";
import { WeakestRelations } from "./weakest-relations.js";

/**
 * Decayed relations from a subject (a user, or an entity) to entities, per
 * tenant: "user u created campaign c", "user u reads c's analytics",
 * "campaign c has video v". A fan-out target keyed by relation computes for
 * the subject's most active related entities, which is how a login can warm
 * the analytics of the campaigns the user owns although the login names
 * none of them.
 *
 * Memory is bounded three ways: subjects by an LRU, entities per subject by
 * evicting the weakest, and the reverse index (entity → its last 4
 * subjects) by an LRU as large as the subjects'. Weights decay
 * exponentially, so a relation that is no longer used falls behind ones
 * that are.
 *
 * Weights are held forward-decayed (Cormode et al.): each is scaled to its
 * subject's landmark, so one subject's weights rank and share alike at any
 * time, and ranking, sharing or evicting them needs no exponential per
 * entity. Every read of a user with related-keyed rules asks for shares.
 */
export interface EntityRelationsOptions {
  /** Subjects (tenant × subject id) kept; the least recently touched go first. Default 100,000. */
  subjects: number;
  /** Related entities kept per subject. Default 32. */
  perSubject: number;
  /** Half-life of a relation's weight. Default 7 days. */
  halfLifeMs: number;
}

export const entityRelationsDefaults: Readonly<EntityRelationsOptions> = {
  subjects: 100_000,
  perSubject: 32,
  halfLifeMs: 7 * 86_400_000,
};

interface Weight {
  /** The weight scaled to the subject's landmark: w × e^(rate × (at − landmark)). */
  g: number;
  /** Insertion order within the subject: of equal weights, the earliest is evicted first. */
  readonly seq: number;
  /** Set when the subject evicts it: kind filters drop it the next time they are read. */
  evicted: boolean;
  /** What made the relation: task types read through it and event types that created it (bounded). */
  tags: Set<string>;
}

/** Tags kept per relation. */
const maxTags = 8;

/**
 * Largest rate × (time − landmark) before a subject's weights are rescaled
 * to a new landmark: e^50 leaves weights far from overflow (about 500 days
 * at the default half-life).
 */
const maxLandmarkExponent = 50;

/** One subject's relations, with the entities each task type may be related through, as last worked out. */
interface Subject {
  /** The subject's id (without its tenant), for the reverse index's answers. */
  readonly name: string;
  /** Set once the subjects' LRU lets go of it: the reverse index may still hold it, and skips it. */
  gone: boolean;
  related: Map<string, Weight>;
  /** Relations added, for their insertion order (Weight.seq). */
  added: number;
  /** The next few to evict once the subject is full. */
  weakest: WeakestRelations<Weight>;
  /** The time weights are scaled to; moved forward (rescaling them) before they could overflow. */
  landmark: number;
  /** The latest relation's time: weights are read as of it at the earliest, so they never grow into the past. */
  latest: number;
  /**
   * Per task type: its kind tags and the entities that share one (undefined:
   * every entity, nothing being known of the type's kind), kept up to date as
   * entities come and go, dropped when a tag changes what the kind is, and
   * valid while the tenant-wide kinds are those of `kindsVersion`.
   */
  kinds: Map<string, KindFilter>;
}

interface KindFilter {
  kindsVersion: number;
  kind: ReadonlySet<string>;
  entries: Array<[string, Weight]> | undefined;
  /** Whether `entries` may hold evicted relations, to be dropped before they are read. */
  stale: boolean;
  /** topShares' last answer for the type, while still close enough. */
  shares: SharesMemo | undefined;
}

/**
 * A subject's top shares for one type, as worked out when its entities
 * weighed `total`, and the weight added to or taken from them since.
 */
interface SharesMemo {
  limit: number;
  top: readonly RelatedShare[];
  total: number;
  changed: number;
}

/**
 * topShares answers from its memo until the weight added or removed since
 * exceeds this share of the total: no share is off by more than about as
 * much, and a user who reads many times a second (each read relates them
 * to what they read) is not re-ranked on every read.
 */
const sharesTolerance = 0.1;

/**
 * Task types whose kind filter a subject remembers; past it, it starts over.
 * Few: a subject is asked for the related-keyed targets of its rules (a
 * handful of types), and each filter holds a tag set and up to perSubject
 * entries, for every one of up to `subjects` subjects.
 */
const maxKindsPerSubject = 4;

/**
 * Subjects an entity keeps in the reverse index (subjectsOf): the last to
 * become related to it. A read that names no user is credited to its
 * entity's creators and readers, who are few, not to every user who ever
 * read it.
 */
const maxSubjectsPerEntity = 4;

const noSubjects: readonly string[] = [];

/** Weakest relations a full subject lines up for eviction per pass over its relations. */
const weakestKept = 8;

export interface RelatedEntity {
  entityId: string;
  /** Decayed weight: roughly how many times the relation was seen recently. */
  weight: number;
}

/** A related entity's share of the weight of the subject's entities of a type's kind. */
export interface RelatedShare {
  entityId: string;
  share: number;
  /**
   * The entity's result key of the type asked for, built once per memoised
   * answer: the caller offers it for nearly every read of the subject, and a
   * key built anew each time would be hashed anew by every map it meets.
   */
  key: string;
}

export class EntityRelations {
  readonly options: EntityRelationsOptions;
  readonly #rate: number;
  readonly #subjects: LRUCache<string, Subject>;
  /** Tenant × task type → the tags of the relations its reads went through (the entity kinds it is read for). */
  readonly #kinds: LRUCache<string, Set<string>>;
  /** Bumped whenever any type's kind tags change (or a type's are evicted): subjects' kind filters are stale then. */
  #kindsVersion = 0;
  /** related()'s scratch set of the asked type's kind tags. */
  readonly #kind = new Set<string>();
  /**
   * Tenant × entity → the subjects related to it, the latest last: a hint,
   * bounded like the subjects, that evictions do not update (subjectsOf
   * checks each against the subject's relations). It holds the subjects
   * themselves, not their ids: a liveness check is then a flag and a map
   * lookup, not a key built and hashed for the subjects' LRU, on nearly
   * every new relation of a popular entity.
   */
  readonly #subjectsOf: LRUCache<string, Subject[]>;
  /** topShares' scratch: the strongest entities so far, and their weights. */
  readonly #topIds: string[] = [];
  readonly #topWeights: number[] = [];

  constructor(options?: Partial<EntityRelationsOptions>) {
    this.options = { ...entityRelationsDefaults, ...options };
    this.#rate = Math.LN2 / this.options.halfLifeMs;
    this.#subjects = new LRUCache({
      max: this.options.subjects,
      dispose: (s) => {
        s.gone = true;
      },
    });
    this.#subjectsOf = new LRUCache({ max: this.options.subjects });
    this.#kinds = new LRUCache({
      max: Math.max(1, Math.ceil(this.options.subjects / 10)),
      dispose: () => {
        this.#kindsVersion++;
      },
    });
  }

  /**
   * A read of `taskType` by `subject` of `entityId`: where they are related,
   * what made the relation (campaign_created, an explicit relation on a
   * login...) marks the kind of entity that task type is read for, tenant-wide.
   */
  learnKind(tenant: string, subject: string, entityId: string, taskType: string): void {
    const w = this.#subjects.peek(subjectId(tenant, subject))?.related.get(entityId);
    if (w === undefined) return;
    const id = subjectId(tenant, taskType);
    let kind = this.#kinds.get(id);
    if (kind === undefined) {
      kind = new Set();
      this.#kinds.set(id, kind);
      this.#kindsVersion++;
    }
    for (const t of w.tags)
      if (kind.size < 2 * maxTags && !kind.has(t)) {
        kind.add(t);
        this.#kindsVersion++;
      }
  }

  get size(): number {
    return this.#subjects.size;
  }

  /**
   * Adds `weight` to subject → entity at `time`, tagged with what made it (the
   * task type read, or the event type). A subject is never related to itself.
   */
  relate(tenant: string, subject: string, entityId: string, time: number, tag: string, weight = 1): void {
    if (subject === "" || entityId === "" || subject === entityId) return;
    const id = subjectId(tenant, subject);
    let s = this.#subjects.get(id);
    if (s === undefined) {
      s = this.#newSubject(subject, time, time);
      this.#subjects.set(id, s);
    }
    if (this.#rate * (time - s.landmark) > maxLandmarkExponent) this.#rescale(s, time);
    s.latest = Math.max(s.latest, time);
    const g = weight * forwardWeight(this.#rate, time, s.landmark);
    const related = s.related;
    const cur = related.get(entityId);
    if (cur !== undefined) {
      const was = cur.g;
      cur.g += g;
      s.weakest.grew(cur, was);
      changedBy(s, cur, g);
      if (tag !== "" && cur.tags.size < maxTags && !cur.tags.has(tag)) {
        cur.tags.add(tag);
        // A new tag can widen a kind, or make the entity one of it: worked out again when next asked.
        s.kinds.clear();
      }
      return;
    }
    if (related.size >= this.options.perSubject) this.#evictWeakest(tenant, s);
    const w: Weight = { g, seq: s.added++, evicted: false, tags: new Set(tag === "" ? [] : [tag]) };
    related.set(entityId, w);
    s.weakest.added(entityId, w);
    this.#index(tenant, s, entityId);
    changedBy(s, w, g);
    // A new entity has one tag: it widens no kind (a type's own tag is in its kind), and joins those it shares.
    for (const f of s.kinds.values())
      if (f.entries !== undefined && tag !== "" && f.kind.has(tag)) f.entries.push([entityId, w]);
  }

  /**
   * The subject's `limit` strongest related entities at `now`, strongest
   * first. With `taskType`, only entities of the kind that type is read for:
   * those already read as it, and those made like the ones it is read
   * through (a campaign created like the campaigns whose analytics users
   * read), so a login warms campaign analytics for campaigns, not for videos.
   * While nothing is known of the type's kind, every related entity counts.
   */
  related(tenant: string, subject: string, limit: number, now: number, taskType?: string): RelatedEntity[] {
    const s = this.#subjects.get(subjectId(tenant, subject));
    if (s === undefined || limit <= 0) return [];
    const entries = taskType === undefined ? undefined : liveEntries(this.#ofKind(tenant, s, taskType));
    const scale = this.#scale(s, now);
    // The strongest alone: one pass, no sort.
    if (limit === 1) return this.#strongest(entries ?? s.related, scale);
    const out: RelatedEntity[] = [];
    for (const [entityId, w] of entries ?? s.related) out.push({ entityId, weight: w.g });
    out.sort((a, b) => b.weight - a.weight || (a.entityId < b.entityId ? -1 : 1));
    return out.slice(0, limit).map((r) => ({ entityId: r.entityId, weight: r.weight * scale }));
  }

  /**
   * The subject's `limit` strongest related entities of `taskType`'s kind
   * (as `related`), each with its share of the weight of them all: how
   * likely a read of that type through a relation is of that entity, at any
   * time. One pass, no sort of the rest, and memoised: every read of a user
   * whose reads are learned to be followed by related-keyed reads asks.
   */
  topShares(tenant: string, subject: string, limit: number, taskType: string): readonly RelatedShare[] {
    const s = this.#subjects.peek(subjectId(tenant, subject));
    if (s === undefined || limit <= 0) return [];
    const filter = this.#ofKind(tenant, s, taskType);
    const memo = filter.shares;
    if (memo !== undefined && memo.limit === limit && memo.changed <= sharesTolerance * memo.total)
      return memo.top;
    const entries = liveEntries(filter);
    // Shares are ratios of one subject's weights, the same at any time: no decay to apply. The
    // strongest are ranked in scratch arrays, not a list of pairs: an answer is worked out again
    // on about one call in five, each a pass over up to perSubject entities.
    const ids = this.#topIds;
    const weights = this.#topWeights;
    let n = 0;
    let total = 0;
    const add = (entityId: string, weight: number): void => {
      total += weight;
      if (n === limit && !stronger(weight, entityId, weights[limit - 1]!, ids[limit - 1]!)) return;
      let i = n === limit ? limit - 1 : n++;
      while (i > 0 && stronger(weight, entityId, weights[i - 1]!, ids[i - 1]!)) {
        ids[i] = ids[i - 1]!;
        weights[i] = weights[i - 1]!;
        i--;
      }
      ids[i] = entityId;
      weights[i] = weight;
    };
    // Two plain loops rather than one over either: a for-of over a Map or an Array at one site is
    // polymorphic, and slow; and a for-of over a Map's entries builds a pair per entity.
    if (entries === undefined)
      s.related.forEach((w, entityId) => {
        add(entityId, w.g);
      });
    else
      for (let i = 0; i < entries.length; i++) {
        const [entityId, w] = entries[i]!;
        add(entityId, w.g);
      }
    // The top rarely changes between answers: the last answer's keys are reused, not built and hashed again.
    const before = memo?.top;
    const shares: RelatedShare[] = [];
    if (total > 0)
      for (let i = 0; i < n; i++) {
        const entityId = ids[i]!;
        let key: string | undefined;
        if (before !== undefined)
          for (let j = 0; j < before.length; j++)
            if (before[j]!.entityId === entityId) {
              key = before[j]!.key;
              break;
            }
        shares.push({
          entityId,
          share: weights[i]! / total,
          key: key ?? canonicalKey(tenant, taskType, entityId),
        });
      }
    filter.shares = { limit, top: shares, total, changed: 0 };
    return shares;
  }

  /**
   * The subject's filter for `taskType`: its entities of the kind the type
   * is read for (`entries`; undefined: every one, while nothing is known of
   * the type's kind), those sharing a
   * tag with the type itself, the kinds its reads went through tenant-wide,
   * or the tags of the subject's entities read as it. Which entities qualify
   * changes only as entities come and go and tags are added, not as weights
   * move: it is kept per subject and type, updated as entities come and go
   * (relate, #evictWeakest), and worked out again only when a tag or the
   * tenant's kinds change. Every read of a user with a related-keyed rule asks.
   */
  #ofKind(tenant: string, s: Subject, taskType: string): KindFilter {
    const cached = s.kinds.get(taskType);
    if (cached !== undefined && cached.kindsVersion === this.#kindsVersion) return cached;
    const kind = this.#kind;
    kind.clear();
    kind.add(taskType);
    const known = this.#kinds.get(subjectId(tenant, taskType));
    if (known !== undefined) for (const t of known) kind.add(t);
    for (const w of s.related.values()) if (w.tags.has(taskType)) for (const t of w.tags) kind.add(t);
    // (The kinds map holds no undefined values, so a miss above means the type's kind is unknown.)
    const entries =
      kind.size === 1 && known === undefined
        ? undefined
        : [...s.related].filter(([, w]) => sharesTag(w.tags, kind));
    if (cached === undefined && s.kinds.size >= maxKindsPerSubject) s.kinds.clear();
    const filter: KindFilter = {
      kindsVersion: this.#kindsVersion,
      kind: new Set(kind),
      entries,
      stale: false,
      shares: undefined,
    };
    s.kinds.set(taskType, filter);
    return filter;
  }

  /** related()'s first entry, by the same order (weight, then entity id), without building the list. */
  #strongest(entries: Iterable<[string, Weight]>, scale: number): RelatedEntity[] {
    let best: string | undefined;
    let bestWeight = 0;
    for (const [entityId, w] of entries) {
      const weight = w.g;
      if (best === undefined || weight > bestWeight || (weight === bestWeight && entityId < best)) {
        best = entityId;
        bestWeight = weight;
      }
    }
    return best === undefined ? [] : [{ entityId: best, weight: bestWeight * scale }];
  }

  /**
   * The subjects related to `entityId`, the last 4 to become related (the
   * latest last): for a read that names no user, the users who created or
   * read the entity before, through whom the read can still be learned from.
   */
  subjectsOf(tenant: string, entityId: string): readonly string[] {
    const list = this.#subjectsOf.peek(subjectId(tenant, entityId));
    if (list === undefined) return noSubjects;
    // Evictions leave the index as it was: each subject is checked against its own relations.
    const out: string[] = [];
    for (const s of list) if (relatedTo(s, entityId)) out.push(s.name);
    return out;
  }

  #index(tenant: string, subject: Subject, entityId: string): void {
    const id = subjectId(tenant, entityId);
    const list = this.#subjectsOf.get(id);
    if (list === undefined) {
      this.#subjectsOf.set(id, [subject]);
      return;
    }
    const at = list.indexOf(subject);
    if (at >= 0) list.splice(at, 1);
    else if (list.length >= maxSubjectsPerEntity) {
      // Full: those no longer related make room first, then the oldest.
      let kept = 0;
      for (const s of list) if (relatedTo(s, entityId)) list[kept++] = s;
      list.length = kept;
      if (kept >= maxSubjectsPerEntity) list.shift();
    }
    list.push(subject);
  }

  /** The tags of subject → entity: what made it (empty when not held). */
  tagsOf(tenant: string, subject: string, entityId: string): ReadonlySet<string> {
    return this.#subjects.peek(subjectId(tenant, subject))?.related.get(entityId)?.tags ?? new Set();
  }

  /**
   * The relations of `tenants`, for their snapshots: per tenant, its most
   * recently used subjects first, up to `maxRelations` relations (the rest
   * are left out whole), and the kinds of its task types. One pass over
   * every subject, however many tenants are asked for.
   */
  exportTenants(tenants: ReadonlySet<string>, maxRelations: number): Map<string, RelationsSnapshot> {
    const out = new Map<string, RelationsSnapshot>();
    const counted = new Map<string, number>();
    for (const t of tenants) {
      out.set(t, { subjects: [], kinds: [] });
      counted.set(t, 0);
    }
    // entries(): most recently used first, without touching recency.
    for (const [id, s] of this.#subjects.entries()) {
      const tenant = tenantOfId(id);
      const snap = out.get(tenant);
      if (snap === undefined) continue;
      const n = counted.get(tenant)! + s.related.size;
      if (n > maxRelations) continue;
      counted.set(tenant, n);
      const related: RelationsSnapshot["subjects"][number][3] = [];
      for (const [entityId, w] of s.related) related.push([entityId, w.g, [...w.tags]]);
      snap.subjects.push([id.slice(tenant.length + 1), s.landmark, s.latest, related]);
    }
    for (const [id, tags] of this.#kinds.entries()) {
      const tenant = tenantOfId(id);
      out.get(tenant)?.kinds.push([id.slice(tenant.length + 1), [...tags]]);
    }
    return out;
  }

  /**
   * Restores one tenant's snapshot (exportTenants). A subject or kind this
   * process already holds keeps what it learned since it started; the
   * others take the snapshot's, held to this instance's bounds.
   */
  importTenant(tenant: string, snap: RelationsSnapshot): void {
    // Least recently used first, so that the subjects' recency ends as it was saved.
    for (let i = snap.subjects.length - 1; i >= 0; i--) {
      const [subject, landmark, latest, related] = snap.subjects[i]!;
      const id = subjectId(tenant, subject);
      if (this.#subjects.has(id)) continue;
      const s = this.#newSubject(subject, landmark, latest);
      for (const [entityId, g, tags] of related) {
        if (s.related.size >= this.options.perSubject) break;
        if (entityId !== subject)
          s.related.set(entityId, {
            g,
            seq: s.added++,
            evicted: false,
            tags: new Set(tags.slice(0, maxTags)),
          });
      }
      if (s.related.size === 0) continue;
      this.#subjects.set(id, s);
      for (const entityId of s.related.keys()) this.#index(tenant, s, entityId);
    }
    for (const [taskType, tags] of snap.kinds) {
      const id = subjectId(tenant, taskType);
      if (this.#kinds.has(id)) continue;
      this.#kinds.set(id, new Set(tags.slice(0, 2 * maxTags)));
      this.#kindsVersion++;
    }
  }

  /** The tenants some subject's relations belong to. */
  tenants(into: Set<string>): void {
    for (const id of this.#subjects.keys()) into.add(tenantOfId(id));
  }

  /** Forgets the subjects, reverse index and kinds of these tenants (before their saved state replaces them). */
  dropTenants(tenants: ReadonlySet<string>): void {
    // Deleting a subject marks it gone (the LRU's dispose), so any reverse index entry left skips it.
    dropTenantEntries([this.#subjects, this.#subjectsOf, this.#kinds], tenants);
  }

  /** Whether subject → entity is held (any weight). */
  has(tenant: string, subject: string, entityId: string): boolean {
    return this.#subjects.peek(subjectId(tenant, subject))?.related.has(entityId) ?? false;
  }

  #newSubject(name: string, landmark: number, latest: number): Subject {
    return {
      name,
      gone: false,
      related: new Map(),
      added: 0,
      weakest: new WeakestRelations(weakestKept),
      kinds: new Map(),
      landmark,
      latest,
    };
  }

  /** What turns the subject's scaled weights into weights at `now` (or at its latest relation, if later). */
  #scale(s: Subject, now: number): number {
    return decayFactor(this.#rate, Math.max(now, s.latest), s.landmark);
  }

  /** Moves the subject's landmark to `time`, scaling its weights down to match. */
  #rescale(s: Subject, time: number): void {
    const f = rescaleFactor(this.#rate, s.landmark, time);
    for (const w of s.related.values()) w.g *= f;
    s.weakest.reset();
    s.landmark = time;
    for (const k of s.kinds.values()) k.shares = undefined;
  }

  #evictWeakest(tenant: string, s: Subject): void {
    const weakest = s.weakest.take(s.related);
    if (weakest === undefined) return;
    const gone = s.related.get(weakest)!;
    s.related.delete(weakest);
    gone.evicted = true;
    // This runs for nearly every new relation of a full subject: the kind filters drop the relation
    // when next read (liveEntries), not by a search of each now; forEach and a plain loop, as a
    // for-of over a Map's entries, or a some() with a closure, costs more per element.
    s.kinds.forEach((f, type) => {
      // An entity read as the type gave the kind its tags: without it the kind may narrow, unless
      // the type and its tenant-wide kinds hold every one of them anyway.
      if (gone.tags.has(type) && !this.#coveredByKind(tenant, type, gone.tags)) {
        s.kinds.delete(type);
        return;
      }
      if (f.entries !== undefined) f.stale = true;
      const top = f.shares?.top;
      if (top !== undefined)
        for (let i = 0; i < top.length; i++)
          if (top[i]!.entityId === weakest) {
            f.shares = undefined;
            break;
          }
    });
    changedBy(s, gone, gone.g);
  }

  /** Whether every tag is `type` itself or one of its tenant-wide kinds. */
  #coveredByKind(tenant: string, type: string, tags: ReadonlySet<string>): boolean {
    const known = this.#kinds.peek(subjectId(tenant, type));
    for (const t of tags) if (t !== type && known?.has(t) !== true) return false;
    return true;
  }
}

/** Counts a change of `g` in `w`'s weight against the memoised shares of the types whose kind it is. */
function changedBy(s: Subject, w: Weight, g: number): void {
  for (const f of s.kinds.values())
    if (f.shares !== undefined && (f.entries === undefined || sharesTag(w.tags, f.kind)))
      f.shares.changed += g;
}

/** A kind filter's entries without those evicted since they were last read, in their order. */
function liveEntries(f: KindFilter): Array<[string, Weight]> | undefined {
  const entries = f.entries;
  if (entries === undefined || !f.stale) return entries;
  let kept = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (!e[1].evicted) entries[kept++] = e;
  }
  entries.length = kept;
  f.stale = false;
  return entries;
}

/** Whether the subject, still held, is related to the entity (the reverse index's check). */
function relatedTo(s: Subject, entityId: string): boolean {
  return !s.gone && s.related.has(entityId);
}

/** Whether (weight, entityId) ranks before `than`: heavier, then the smaller id (related()'s order). */
function stronger(weight: number, entityId: string, thanWeight: number, thanId: string): boolean {
  return weight > thanWeight || (weight === thanWeight && entityId < thanId);
}

function sharesTag(tags: ReadonlySet<string>, kind: ReadonlySet<string>): boolean {
  for (const t of tags) if (kind.has(t)) return true;
  return false;
}

/** Tenant and subject in one map key; NUL cannot occur in either (both are validated ids). */
const subjectId = scopedId;
