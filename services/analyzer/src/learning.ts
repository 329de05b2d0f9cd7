import {
  canonicalKey,
  errorMessage,
  InvalidArgumentError,
  validateEntityId,
  validateTaskTypeName,
  validateTenant,
} from "@prescient/core";
import { type DomainEvent, type DomainEventInput, validateDomainEvent } from "./core/domain-events.js";
import { EntityRelations, type RelatedEntity } from "./core/entity-relations.js";
import type { ActionEvent, EventLimits, IngestResult, QueryEvent } from "./core/events.js";
import { FanOutLearner, type LearnedRule } from "./core/fan-out-learner.js";
import { type LearningSnapshot, learningSnapshotVersion } from "./core/learning-snapshot.js";
import { SuccessorChains } from "./core/successor-chains.js";
import { UserNamingTenants } from "./core/user-naming-tenants.js";
import type { AnalyzerSettings } from "./settings.js";

/** Where next-read predictions go: each key as it is found, then how many one read offered. */
export interface NextReadOffers {
  offer(key: string, confidence: number): void;
  /** The least confidence worth offering (the readahead taker's floor): less is not looked for. */
  floor(): number;
  offered(count: number): void;
}

/** Changed tenants tracked one by one; past this many, the next snapshot takes every tenant. */
const maxDirtyTenants = 10_000;

/**
 * What the analyzer learns about events and entities: which reads follow
 * which event (learned fan-out rules) and which entities relate to which
 * users and entities. Events arrive from the precomputer, reads from the
 * cache's query log, explicit relations on both and on actions.
 */
export class Learning {
  readonly relations: EntityRelations;
  readonly learner: FanOutLearner;
  /** What users read next after their own reads and actions (events named by the read type or action). */
  readonly nextReads: FanOutLearner;
  /** Which key each key is read after (fed by ingestion from the sequences' transitions). */
  readonly chains: SuccessorChains;
  readonly #settings: AnalyzerSettings;
  /** Which tenants' reads name their user: only the others' reads are learned through relations. */
  readonly #naming: UserNamingTenants;
  readonly #offer: NextReadOffers;
  /** Tenants whose learned state changed since their last snapshot (bounded: past it, all are saved). */
  readonly #dirty = new Set<string>();
  #allDirty = false;
  /** The tenant last marked: traffic comes in runs of one tenant, and a Set lookup per read is not free. */
  #lastDirty: string | undefined;
  /**
   * Tenants restored and not changed since: a save of every tenant leaves
   * them out, as their record is already what they hold (and, in a ring, the
   * tenant's owner may have saved a newer one since).
   */
  readonly #restoredOnly = new Set<string>();

  /** `offer` queues predicted keys for the precomputer (TakeReadAhead hands them out). */
  constructor(settings: AnalyzerSettings, offer: NextReadOffers) {
    this.#settings = settings;
    this.#offer = offer;
    this.relations = new EntityRelations(settings.relations);
    this.learner = new FanOutLearner(this.relations, settings.fanOut);
    this.nextReads = new FanOutLearner(this.relations, settings.nextReads);
    this.#naming = new UserNamingTenants(this.learner.options.maxEventTypes, this.learner.options.halfLifeMs);
    this.chains = new SuccessorChains(
      {
        sources: settings.successorSourceCapacity,
        perSource: settings.successorsPerKey,
        halfLifeMs: settings.successorHalfLifeMs,
      },
      settings.successorChains,
    );
  }

  /** Validates and learns from domain events; rejections are reported as ingest rejections. */
  recordEvents(inputs: readonly DomainEventInput[], result: IngestResult, limits: EventLimits): void {
    if (inputs.length > this.#settings.maxEventsPerMessage)
      throw new InvalidArgumentError(
        `${inputs.length} events in one call; the limit is ${this.#settings.maxEventsPerMessage}`,
      );
    for (const [i, input] of inputs.entries()) {
      const v = validateDomainEvent(input, limits);
      if (!v.ok) {
        result.rejected++;
        if (result.rejections.length < this.#settings.maxRejectionsReported)
          result.rejections.push({ index: i, reason: v.reason });
        continue;
      }
      this.#event(v.event);
      result.accepted++;
    }
  }

  /** Reads, validated, in time order: they credit the events they follow and relate users to what they read. */
  observeQueries(events: readonly QueryEvent[]): void {
    for (const e of events) {
      // Marked for every read: the successor chains learn input-addressed keys too.
      if (e.tenant !== this.#lastDirty) this.#touched(e.tenant);
      if (e.entityId.startsWith("#")) continue; // input-addressed: no entity to relate or key by
      this.learner.observeRead(e.tenant, e.taskType, e.entityId, e.userId, e.time);
      if (e.userId === "") {
        if (!this.#naming.namesUsers(e.tenant, e.time)) this.#readThroughRelations(e);
        continue;
      }
      this.#naming.named(e.tenant, e.time);
      this.nextReads.observeRead(e.tenant, e.taskType, e.entityId, e.userId, e.time);
      if (e.userId !== e.entityId) {
        this.relations.learnKind(e.tenant, e.userId, e.entityId, e.taskType);
        this.relations.relate(e.tenant, e.userId, e.entityId, e.time, e.taskType);
      }
      this.#acted(e.tenant, e.userId, e.taskType, e.time);
    }
  }

  /**
   * A read that names no user, of a tenant whose reads never do (backends
   * that pass none), is still of an entity someone created or read:
   * through those subjects it credits their own events' related-keyed reads (a
   * login, then a read of the analytics of a campaign the user created) and
   * marks the kind of entity its type is read for, as the user's own read
   * would. It relates no one to anything.
   */
  #readThroughRelations(e: QueryEvent): void {
    for (const subject of this.relations.subjectsOf(e.tenant, e.entityId)) {
      this.relations.learnKind(e.tenant, subject, e.entityId, e.taskType);
      this.learner.observeReadThrough(e.tenant, e.taskType, e.entityId, subject, e.time);
    }
  }

  observeActions(events: readonly ActionEvent[]): void {
    for (const e of events) {
      if (e.tenant !== this.#lastDirty) this.#touched(e.tenant);
      for (const r of e.relatedEntityIds ?? [])
        this.relations.relate(e.tenant, e.userId, r, e.time, e.action);
      this.#acted(e.tenant, e.userId, e.action, e.time);
    }
  }

  /**
   * A user read or did something: it awaits what they read next, and what
   * they are learned to read next after it is offered as predicted keys,
   * keyed by the user or by their related entities of the type's kind. A
   * target's probability is that of a read of its type keyed that way; a
   * related key's confidence is that times the entity's share of the
   * relations of the type's kind (the chance the read is of that entity),
   * for each of the `nextReadsRelatedLimit` strongest, so the precomputer
   * weighs each key by the chance that it is the one read.
   */
  #acted(tenant: string, userId: string, act: string, time: number): void {
    // Undefined also when the same act came less than the learner's minimum delay before: what
    // it predicted is offered already.
    const ranked = this.nextReads.observeAct(tenant, act, userId, time);
    if (ranked === undefined) return;
    // A key less likely to be read than a target must be to be learned at all is not offered, nor
    // one below what the readahead's taker computes: the queue is bounded, and a flood of long shots
    // would push out likely keys. A target below the taker's floor is not looked at: its keys'
    // confidences are its probability times shares, so none of them can reach it.
    const takerFloor = this.#offer.floor();
    const floor = Math.max(this.nextReads.options.minShare, takerFloor);
    const limit = this.#settings.nextReadsRelatedLimit;
    let offered = 0;
    // Every part was validated on its way in (the read's tenant and type, the user, a related
    // entity): the key is put together, not checked again for each of the offers. Offered one by
    // one, as they are found: nearly every read of a user offers some, and a list of them per read
    // was a tenth of what ingestion allocated.
    for (let i = 0; i < ranked.length; i++) {
      const t = ranked[i]!;
      if (t.probability < takerFloor) continue;
      if (t.keyBy === "user") {
        this.#offer.offer(canonicalKey(tenant, t.taskType, userId), t.probability);
        offered++;
      } else if (t.keyBy === "related") {
        const shares = this.relations.topShares(tenant, userId, limit, t.taskType);
        for (let j = 0; j < shares.length; j++) {
          const confidence = t.probability * shares[j]!.share;
          if (confidence < floor) break; // strongest first: the rest are less likely still
          this.#offer.offer(shares[j]!.key, confidence);
          offered++;
        }
      }
    }
    if (offered > 0) this.#offer.offered(offered);
  }

  /**
   * Snapshots of the tenants whose learned state changed since they were
   * last taken (of every tenant, after more than `maxDirtyTenants` changed),
   * each with at most `learningSnapshotMaxRelations` relations. They count
   * as saved once taken: `changed` puts back those the store then failed to
   * take. With `only`, just the changed tenants it accepts are taken; the
   * others stay owed.
   */
  snapshots(only?: (tenant: string) => boolean): Array<{ tenant: string; snapshot: LearningSnapshot }> {
    const tenants = this.#allDirty ? this.#allTenants() : new Set(this.#dirty);
    for (const t of this.#restoredOnly) tenants.delete(t);
    this.#dirty.clear();
    this.#allDirty = false;
    this.#lastDirty = undefined;
    if (only !== undefined) {
      const owed = [...tenants].filter((t) => !only(t));
      for (const t of owed) tenants.delete(t);
      this.changed(owed);
    }
    if (tenants.size === 0) return [];
    const fanOut = this.learner.exportTenants(tenants);
    const nextReads = this.nextReads.exportTenants(tenants);
    const relations = this.relations.exportTenants(tenants, this.#settings.learningSnapshotMaxRelations);
    const chains = this.chains.exportTenants(tenants);
    return [...tenants].sort().map((tenant) => {
      const namedAt = this.#naming.lastNamed(tenant);
      return {
        tenant,
        snapshot: {
          v: learningSnapshotVersion,
          fanOut: fanOut.get(tenant) ?? [],
          nextReads: nextReads.get(tenant) ?? [],
          relations: relations.get(tenant) ?? { subjects: [], kinds: [] },
          chains: chains.get(tenant) ?? [],
          ...(namedAt !== undefined ? { namedAt } : {}),
        },
      };
    });
  }

  /** Marks tenants changed again (their snapshot was not saved). */
  changed(tenants: Iterable<string>): void {
    for (const t of tenants) this.#touched(t);
  }

  /**
   * Replaces what these tenants' state is by their saved snapshots: a ring
   * replica taking tenants over holds, for them, at best the copy it
   * restored when it started, and restore() would keep that copy's entries
   * over the newer ones saved since by the replica that owned them.
   */
  replace(records: ReadonlyArray<{ tenant: string; snapshot: LearningSnapshot }>): void {
    const tenants = new Set(records.map((r) => r.tenant));
    this.relations.dropTenants(tenants);
    this.learner.dropTenants(tenants);
    this.nextReads.dropTenants(tenants);
    this.chains.dropTenants(tenants);
    this.#naming.drop(tenants);
    for (const r of records) this.restore(r.tenant, r.snapshot);
  }

  /** Restores a tenant's saved state under that tenant; what this process learned since it started wins. */
  restore(tenant: string, s: LearningSnapshot): void {
    this.relations.importTenant(tenant, s.relations);
    this.learner.importTenant(tenant, s.fanOut);
    this.nextReads.importTenant(tenant, s.nextReads);
    this.chains.importTenant(tenant, s.chains);
    if (s.namedAt !== undefined) this.#naming.restore(tenant, s.namedAt);
    this.#restoredOnly.add(tenant);
  }

  #touched(tenant: string): void {
    this.#lastDirty = tenant;
    if (this.#restoredOnly.size > 0) this.#restoredOnly.delete(tenant);
    if (this.#allDirty) return;
    this.#dirty.add(tenant);
    if (this.#dirty.size > maxDirtyTenants) {
      this.#allDirty = true;
      this.#dirty.clear();
    }
  }

  #allTenants(): Set<string> {
    const all = new Set<string>();
    this.relations.tenants(all);
    this.learner.tenants(all);
    this.nextReads.tenants(all);
    this.chains.tenants(all);
    return all;
  }

  rules(tenant?: string): LearnedRule[] {
    if (tenant !== undefined && tenant !== "") validateTenant(tenant);
    return this.learner.rules(this.#settings.clock.now(), tenant === "" ? undefined : tenant);
  }

  related(tenant: string, subject: string, limit: number, taskType?: string): RelatedEntity[] {
    validateTenant(tenant);
    try {
      validateEntityId(subject);
    } catch (e) {
      throw new InvalidArgumentError(errorMessage(e).replace(/^entity_id/, "subject"));
    }
    if (taskType !== undefined) validateTaskTypeName(taskType);
    if (!Number.isInteger(limit) || limit < 0 || limit > 1000)
      throw new InvalidArgumentError("limit must be from 0 to 1000; 0 takes 10");
    return this.relations.related(
      tenant,
      subject,
      limit === 0 ? 10 : limit,
      this.#settings.clock.now(),
      taskType,
    );
  }

  /** Rules `rules()` would list now, counted without building them (for the metrics). */
  ruleCount(): number {
    return this.learner.ruleCount(this.#settings.clock.now());
  }

  #event(e: DomainEvent): void {
    if (e.tenant !== this.#lastDirty) this.#touched(e.tenant);
    this.learner.observeEvent(e.tenant, e.type, e.entityId, e.userId, e.time);
    if (e.userId !== "" && e.entityId !== "")
      this.relations.relate(e.tenant, e.userId, e.entityId, e.time, e.type);
    for (const r of e.relatedEntityIds) {
      if (e.userId !== "") this.relations.relate(e.tenant, e.userId, r, e.time, e.type);
      if (e.entityId !== "" && e.entityId !== e.userId)
        this.relations.relate(e.tenant, e.entityId, r, e.time, e.type);
    }
  }
}
