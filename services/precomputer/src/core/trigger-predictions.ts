import { errorMessage } from "@prescient/core";
import type { PrecomputerConfig, TriggerRule } from "./config.js";
import type { PrecomputerCounters } from "./counters.js";
import { subjectOf } from "./fan-out.js";
import type { PrecomputerDeps, PrecomputerOptions } from "./precomputer-deps.js";
import { planPredicted, relatedTargetsOf } from "./predicted.js";
import type { RareWarnings } from "./rare-warnings.js";
import type { PlannedTask, TriggerEvent } from "./types.js";
import { withTimeout } from "./with-timeout.js";

/** Skip reason when the analyzer did not answer a trigger's prediction in time. */
export const analyzerUnavailable = "analyzer_unavailable";

/**
 * Predicted precompute on a trigger: asks the analyzer what the event's user
 * will do next (and, for actions configured `key_by: related`, which
 * entities the user relates to) and which keys follow the fanned-out ones,
 * and plans those tasks too. A prediction is a bonus, so a slow or failing
 * analyzer costs the trigger only its predicted tasks, never the trigger.
 */
export class TriggerPredictions {
  constructor(
    private readonly deps: Pick<PrecomputerDeps, "analyzer">,
    private readonly config: PrecomputerConfig,
    private readonly options: Pick<PrecomputerOptions, "predictionTimeoutMs">,
    private readonly isTaskType: (name: string) => boolean,
    private readonly counters: PrecomputerCounters,
    private readonly warnings: RareWarnings,
  ) {}

  /**
   * The predicted-action and next-key tasks of one event, or none when the
   * analyzer is slow or down. `related`: the user's related entities the
   * rule's own `related` targets resolved (RelatedTargets), reused rather
   * than asked for again.
   */
  async tasksFor(
    event: TriggerEvent,
    rule: TriggerRule,
    fanned: readonly PlannedTask[],
    related: ReadonlyMap<string, readonly string[]> = new Map(),
  ): Promise<PlannedTask[]> {
    if (!rule.predictNextActions && !rule.predictNextKeys) return [];
    const s = this.config.predicted;
    const user = event.userId !== "" ? event.userId : subjectOf(event, "entity");
    try {
      const [actions, keys] = await withTimeout(
        Promise.all([
          rule.predictNextActions && event.userId !== ""
            ? this.#actions(event.tenant, event.userId, rule, related)
            : Promise.resolve({ actions: [], related: new Map<string, readonly string[]>() }),
          rule.predictNextKeys
            ? Promise.all(fanned.map((t) => this.deps.analyzer.predictNextKeys(t.key, s.limit))).then((k) =>
                k.flat(),
              )
            : Promise.resolve([]),
        ]),
        this.options.predictionTimeoutMs,
        "the analyzer's predictions",
      );
      const plan = planPredicted(
        {
          tenant: event.tenant,
          subject: user,
          actions: actions.actions,
          keys,
          ruleTypes: new Set(rule.targets.map((t) => t.taskType)),
          related: actions.related,
        },
        s,
        this.config.rules,
        this.isTaskType,
      );
      this.counters.skippedAll(plan.skipped);
      const already = new Set(fanned.map((t) => t.key));
      return plan.tasks.filter((t) => !already.has(t.key));
    } catch (e) {
      this.counters.skipped(analyzerUnavailable);
      this.warnings.warn(
        "predict",
        { err: errorMessage(e) },
        "analyzer unavailable: triggers fan out without predicted actions",
      );
      return [];
    }
  }

  /**
   * The user's likely next actions, and the related entities their configured
   * `related` targets key by: the rule's where it resolved as many of the
   * type (the login's campaigns, for a likely view_campaign), else the analyzer's.
   */
  async #actions(
    tenant: string,
    userId: string,
    rule: TriggerRule,
    known: ReadonlyMap<string, readonly string[]>,
  ) {
    const s = this.config.predicted;
    const actions = await this.deps.analyzer.predictNextActions({ tenant, userId, limit: s.limit });
    const related = new Map<string, readonly string[]>();
    // What the rule resolved already, where it resolved as many; the rest is asked of the analyzer.
    const asked: ReturnType<typeof relatedTargetsOf> = [];
    for (const t of relatedTargetsOf(actions, s)) {
      const ids = known.get(t.taskType);
      const resolved = rule.targets.find((r) => r.keyBy === "related" && r.taskType === t.taskType);
      if (ids === undefined || (resolved?.relatedLimit ?? 0) < t.relatedLimit) asked.push(t);
      else related.set(t.taskType, ids);
    }
    const found = await Promise.all(
      asked.map((t) =>
        this.deps.analyzer.relatedEntities({
          tenant,
          subject: userId,
          limit: t.relatedLimit,
          taskType: t.taskType,
        }),
      ),
    );
    for (const [i, t] of asked.entries()) related.set(t.taskType, found[i] ?? []);
    return { actions, related };
  }
}
