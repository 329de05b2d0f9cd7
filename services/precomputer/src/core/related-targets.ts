import { errorMessage } from "@prescient/core";
import { defaultRelatedLimit, type TriggerRule } from "./config.js";
import type { PrecomputerCounters } from "./counters.js";
import { subjectOf } from "./fan-out.js";
import type { PrecomputerDeps, PrecomputerOptions } from "./precomputer-deps.js";
import type { RareWarnings } from "./rare-warnings.js";
import { analyzerUnavailable } from "./trigger-predictions.js";
import type { TriggerEvent } from "./types.js";
import { withTimeout } from "./with-timeout.js";

/**
 * The entities a rule's `related` targets key by: for each such target, the
 * analyzer's strongest relations of the event's user of the kind the target
 * type is read for (a login's user → the campaigns they manage). Like a
 * prediction, this is a bonus: a slow or failing analyzer costs the event
 * only its related tasks.
 */
export class RelatedTargets {
  constructor(
    private readonly deps: Pick<PrecomputerDeps, "analyzer">,
    private readonly options: Pick<PrecomputerOptions, "predictionTimeoutMs">,
    private readonly counters: PrecomputerCounters,
    private readonly warnings: RareWarnings,
  ) {}

  /** Per event, task type → related entity ids (one shared empty map where no target is `related`). */
  async resolve(
    events: readonly TriggerEvent[],
    rules: readonly (TriggerRule | undefined)[],
  ): Promise<ReadonlyMap<string, readonly string[]>[]> {
    const out = new Array<ReadonlyMap<string, readonly string[]>>(events.length).fill(none);
    // Most events' rules have no related target: they cost no promise or map each.
    const asking: Promise<void>[] = [];
    events.forEach((event, i) => {
      const rule = rules[i];
      if (rule === undefined || !rule.targets.some((t) => t.keyBy === "related")) return;
      asking.push(
        this.#resolve(
          event,
          rule.targets.filter((t) => t.keyBy === "related"),
        ).then((m) => {
          out[i] = m;
        }),
      );
    });
    if (asking.length > 0) await Promise.all(asking);
    return out;
  }

  async #resolve(event: TriggerEvent, targets: TriggerRule["targets"]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    const subject = subjectOf(event, "related");
    try {
      const found = await withTimeout(
        Promise.all(
          targets.map((t) =>
            this.deps.analyzer.relatedEntities({
              tenant: event.tenant,
              subject,
              limit: t.relatedLimit ?? defaultRelatedLimit,
              taskType: t.taskType,
            }),
          ),
        ),
        this.options.predictionTimeoutMs,
        "the analyzer's related entities",
      );
      for (const [j, t] of targets.entries()) out.set(t.taskType, found[j] ?? []);
    } catch (e) {
      this.counters.skipped(analyzerUnavailable);
      this.warnings.warn(
        "related",
        { err: errorMessage(e) },
        "analyzer unavailable: triggers fan out without related entities",
      );
    }
    return out;
  }
}

const none: ReadonlyMap<string, readonly string[]> = new Map();
