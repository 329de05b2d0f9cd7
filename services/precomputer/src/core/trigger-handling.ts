import { errorMessage, InvalidArgumentError, mapInSlices, ResourceExhaustedError } from "@prescient/core";
import type { PrecomputerCounters } from "./counters.js";
import { planFanOut, validateEvent } from "./fan-out.js";
import type { FeatureGate } from "./feature-gate.js";
import type { EventKinds, FreshPeekGate } from "./fresh-peek-gate.js";
import type { FreshnessLookup } from "./freshness-lookup.js";
import type { FeatureUpsert, PrecomputerDeps, PrecomputerOptions } from "./precomputer-deps.js";
import type { RareWarnings } from "./rare-warnings.js";
import type { RelatedTargets } from "./related-targets.js";
import type { RuleBook } from "./rule-book.js";
import { groupIds, type QueuedByType, type TaskEnqueuer } from "./task-enqueuer.js";
import type { TriggerPredictions } from "./trigger-predictions.js";
import { type PlannedTask, skipReasons, type TriggerEvent } from "./types.js";

export interface TriggerOutcome {
  queued: QueuedByType[];
  /** Task types skipped because their result was already fresh. */
  skippedFresh: string[];
  /**
   * Model (onnx) task types skipped because their entity has no features:
   * none stored in the executor and none in the call (FeatureGate). Counted
   * as `no_features`; TriggerResponse has no field for it.
   */
  skippedNoFeatures: string[];
}

/**
 * Trigger and TriggerMany: each event fans out by its rule, configured and
 * learned (plus its related and predicted tasks), fresh results are skipped
 * where the rule allows (looked up in full, or sampled for kinds of key that
 * are almost never fresh: FreshPeekGate), model tasks that could only fail for want of
 * features are skipped, and all events' tasks go out in one enqueue, so a
 * batch is all-or-nothing. Every accepted event is passed on to the
 * analyzer, which learns the rules and relations from it.
 */
export class TriggerHandler {
  constructor(
    private readonly deps: Pick<PrecomputerDeps, "upsertFeatures" | "analyzer" | "clock">,
    private readonly ruleBook: RuleBook,
    private readonly related: RelatedTargets,
    private readonly warnings: RareWarnings,
    private readonly options: Pick<PrecomputerOptions, "maxEvents" | "maxTasksPerCall">,
    private readonly predictions: TriggerPredictions,
    private readonly freshness: FreshnessLookup,
    private readonly peeks: FreshPeekGate,
    private readonly enqueuer: TaskEnqueuer,
    private readonly counters: PrecomputerCounters,
    private readonly gate: FeatureGate,
  ) {}

  async trigger(event: TriggerEvent): Promise<TriggerOutcome> {
    const [outcome] = await this.#triggerAll([event], "event");
    return outcome ?? { queued: [], skippedFresh: [], skippedNoFeatures: [] };
  }

  async triggerMany(events: readonly TriggerEvent[]): Promise<TriggerOutcome[]> {
    if (events.length === 0) throw new InvalidArgumentError("events is empty");
    if (events.length > this.options.maxEvents)
      throw new ResourceExhaustedError(
        `${events.length} events in one TriggerMany; the limit is ${this.options.maxEvents}`,
      );
    return this.#triggerAll(events, "events");
  }

  async #triggerAll(events: readonly TriggerEvent[], field: string): Promise<TriggerOutcome[]> {
    const many = field === "events";
    const rules = await this.ruleBook.rulesFor(events);
    // Validating a full batch of features is a long stretch of CPU: in slices, so other calls are served meanwhile.
    await mapInSlices(events, (e, i) => {
      const name = many ? `events[${i}]` : field;
      validateEvent(e, rules[i], name);
      if (rules[i] === undefined && !this.ruleBook.acceptsUnconfigured())
        throw new InvalidArgumentError(
          `${name}.type ${JSON.stringify(e.type.slice(0, 100))} has no rule; configured events: ${this.ruleBook.configuredEvents().join(", ") || "(none)"}`,
        );
    });
    this.#report(events);
    const related = await this.related.resolve(events, rules);
    const fanned = events.map((e, i) => {
      const rule = rules[i];
      return rule === undefined ? [] : planFanOut(e, rule, related[i]);
    });
    // Only events whose rule predicts wait on the analyzer; the rest cost no promise each.
    const predicting: Array<Promise<void>> = [];
    const perEvent = fanned.map((tasks, i) => {
      const rule = rules[i];
      if (rule === undefined || (!rule.predictNextActions && !rule.predictNextKeys)) return tasks;
      const all = [...tasks];
      predicting.push(
        this.predictions.tasksFor(events[i]!, rule, tasks, related[i]).then((p) => {
          all.push(...p);
        }),
      );
      return all;
    });
    if (predicting.length > 0) await Promise.all(predicting);
    const total = perEvent.reduce((n, t) => n + t.length, 0);
    if (total > this.options.maxTasksPerCall)
      throw new ResourceExhaustedError(
        `the events fan out to ${total} tasks; the limit is ${this.options.maxTasksPerCall} per call`,
      );

    // Fresh results are skipped (the rule allows it); the skipped task types are reported per event.
    const checkable: string[] = [];
    const looked: Array<{ task: PlannedTask; kinds: EventKinds | undefined; weight: number }> = [];
    let unlooked = 0;
    const call = this.peeks.beginCall();
    perEvent.forEach((tasks, i) => {
      if (!rules[i]?.skipFresh || tasks.length === 0) return;
      const event = events[i] as TriggerEvent;
      const kinds = this.peeks.kindsOf(event.tenant, event.type, true);
      for (const t of tasks) {
        const weight = this.peeks.shouldLook(kinds, t.taskType, call);
        if (weight === 0) unlooked++;
        else {
          checkable.push(t.key);
          looked.push({ task: t, kinds, weight });
        }
      }
    });
    this.counters.unlooked(unlooked);
    const answered = await this.freshness.freshKeysOrUnknown(checkable, 0);
    if (answered !== undefined)
      for (const { task, kinds, weight } of looked)
        this.peeks.looked(kinds, task.taskType, answered.has(task.key), weight);
    const fresh = answered ?? new Set<string>();
    const skippedFresh: string[][] = perEvent.map(() => []);
    const freshTasks: PlannedTask[] = [];
    const upserts: FeatureUpsert[] = [];
    // Nothing fresh is the usual case for new entities' events: no filtering then.
    const kept =
      fresh.size === 0
        ? perEvent
        : perEvent.map((tasks, i) =>
            tasks.filter((t) => {
              if (!fresh.has(t.key)) return true;
              if (t.features !== undefined) {
                if (this.deps.upsertFeatures === undefined) return true; // keeps the features: see PrecomputerDeps.upsertFeatures
                upserts.push({ tenant: t.tenant, entityId: t.entityId, features: t.features });
              }
              skippedFresh[i]?.push(t.taskType);
              freshTasks.push(t);
              return false;
            }),
          );
    this.counters.skipped(
      skipReasons.fresh,
      skippedFresh.reduce((n, s) => n + s.length, 0),
    );

    // Model tasks whose entity has no features would only be dead-lettered: one question for the whole call.
    const keptAll = joined(kept);
    const lacking = await this.#lackingFeatures(keptAll, upserts);
    const skippedNoFeatures: string[][] = kept.map(() => []);
    const planned =
      lacking.size === 0
        ? kept
        : kept.map((tasks, i) =>
            tasks.filter((t) => {
              if (!lacking.has(t)) return true;
              skippedNoFeatures[i]?.push(t.taskType);
              return false;
            }),
          );
    this.counters.skipped(skipReasons.noFeatures, lacking.size);

    const toEnqueue = planned === kept ? keptAll : joined(planned);
    const ids = await this.enqueuer.enqueue(toEnqueue, upserts);
    // What this call planned (enqueued, or fresh already) serves the reads that follow it.
    const covering = ids.size === toEnqueue.length ? toEnqueue : toEnqueue.filter((t) => ids.has(t));
    this.enqueuer.covers(freshTasks.length === 0 ? covering : [...covering, ...freshTasks]);
    // Tasks without an id were deferred by the budget (predicted work only).
    return planned.map((tasks, i) => ({
      queued: groupIds(tasks, ids),
      skippedFresh: skippedFresh[i] ?? [],
      skippedNoFeatures: skippedNoFeatures[i] ?? [],
    }));
  }

  /**
   * The call's onnx tasks whose entity has no features, stored or carried by
   * the call (an event's, on a task or upserted). When the executor cannot
   * answer, nothing is skipped: the tasks are enqueued as they were before
   * the executor could be asked, and a task without features is
   * dead-lettered, rather than a trigger failing for a question.
   */
  async #lackingFeatures(tasks: readonly PlannedTask[], upserts: readonly FeatureUpsert[]) {
    try {
      return await this.gate.lacking(tasks, upserts);
    } catch (e) {
      this.warnings.warn(
        "features-stored-trigger",
        { err: errorMessage(e) },
        "executor cannot tell which entities have features: triggers enqueue their model tasks unchecked",
      );
      return new Set<PlannedTask>();
    }
  }

  /** Passes the events on to the analyzer to learn from; its failure costs only the learning. */
  #report(events: readonly TriggerEvent[]): void {
    const now = this.deps.clock?.now() ?? Date.now();
    this.deps.analyzer
      .recordEvents(
        events.map((e) => ({
          time: e.time ?? now,
          tenant: e.tenant,
          type: e.type,
          entityId: e.entityId,
          userId: e.userId,
          relatedEntityIds: e.relatedEntityIds ?? [],
        })),
      )
      .catch((err: unknown) =>
        this.warnings.warn(
          "record-events",
          { err: errorMessage(err) },
          "analyzer unavailable: events not learned from",
        ),
      );
  }
}

/** The lists end to end: Array.prototype.flat is generic and, on 600 tasks a call, several times slower. */
function joined<T>(lists: readonly (readonly T[])[]): T[] {
  const out: T[] = [];
  for (const list of lists) for (const x of list) out.push(x);
  return out;
}
