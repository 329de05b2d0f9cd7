import { LRUCache } from "lru-cache";

/**
 * Decayed relations from a subject (a user, or an entity) to entities, per
 * tenant: "user u created campaign c", "user u reads c's analytics",
 * "campaign c has video v". A fan-out target keyed by relation computes for
 * the subject's most active related entities, which is how a login can warm
 * the analytics of the campaigns the user owns although the login names
 * none of them.
 *
 * Memory is bounded twice: subjects by an LRU, and entities per subject by
 * evicting the weakest. Weights decay exponentially, so a relation that is
 * no longer used falls behind ones that are.
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
  w: number;
  at: number;
  /** What made the relation: task types read through it and event types that created it (bounded). */
  tags: Set<string>;
}

/** Tags kept per relation. */
const maxTags = 8;

/** One subject's relations, with the entities each task type may be related through, as last worked out. */
interface Subject {
  related: Map<string, Weight>;
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
}

/**
 * Task types whose kind filter a subject remembers; past it, it starts over.
 * Few: a subject is asked for the related-keyed targets of its rules (a
 * handful of types), and each filter holds a tag set and up to perSubject
 * entries, for every one of up to `subjects` subjects.
 */
const maxKindsPerSubject = 4;

export interface RelatedEntity {
  entityId: string;
  /** Decayed weight: roughly how many times the relation was seen recently. */
  weight: number;
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

  constructor(options?: Partial<EntityRelationsOptions>) {
    this.options = { ...entityRelationsDefaults, ...options };
    this.#rate = Math.LN2 / this.options.halfLifeMs;
    this.#subjects = new LRUCache({ max: this.options.subjects });
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
      s = { related: new Map(), kinds: new Map() };
      this.#subjects.set(id, s);
    }
    const related = s.related;
    const cur = related.get(entityId);
    if (cur !== undefined) {
      cur.w = this.#decayed(cur, time) + weight;
      cur.at = Math.max(cur.at, time);
      if (tag !== "" && cur.tags.size < maxTags && !cur.tags.has(tag)) {
        cur.tags.add(tag);
        // A new tag can widen a kind, or make the entity one of it: worked out again when next asked.
        s.kinds.clear();
      }
      return;
    }
    if (related.size >= this.options.perSubject) this.#evictWeakest(s, time);
    const w: Weight = { w: weight, at: time, tags: new Set(tag === "" ? [] : [tag]) };
    related.set(entityId, w);
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
    const entries = taskType === undefined ? undefined : this.#ofKind(tenant, s, taskType);
    // The strongest alone (every read of a user with a related-keyed rule asks): one pass, no sort.
    if (limit === 1) return this.#strongest(entries ?? s.related, now);
    const out: RelatedEntity[] = [];
    for (const [entityId, w] of entries ?? s.related) out.push({ entityId, weight: this.#decayed(w, now) });
    out.sort((a, b) => b.weight - a.weight || (a.entityId < b.entityId ? -1 : 1));
    return out.slice(0, limit);
  }

  /**
   * The subject's entities of the kind `taskType` is read for (undefined:
   * every one, while nothing is known of the type's kind): those sharing a
   * tag with the type itself, the kinds its reads went through tenant-wide,
   * or the tags of the subject's entities read as it. Which entities qualify
   * changes only as entities come and go and tags are added, not as weights
   * move: it is kept per subject and type, updated as entities come and go
   * (relate, #evictWeakest), and worked out again only when a tag or the
   * tenant's kinds change. Every read of a user with a related-keyed rule asks.
   */
  #ofKind(tenant: string, s: Subject, taskType: string): Array<[string, Weight]> | undefined {
    const cached = s.kinds.get(taskType);
    if (cached !== undefined && cached.kindsVersion === this.#kindsVersion) return cached.entries;
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
    s.kinds.set(taskType, { kindsVersion: this.#kindsVersion, kind: new Set(kind), entries });
    return entries;
  }

  /** related()'s first entry, by the same order (weight, then entity id), without building the list. */
  #strongest(entries: Iterable<[string, Weight]>, now: number): RelatedEntity[] {
    let best: string | undefined;
    let bestWeight = 0;
    for (const [entityId, w] of entries) {
      const weight = this.#decayed(w, now);
      if (best === undefined || weight > bestWeight || (weight === bestWeight && entityId < best)) {
        best = entityId;
        bestWeight = weight;
      }
    }
    return best === undefined ? [] : [{ entityId: best, weight: bestWeight }];
  }

  /** The tags of subject → entity: what made it (empty when not held). */
  tagsOf(tenant: string, subject: string, entityId: string): ReadonlySet<string> {
    return this.#subjects.peek(subjectId(tenant, subject))?.related.get(entityId)?.tags ?? new Set();
  }

  /** Whether subject → entity is held (any weight). */
  has(tenant: string, subject: string, entityId: string): boolean {
    return this.#subjects.peek(subjectId(tenant, subject))?.related.has(entityId) ?? false;
  }

  #decayed(w: Weight, now: number): number {
    return now <= w.at ? w.w : w.w * Math.exp(-this.#rate * (now - w.at));
  }

  #evictWeakest(s: Subject, now: number): void {
    let weakest: string | undefined;
    let min = Number.POSITIVE_INFINITY;
    for (const [id, w] of s.related) {
      const v = this.#decayed(w, now);
      if (v < min) {
        min = v;
        weakest = id;
      }
    }
    if (weakest === undefined) return;
    const gone = s.related.get(weakest)!;
    s.related.delete(weakest);
    for (const [type, f] of s.kinds) {
      // An entity read as the type gave the kind its tags: without it the kind may narrow.
      if (gone.tags.has(type)) s.kinds.delete(type);
      else if (f.entries !== undefined) {
        const i = f.entries.findIndex(([id]) => id === weakest);
        if (i >= 0) f.entries.splice(i, 1);
      }
    }
  }
}

function sharesTag(tags: ReadonlySet<string>, kind: ReadonlySet<string>): boolean {
  for (const t of tags) if (kind.has(t)) return true;
  return false;
}

/** Tenant and subject in one map key; NUL cannot occur in either (both are validated ids). */
const subjectId = (tenant: string, subject: string): string => `${tenant}\u0000${subject}`;
